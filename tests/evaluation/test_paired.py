"""Tests for paired row differences and their bootstrap intervals (hand-checked)."""

import numpy as np
import pytest

from svlr_tf.runtime.errors import DataError

from svlr_tf.evaluation import paired


def test_difference_and_spreads_by_hand():
  # seed 0: d = [1, 0, 0]; seed 1: d = [0, 1, 0]  -> mean 1/3 = 33.33 points.
  a = [[1, 0, 1], [1, 1, 1]]
  b = [[0, 0, 1], [1, 0, 1]]
  result = paired.paired_difference(a, b, replicates=500)
  assert result.difference == pytest.approx(100 / 3)
  assert result.seed_std == pytest.approx(0.0)         # both seeds: +33.33
  # seeds averaged: [50, 50, 0] -> sd 28.87, / sqrt(3) = 16.67
  assert result.question_se == pytest.approx(np.std([50, 50, 0], ddof=1) / np.sqrt(3))
  assert (result.num_seeds, result.num_questions) == (2, 3)
  assert result.low <= result.difference <= result.high


def test_constant_difference_has_no_spread():
  a = np.full((3, 50), 0.75)
  b = np.full((3, 50), 0.25)         # d = 50 points for every seed and question
  result = paired.paired_difference(a, b)
  assert result.difference == pytest.approx(50.0)
  assert (result.low, result.high, result.half_width) == pytest.approx((50, 50, 0))


def test_two_questions_one_seed():
  # d = [100, 0]: a bootstrap mean is 0, 50 or 100 with probability 1/4, 1/2,
  # 1/4, so the 2.5% and 97.5% percentiles are 0 and 100.
  result = paired.paired_difference([1.0, 0.0], [0.0, 0.0], replicates=4000)
  assert result.difference == pytest.approx(50.0)
  assert (result.low, result.high) == (0.0, 100.0)
  assert result.half_width == 50.0


def test_seeds_are_resampled():
  # One question, two seeds with d = 100 and 0: only seed resampling spreads it.
  result = paired.paired_difference([[1.0], [0.0]], [[0.0], [0.0]], replicates=4000)
  assert (result.low, result.high) == (0.0, 100.0)
  assert result.seed_std == pytest.approx(np.std([100, 0], ddof=1))


def test_half_width_matches_the_normal_approximation():
  rng = np.random.default_rng(1)
  a = rng.integers(0, 2, size=(1, 4000)).astype(float)
  b = rng.integers(0, 2, size=(1, 4000)).astype(float)
  result = paired.paired_difference(a, b, replicates=3000)
  expected = 1.96 * 100 * np.std(a - b, ddof=1) / np.sqrt(4000)
  assert result.half_width == pytest.approx(expected, rel=0.1)
  assert result.question_se * 1.96 == pytest.approx(expected, rel=1e-6)


def test_reproducible_and_sign():
  rng = np.random.default_rng(2)
  a = rng.random((3, 200))
  b = rng.random((3, 200))
  first = paired.paired_difference(a, b, seed=7)
  assert first == paired.paired_difference(a, b, seed=7)
  flipped = paired.paired_difference(b, a, seed=7)
  assert flipped.difference == pytest.approx(-first.difference)


def test_mismatched_rows_are_an_error():
  with pytest.raises(ValueError, match="same"):
    paired.paired_difference(np.zeros((3, 10)), np.zeros((2, 10)))
  with pytest.raises(ValueError, match="no questions"):
    paired.paired_difference(np.zeros((1, 0)), np.zeros((1, 0)))


def test_per_question_accuracy_uses_the_official_metric():
  humans = {1: ["2"] * 3 + ["3"] * 7, 2: ["red"] * 10, 3: ["dog"] + ["cat"] * 9}
  predictions = {1: "2", 2: "red", 3: "dog"}
  accuracy = paired.per_question_accuracy(predictions, humans, [2, 1, 3])
  # "2" by 3 of 10: leave-one-out gives 7 * 1 + 3 * 2/3 over 10 = 0.9;
  # "dog" by 1 of 10: 9 * 1/3 / 10 = 0.3.
  np.testing.assert_allclose(accuracy, [1.0, 0.9, 0.3])
  with pytest.raises(DataError, match="question_id 4"):
    paired.per_question_accuracy(predictions, {**humans, 4: ["x"] * 10}, [4])


def test_questions_for_half_width():
  pair = paired.PairedDifference(1.0, 0.0, 2.0, 1.0, 0.0, 0.5, 3, 3000, 100)
  assert paired.questions_for_half_width([pair], 0.5) == 12000


def test_claims_against_rows_chance_and_a_question_type():
  records = [
      {"question_id": 2, "question_type": "what color", "choices": ["red", "blue"],
       "answers": ["red"] * 10},
      {"question_id": 1, "question_type": "is the", "choices": ["yes", "no"],
       "answers": ["yes"] * 10},
  ]
  questions = paired.TestQuestions.from_records(records)
  assert questions.question_ids == [1, 2]
  np.testing.assert_allclose(questions.chance, [0.5, 0.5])
  svlr = questions.accuracies({0: {1: "yes", 2: "red"}, 1: {1: "no", 2: "red"}})
  vqa_only = questions.accuracies({0: {1: "yes", 2: "blue"}, 1: {1: "no", 2: "blue"}})
  np.testing.assert_allclose(svlr, [[1, 1], [0, 1]])
  claims = [paired.Claim("SVLR", "VQA Only", paper=2.4),
            paired.Claim("SVLR", "VQA Only", question_type="what color"),
            paired.Claim("SVLR", paired.CHANCE),
            paired.Claim("Missing", "VQA Only")]
  out = paired.claim_differences(
      claims, {"SVLR": svlr, "VQA Only": vqa_only}, questions, replicates=200)
  assert [d["claim"] for d in out] == [
      "SVLR - VQA Only", 'SVLR - VQA Only ("what color")', "SVLR - chance"]
  # d = [[0, 1], [0, 1]] -> 50; on "what color" only -> 100 (no spread);
  # against chance: [[0.5, 0.5], [-0.5, 0.5]] -> 25.
  assert [d["difference"] for d in out] == [50.0, 100.0, 25.0]
  assert out[1]["half_width"] == 0.0 and out[0]["paper"] == 2.4
  table = paired.markdown(out, "Paired differences")
  assert "| SVLR - VQA Only | +2.4 | +50.00 [" in table
