"""Tests for paired row differences and their bootstrap intervals (hand-checked)."""

import numpy as np
import pytest

from svlr_tf.runtime.errors import DataError

from svlr_tf.evaluation import paired


def test_difference_and_spreads_by_hand():
  # seed 0: d = [1, 0, 0]; seed 1: d = [0, 1, 0]  -> mean 1/3 = 33.33 points.
  a = [[1, 0, 1], [1, 1, 1]]
  b = [[0, 0, 1], [1, 0, 1]]
  result = paired.paired_difference(a, b)
  assert result.difference == pytest.approx(100 / 3)
  assert result.seed_std == pytest.approx(0.0)         # both seeds: +33.33
  # seeds averaged: [50, 50, 0] -> sd 28.87, / sqrt(3) = 16.67
  assert result.question_se == pytest.approx(np.std([50, 50, 0], ddof=1) / np.sqrt(3))
  assert (result.num_seeds, result.num_questions) == (2, 3)
  assert result.half_width == pytest.approx(1.959964 * result.question_se)
  assert "2 seeds" in result.warning and "t(" in result.method


def test_constant_difference_has_no_spread():
  a = np.full((3, 50), 0.75)
  b = np.full((3, 50), 0.25)         # d = 50 points for every seed and question
  result = paired.paired_difference(a, b)
  assert result.difference == pytest.approx(50.0)
  assert (result.low, result.high, result.half_width) == pytest.approx((50, 50, 0))
  assert result.warning == ""


def test_one_seed_has_no_interval():
  result = paired.paired_difference([1.0, 0.0], [0.0, 0.0])
  assert result.difference == pytest.approx(50.0)
  assert result.low is None and result.half_width is None
  assert result.format() == "+50.00 [no interval: 1 seed]"
  assert result.to_dict()["low"] is None


def test_seed_noise_is_counted():
  # One question, three seeds with d = 100, 0, 50: t(2) over the seeds.
  result = paired.paired_difference([[1.0], [0.0], [0.5]], [[0.0], [0.0], [0.0]])
  assert result.seed_std == pytest.approx(50.0)
  assert result.half_width == pytest.approx(4.302653 * 50 / np.sqrt(3), rel=1e-5)


def test_sign():
  rng = np.random.default_rng(2)
  a = rng.random((3, 200))
  b = rng.random((3, 200))
  first = paired.paired_difference(a, b)
  flipped = paired.paired_difference(b, a)
  assert flipped.difference == pytest.approx(-first.difference)
  assert flipped.half_width == pytest.approx(first.half_width)


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
            paired.Claim("SVLR", paired.ONE_IN_CHOICES, paper_ratio=2.93),
            paired.Claim("Missing", "VQA Only")]
  out = paired.claim_differences(
      claims, {"SVLR": svlr, "VQA Only": vqa_only}, questions)
  assert [d["claim"] for d in out] == [
      "SVLR - VQA Only", 'SVLR - VQA Only ("what color")',
      "SVLR - chance (official metric)", "SVLR - chance (1/choices)"]
  # d = [[0, 1], [0, 1]] -> 50; on "what color" only -> 100 (no spread);
  # against chance: [[0.5, 0.5], [-0.5, 0.5]] -> 25 (the official metric's
  # chance and 1/2 agree here: one choice of two matches all humans).
  assert [d["difference"] for d in out] == [50.0, 100.0, 25.0, 25.0]
  assert out[1]["half_width"] == 0.0 and out[0]["paper"] == 2.4
  assert out[3]["chance"] == 50.0 and out[3]["ratio"] == 1.5
  assert out[3]["paper_ratio"] == 2.93
  # Seeds needed: d per seed is 50 both times (sd 0) with question SE 28.9:
  # the question part alone (+-56.6) cannot exclude 0 at any number of seeds.
  assert out[0]["seeds_needed"] is None
  table = paired.markdown(out, "Paired differences")
  assert "| SVLR - VQA Only | +2.4 | +50.00 [" in table
  assert paired.METHOD in table and "WARNING: 2 seeds" in table
  assert "x1.50 chance 50.00; paper x2.93" in table
  assert "more test questions" in table


def test_one_seed_claims_table_is_loud():
  records = [{"question_id": i, "question_type": "is the", "choices": ["yes", "no"],
              "answers": ["yes"] * 10} for i in range(4)]
  questions = paired.TestQuestions.from_records(records)
  a = questions.accuracies({0: {i: "yes" for i in range(4)}})
  b = questions.accuracies({0: {i: "no" for i in range(4)}})
  out = paired.claim_differences([paired.Claim("A", "B", paper=1.0)],
                                 {"A": a, "B": b}, questions)
  assert out[0]["low"] is None and out[0]["seeds_needed"] is None
  table = paired.markdown(out, "t")
  assert "[no interval: 1 seed]" in table and "unknown (1 seed)" in table
  assert "WARNING: 1 seed: training noise cannot be estimated" in table


def test_seeds_needed_of_a_difference_on_a_target():
  records = [{"question_id": i, "question_type": "is the", "choices": ["yes", "no"],
              "answers": ["yes"] * 10} for i in range(4)]
  questions = paired.TestQuestions.from_records(records)
  a = questions.accuracies({0: {i: "yes" for i in range(4)}, 1: {i: "no" for i in range(4)}})
  out = paired.claim_differences([paired.Claim("A", "B")], {"A": a, "B": a}, questions)
  assert out[0]["difference"] == 0.0 and out[0]["seeds_needed"] is None
  assert "never (the difference is 0" in paired.markdown(out, "t")
