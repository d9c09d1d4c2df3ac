"""The Language Only baseline: the VQA model with the image removed (f(I) = 0)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import tensorflow as tf

import model_test_helpers as h
from svlr_tf.config import LossConfig, experiment_config


def _vqa(model, seed=0):
  return h.make_vqa_batch(np.random.default_rng(seed), model.model_config)


def test_scores_do_not_depend_on_the_image():
  model = h.make_model(use_image=False)
  batch = _vqa(model)
  other = dict(batch, image_features=np.random.default_rng(9).normal(
      size=batch["image_features"].shape).astype(np.float16) * 5,
               region_mask=np.ones_like(batch["region_mask"]))
  for training in (False, True):
    a, attention = model.vqa_scores(batch, training=training)
    b, _ = model.vqa_scores(other, training=training)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  # a(R) is uniform over each image's valid regions.
  attention = np.asarray(attention)
  counts = batch["region_mask"].sum(-1)
  expected = batch["region_mask"] / counts[:, None]
  np.testing.assert_allclose(attention, np.broadcast_to(
      expected[:, None], attention.shape), rtol=1e-6)


def test_scores_depend_on_question_and_answer():
  model = h.make_model(use_image=False)
  batch = _vqa(model)
  scores = np.asarray(model.vqa_scores(batch)[0])
  changed = dict(batch, question_bins=_vqa(model, seed=3)["question_bins"])
  assert np.abs(scores - np.asarray(model.vqa_scores(changed)[0])).max() > 1e-5
  # Different choices (different words) get different scores.
  assert np.abs(scores[:, 0] - scores[:, 1]).max() > 1e-5


def test_with_the_image_the_scores_do_depend_on_it():
  """The check above could not pass by accident: the VQA Only model sees it."""
  model = h.make_model()
  batch = _vqa(model)
  other = dict(batch, image_features=batch["image_features"] * 3)
  a, _ = model.vqa_scores(batch)
  b, _ = model.vqa_scores(other)
  assert np.abs(np.asarray(a) - np.asarray(b)).max() > 1e-4


def test_the_region_networks_get_no_gradient():
  model = h.make_model(use_image=False)
  batch = {"vqa": _vqa(model)}
  with tf.GradientTape() as tape:
    loss = model.compute_losses(batch, LossConfig(alpha_obj=0, alpha_atr=0))[
        "loss_ans"]
  regions = (model.object_embedding.trainable_variables
             + model.attribute_embedding.trainable_variables)
  grads = tape.gradient(loss, regions + model.word_embedding.trainable_variables)
  assert all(g is None for g in grads[:len(regions)])
  assert any(g is not None and float(tf.reduce_max(tf.abs(g))) > 0
             for g in grads[len(regions):])


def test_language_only_experiment_is_vqa_only_without_the_image():
  language = experiment_config("language_only").to_dict()
  vqa = experiment_config("vqa_only").to_dict()
  assert language["model"]["use_image"] is False and vqa["model"]["use_image"]
  language["model"]["use_image"] = True
  language["name"] = vqa["name"]
  assert language == vqa
