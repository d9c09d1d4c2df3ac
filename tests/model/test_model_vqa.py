"""VQA (Sec. 3.3): Eq. 3-8 against a plain NumPy model; masks; gradient paths."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import pytest
import tensorflow as tf

import model_test_helpers as h
from svlr_tf.model import (BimodalScorer, answer_margin_loss,
                           answer_representation, attention_logits,
                           attention_scores, image_representation,
                           max_alignment, pool_alignments,
                           question_representation)


def np_vqa(model, batch, training=False):
  """The whole VQA model of Sec. 3.3 in NumPy, question by question."""
  g = lambda ids: h.np_word_embedding(model.word_embedding, ids)
  mask = batch["region_mask"]
  obj = h.np_region_embedding(model.object_embedding, batch["image_features"],
                              training, mask)
  atr = h.np_region_embedding(model.attribute_embedding,
                              batch["image_features"], training, mask)
  object_classes = h.np_mean_words(g(np.asarray(model.object_class_words)),
                                   np.asarray(model.object_class_words))
  attribute_classes = h.np_mean_words(
      g(np.asarray(model.attribute_class_words)),
      np.asarray(model.attribute_class_words))
  p, c, _ = batch["choice_words"].shape
  attention = np.zeros(mask.shape[:1] + (c,) + mask.shape[1:])
  images, questions, answers = [], [], []
  for j in range(p):
    valid = mask[j]
    scores = np.concatenate([obj[j] @ object_classes.T,
                             atr[j] @ attribute_classes.T], axis=1)
    q_bins = [h.np_mean_words(g(b), b) for b in batch["question_bins"][j]]
    for i in range(c):
      qn, qa = batch["question_nouns"][j], batch["question_adjectives"][j]
      an, aa = batch["choice_nouns"][j, i], batch["choice_adjectives"][j, i]
      logits = h.np_grounding(obj[j], atr[j], [(g(qn), qn), (g(an), an)],
                              [(g(qa), qa), (g(aa), aa)])
      a = h.np_softmax_masked(logits, valid)
      attention[j, i] = a
      images.append(a @ scores)                                   # Eq. 5
      questions.append(np.concatenate(q_bins))
      words = batch["choice_words"][j, i]
      answers.append(h.np_mean_words(g(words), words))
  scorer = model.bimodal_scorer
  w1, w2, w3 = [np.asarray(w, np.float64) for w in (
      scorer.image_kernel, scorer.language_kernel, scorer.score_kernel)]
  beta = (h.np_batch_norm(np.array(images) @ w1, scorer.image_norm, training)
          + h.np_batch_norm(np.concatenate([questions, answers], 1) @ w2,
                            scorer.language_norm, training))      # Eq. 6
  scores = (h.np_relu(beta) @ w3).reshape(p, c)                   # Eq. 7
  return scores, attention


def _perturb_batch_norms(model, rng):
  for layer in model._flatten_layers():
    if layer.__class__.__name__ == "BatchNormalization":
      gamma, beta, mean, var = layer.get_weights()
      layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape),
                         rng.normal(size=beta.shape), rng.normal(size=mean.shape),
                         rng.uniform(0.5, 2, var.shape)])


@pytest.mark.parametrize("training", [False, True])
def test_vqa_scores_match_numpy_model(training):
  rng = np.random.default_rng(0)
  model = h.make_model()
  _perturb_batch_norms(model, rng)
  batch = h.make_vqa_batch(rng, model.model_config)
  expected_scores, expected_attention = np_vqa(model, batch, training)
  scores, attention = model.vqa_scores(batch, training=training)
  assert scores.shape == (3, 5) and attention.shape == (3, 5, 4)
  np.testing.assert_allclose(attention, expected_attention, atol=2e-4)
  np.testing.assert_allclose(scores, expected_scores, rtol=2e-3, atol=2e-3)
  attention = np.asarray(attention)
  # Padded regions get exactly 0; a single-region image gets all of it.
  assert np.all(attention[~np.broadcast_to(batch["region_mask"][:, None],
                                           attention.shape)] == 0)
  np.testing.assert_allclose(attention[0, :, 0], 1.0, atol=1e-6)
  np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)


def test_attention_pools_question_and_answer_words_and_handles_empty_sets():
  rng = np.random.default_rng(1)
  regions_o = rng.normal(size=(1, 3, 4)).astype(np.float32)
  regions_a = rng.normal(size=(1, 3, 4)).astype(np.float32)
  q_nouns = rng.normal(size=(1, 1, 2, 4)).astype(np.float32)
  a_nouns = rng.normal(size=(1, 2, 2, 4)).astype(np.float32)
  a_adjs = rng.normal(size=(1, 2, 2, 4)).astype(np.float32)
  q_noun_mask = np.array([[[True, False]]])
  a_noun_mask = np.array([[[True, True], [False, False]]])
  a_adj_mask = np.array([[[True, False], [False, False]]])     # choice 1: none
  q_adj_mask = np.zeros((1, 1, 2), bool)                       # question: none
  nouns = pool_alignments(max_alignment(regions_o, q_nouns, q_noun_mask),
                          max_alignment(regions_o, a_nouns, a_noun_mask))
  adjectives = pool_alignments(
      max_alignment(regions_a, a_adjs[:, :1], q_adj_mask),
      max_alignment(regions_a, a_adjs, a_adj_mask))
  logits = np.asarray(attention_logits(nouns, adjectives))
  ro, ra = regions_o[0], regions_a[0]
  choice0 = (np.max(ro @ np.stack([q_nouns[0, 0, 0], a_nouns[0, 0, 0],
                                   a_nouns[0, 0, 1]]).T, axis=1)
             + ra @ a_adjs[0, 0, 0])
  choice1 = ro @ q_nouns[0, 0, 0]               # no adjective: adds 0
  np.testing.assert_allclose(logits[0, 0], choice0, atol=1e-5)
  np.testing.assert_allclose(logits[0, 1], choice1, atol=1e-5)
  # Both sets empty: a' = 0, attention uniform over the valid regions.
  empty = (np.zeros((1, 1, 3), np.float32), np.zeros((1, 1), bool))
  none = attention_logits(empty, empty)
  weights = np.asarray(attention_scores(none, np.array([[True, True, False]])))
  np.testing.assert_allclose(weights[0, 0], [0.5, 0.5, 0.0])


def test_image_question_answer_representations():
  rng = np.random.default_rng(2)
  attention = rng.random((2, 3, 4)).astype(np.float32)
  class_scores = rng.normal(size=(2, 4, 5)).astype(np.float32)
  np.testing.assert_allclose(
      image_representation(attention, class_scores),
      np.einsum("pck,pkn->pcn", attention, class_scores), atol=1e-5)
  bins = rng.normal(size=(2, 4, 3, 5)).astype(np.float32)
  ids = np.array([[[1, 2, 0], [3, 0, 0], [0, 0, 0], [4, 5, 6]]] * 2)
  q = np.asarray(question_representation(bins, ids))
  assert q.shape == (2, 20)
  np.testing.assert_allclose(q[0, :5], bins[0, 0, :2].mean(0), atol=1e-6)
  np.testing.assert_allclose(q[0, 10:15], 0)                  # empty bin
  np.testing.assert_allclose(q[1, 15:], bins[1, 3].mean(0), atol=1e-6)
  answers = rng.normal(size=(2, 3, 2, 5)).astype(np.float32)
  answer_ids = np.array([[[1, 0], [1, 1], [0, 0]]] * 2)
  a = np.asarray(answer_representation(answers, answer_ids))
  np.testing.assert_allclose(a[0, 0], answers[0, 0, 0], atol=1e-6)
  np.testing.assert_allclose(a[0, 1], answers[0, 1].mean(0), atol=1e-6)
  np.testing.assert_allclose(a[0, 2], 0)


def test_bimodal_scorer_matches_numpy_and_config_round_trip():
  rng = np.random.default_rng(3)
  scorer = BimodalScorer(6)
  image = rng.normal(size=(2, 3, 5)).astype(np.float32)
  question = rng.normal(size=(2, 8)).astype(np.float32)
  answer = rng.normal(size=(2, 3, 2)).astype(np.float32)
  out = np.asarray(scorer(image, question, answer, training=True))
  w1, w2, w3 = [np.asarray(w) for w in (scorer.image_kernel,
                                        scorer.language_kernel,
                                        scorer.score_kernel)]
  assert w1.shape == (5, 6) and w2.shape == (10, 6) and w3.shape == (6, 1)
  language = np.concatenate([np.repeat(question[:, None], 3, 1), answer], -1)
  beta = (h.np_batch_norm(image.reshape(6, 5) @ w1, scorer.image_norm, True)
          + h.np_batch_norm(language.reshape(6, 10) @ w2,
                            scorer.language_norm, True))
  np.testing.assert_allclose(out, (h.np_relu(beta) @ w3).reshape(2, 3),
                             atol=1e-4)
  clone = BimodalScorer.from_config(scorer.get_config())
  assert clone.get_config() == scorer.get_config()


def test_answer_margin_loss_matches_numpy():
  rng = np.random.default_rng(4)
  scores = rng.normal(size=(4, 6)).astype(np.float32)
  labels = np.array([0, 5, 2, 2], np.int32)
  expected = np.mean([
      sum(max(0, 0.5 + scores[j, i] - scores[j, labels[j]])
          for i in range(6) if i != labels[j]) / 5 for j in range(4)])
  got = float(answer_margin_loss(scores, labels, margin=0.5))
  assert got == pytest.approx(expected, rel=1e-5)
  weighted = float(answer_margin_loss(scores, labels, 0.5,
                                      sample_weight=[1, 1, 0, 0]))
  assert weighted == pytest.approx(np.mean([
      sum(max(0, 0.5 + scores[j, i] - scores[j, labels[j]])
          for i in range(6) if i != labels[j]) / 5 for j in range(2)]),
                                   rel=1e-5)


def test_answer_loss_reaches_svlr_and_vqa_weights():
  rng = np.random.default_rng(5)
  model = h.make_model()
  batch = {"vqa": h.make_vqa_batch(rng, model.model_config)}
  parts = {
      "g": model.word_embedding, "f_o": model.object_embedding,
      "f_a": model.attribute_embedding,
      "W1,W2,W3,BN": model.bimodal_scorer,
  }
  with tf.GradientTape() as tape:
    loss = model.compute_losses(batch, {"alpha_ans": 1.0, "alpha_obj": 0.0,
                                        "alpha_atr": 0.0})["loss_total"]
  grads = tape.gradient(loss, {k: v.trainable_variables
                               for k, v in parts.items()})
  for name, gs in grads.items():
    assert all(g is not None for g in gs), name
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in gs), name
  assert len(grads["W1,W2,W3,BN"]) == 7   # W1, W2, W3, 2 x (gamma, beta)
