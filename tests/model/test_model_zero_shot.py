"""Zero-shot VQA (Eq. 9) against NumPy, including word-less (yes/no) answers."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import pytest

import model_test_helpers as h
from svlr_tf.model import zero_shot_scores


def np_zero_shot(model, batch, empty_question="no_constraint"):
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
      term = np.minimum(p_q, p_a)
      if empty_question == "no_constraint" and not (qn.any() or qa.any()):
        term = p_a  # the question localizes nothing: no term in the min()
      out[j, i] = np.sum(np.where(mask[j], a * term, 0))
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


@pytest.mark.parametrize("reading", ["no_constraint", "zero"])
def test_question_without_nouns_or_adjectives_matches_numpy(reading):
  rng = np.random.default_rng(1)
  model = h.make_model(zero_shot_empty_question=reading)
  batch = h.make_vqa_batch(rng, model.model_config)
  batch["question_nouns"][1] = 0        # question 1: "what is this"
  batch["question_adjectives"][1] = 0
  batch["choice_nouns"][:, 4] = 0       # choice 4: "yes"
  batch["choice_adjectives"][:, 4] = 0
  scores = np.asarray(model.zero_shot_scores(batch))
  np.testing.assert_allclose(scores, np_zero_shot(model, batch, reading),
                             atol=1e-4)


def test_empty_question_readings_by_hand():
  attention = np.array([[[0.25, 0.75], [0.5, 0.5]]], np.float32)  # [1, 2, 2]
  no_set = (np.full((1, 1, 2), -1e9, np.float32), np.zeros((1, 1), bool))
  question = (no_set, no_set)                      # no nouns, no adjectives
  answer = ((np.array([[[3.0, 1.0], [0.0, 0.0]]], np.float32),
             np.array([[True, False]])),
            (np.full((1, 2, 2), -1e9, np.float32), np.zeros((1, 2), bool)))
  # choice 0 ("dog"): p_a = [3, 1]; choice 1 ("yes"): p_a = 0.
  got = np.asarray(zero_shot_scores(attention, question, answer,
                                    empty_question="no_constraint"))
  np.testing.assert_allclose(got, [[0.25 * 3 + 0.75 * 1, 0.0]], atol=1e-6)
  got = np.asarray(zero_shot_scores(attention, question, answer,
                                    empty_question="zero"))
  np.testing.assert_allclose(got, [[0.0, 0.0]], atol=1e-6)  # "dog" ties "yes"
  with pytest.raises(ValueError, match="empty_question"):
    zero_shot_scores(attention, question, answer, empty_question="drop")


def test_model_rejects_an_unknown_reading():
  with pytest.raises(ValueError, match="zero_shot_empty_question"):
    h.make_model(zero_shot_empty_question="maybe")
