"""Zero-shot VQA (Eq. 9) against NumPy, including word-less (yes/no) answers."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np

import model_test_helpers as h
from svlr_tf.model import zero_shot_scores


def np_zero_shot(model, batch):
  g = lambda ids: h.np_word_embedding(model.word_embedding, ids)
  mask = batch["region_mask"]
  obj = h.np_region_embedding(model.object_embedding, batch["image_features"])
  atr = h.np_region_embedding(model.attribute_embedding,
                              batch["image_features"])
  p, c, _ = batch["choice_nouns"].shape
  out = np.zeros((p, c))
  for j in range(p):
    qn, qa = batch["question_nouns"][j], batch["question_adjectives"][j]
    p_q = h.np_grounding(obj[j], atr[j], [(g(qn), qn)], [(g(qa), qa)])
    for i in range(c):
      an, aa = batch["choice_nouns"][j, i], batch["choice_adjectives"][j, i]
      p_a = h.np_grounding(obj[j], atr[j], [(g(an), an)], [(g(aa), aa)])
      a = h.np_softmax_masked(
          h.np_grounding(obj[j], atr[j], [(g(qn), qn), (g(an), an)],
                         [(g(qa), qa), (g(aa), aa)]), mask[j])
      out[j, i] = np.sum(np.where(mask[j], a * np.minimum(p_q, p_a), 0))
  return out


def test_zero_shot_scores_match_numpy_with_yes_no_answers():
  rng = np.random.default_rng(0)
  model = h.make_model()
  batch = h.make_vqa_batch(rng, model.model_config)
  # Choices 3 and 4 of every question are "yes" / "2": no nouns, no adjectives.
  batch["choice_nouns"][:, 3:] = 0
  batch["choice_adjectives"][:, 3:] = 0
  scores = np.asarray(model.zero_shot_scores(batch))
  assert scores.shape == (3, 5)
  np.testing.assert_allclose(scores, np_zero_shot(model, batch), atol=1e-4)
  # Word-less answers of a question tie (p_a = 0 for all of them).
  np.testing.assert_allclose(scores[:, 3], scores[:, 4], atol=1e-6)
  assert np.all(np.isfinite(scores))


def test_zero_shot_function_takes_min_of_question_and_answer_grounding():
  attention = np.array([[[0.25, 0.75]]], np.float32)
  no_set = (np.zeros((1, 1, 2), np.float32), np.zeros((1, 1), bool))
  question = ((np.array([[[1.0, 4.0]]], np.float32), np.ones((1, 1), bool)),
              no_set)
  answer = ((np.array([[[3.0, -2.0]]], np.float32), np.ones((1, 1), bool)),
            (np.array([[[1.0, 1.0]]], np.float32), np.ones((1, 1), bool)))
  got = np.asarray(zero_shot_scores(attention, question, answer))
  # p_q = [1, 4], p_a = [4, -1] -> min = [1, -1].
  np.testing.assert_allclose(got, [[0.25 * 1 + 0.75 * -1]], atol=1e-6)
