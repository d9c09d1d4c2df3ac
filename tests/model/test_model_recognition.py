"""Recognition (Sec. 3.2): scores, Eq. 1 and Eq. 2 against NumPy; gradient paths."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import pytest
import tensorflow as tf

import model_test_helpers as h
from svlr_tf.model import (ClassVectors, attribute_loss, class_embeddings,
                           object_margin_loss, recognition_scores)


def np_object_loss(scores, targets, margin):
  """Eq. 1 written pair by pair."""
  m, o = scores.shape
  total = 0.0
  for j in range(m):
    positives = np.flatnonzero(targets[j] > 0.5)
    negatives = np.flatnonzero(targets[j] <= 0.5)
    row = 0.0
    for l in positives:
      row += sum(max(0.0, margin + scores[j, k] - scores[j, l])
                 for k in negatives) / o
    if len(positives):
      total += row / len(positives)
  return total / m


def np_attribute_loss(scores, targets):
  """Eq. 2 with the minus sign of a loss."""
  gamma = targets.mean(0)
  sigma = 1 / (1 + np.exp(-scores))
  terms = (targets * (1 - gamma) * np.log(sigma)
           + (1 - targets) * gamma * np.log(1 - sigma))
  return -terms.sum(1).mean()


@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_object_margin_loss_matches_pairwise_numpy(margin):
  rng = np.random.default_rng(0)
  scores = rng.normal(scale=1.5, size=(6, 9))
  targets = (rng.random((6, 9)) < 0.3).astype(np.float32)
  targets[0] = 0      # no positive
  targets[1] = 1      # no negative
  targets[2, :] = 0
  targets[2, 4] = 1   # a single positive
  scores[3, 1] = scores[3, 2]  # a tie
  got = float(object_margin_loss(scores.astype(np.float32), targets, margin))
  assert got == pytest.approx(np_object_loss(scores, targets, margin), rel=1e-5)


def test_object_margin_loss_gradient_matches_pairwise_form():
  rng = np.random.default_rng(1)
  scores = tf.constant(rng.normal(size=(4, 7)), tf.float32)
  targets = (rng.random((4, 7)) < 0.4).astype(np.float32)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(scores)
    fast = object_margin_loss(scores, targets)
    pos = targets[:, :, None]          # l
    neg = 1 - targets[:, None, :]      # k
    hinge = tf.nn.relu(1.0 + scores[:, None, :] - scores[:, :, None])
    per_row = tf.reduce_sum(hinge * pos * neg, [1, 2]) / (
        np.maximum(targets.sum(1), 1) * 7)
    slow = tf.reduce_mean(per_row)
  np.testing.assert_allclose(tape.gradient(fast, scores),
                             tape.gradient(slow, scores), atol=1e-6)


def test_attribute_loss_matches_numpy_and_is_finite():
  rng = np.random.default_rng(2)
  scores = rng.normal(scale=2, size=(5, 6))
  targets = (rng.random((5, 6)) < 0.4).astype(np.float32)
  targets[:, 0] = 0
  targets[:, 1] = 1
  got = float(attribute_loss(scores.astype(np.float32), targets))
  assert got == pytest.approx(np_attribute_loss(scores, targets), rel=1e-5)
  assert got > 0
  # Huge logits and one-class batches stay finite, and so does the gradient.
  big = tf.constant(np.full((3, 6), 200.0, np.float32))
  with tf.GradientTape() as tape:
    tape.watch(big)
    loss = attribute_loss(big, np.zeros((3, 6), np.float32))
  assert np.isfinite(float(loss))
  assert np.all(np.isfinite(tape.gradient(loss, big)))


def test_recognition_scores_and_multi_word_classes():
  model = h.make_model()
  rng = np.random.default_rng(3)
  features = rng.normal(size=(3, 9)).astype(np.float16)
  object_scores, attribute_scores = model.recognition_scores(features)
  assert object_scores.shape == (3, 6) and attribute_scores.shape == (3, 4)
  words = np.asarray(model.object_class_words)
  g = h.np_word_embedding(model.word_embedding, words)   # [O, 2, E]
  classes = h.np_mean_words(g, words)                    # mean over a name's words
  np.testing.assert_allclose(
      np.asarray(class_embeddings(model.word_embedding, words)), classes,
      atol=1e-5)
  regions = h.np_region_embedding(model.object_embedding, features)
  np.testing.assert_allclose(object_scores, regions @ classes.T, atol=1e-4)
  # Open vocabulary: any word list scores with the same inner products.
  np.testing.assert_allclose(
      recognition_scores(np.asarray(regions, np.float32),
                         np.asarray(classes, np.float32)),
      object_scores, atol=1e-4)


def test_class_vectors_layer():
  layer = ClassVectors(5, 3)
  layer.build(None)
  h_y = np.asarray(layer())
  assert h_y.shape == (5, 3) and np.abs(h_y).max() <= np.sqrt(6 / 8) + 1e-6
  assert len(layer.trainable_weights) == 1
  assert ClassVectors.from_config(layer.get_config()).get_config() == (
      layer.get_config())


def _gradient_reach(model, loss_name):
  rng = np.random.default_rng(4)
  batch = {"recognition": h.make_recognition_batch(rng, model.model_config)}
  with tf.GradientTape() as tape:
    losses = model.compute_losses(batch, {"alpha_ans": 0.0, "alpha_obj": 1.0,
                                          "alpha_atr": 1.0})
  variables = {
      "g": model.word_embedding.trainable_variables,
      "f_o": model.object_embedding.trainable_variables,
      "f_a": model.attribute_embedding.trainable_variables,
  }
  grads = tape.gradient(losses[loss_name], variables)
  return {name: any(g is not None and float(tf.reduce_max(tf.abs(g))) > 0
                    for g in gs) for name, gs in grads.items()}


def test_object_loss_reaches_f_o_and_g_not_f_a():
  assert _gradient_reach(h.make_model(), "loss_obj") == {
      "g": True, "f_o": True, "f_a": False}


def test_attribute_loss_reaches_f_a_and_g_not_f_o():
  assert _gradient_reach(h.make_model(), "loss_atr") == {
      "g": True, "f_o": False, "f_a": True}
