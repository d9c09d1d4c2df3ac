"""The world's regime figures and the calibration tool's rule (baselines, held-out)."""

import json
import os

import pytest

from svlr_tf.evaluation import regime


def _write_split(root, split, records):
  os.makedirs(os.path.join(root, "vqa"), exist_ok=True)
  with open(os.path.join(root, "vqa", f"{split}.jsonl"), "w") as f:
    for r in records:
      f.write(json.dumps(r) + "\n")


def _record(question, answer, choices=("red", "blue", "yes")):
  return {"question": question, "question_type": "what color is the",
          "answer_type": "other", "answer": answer, "answers": [answer] * 10,
          "choices": list(choices)}


def test_regime_on_a_hand_made_split(tmp_path):
  _write_split(tmp_path, "train", [_record("What color is the car?", "red"),
                                   _record("what color is the car", "red"),
                                   _record("What color is the car?", "blue"),
                                   _record("What color is the bus?", "blue")])
  _write_split(tmp_path, "heldout", [_record("What color is the car?", "red"),
                                     _record("What color is the car?", "blue"),
                                     _record("What color is the cat?", "blue")])
  stats = regime.question_statistics(str(tmp_path), "heldout")
  assert stats == {"train_questions": 4, "distinct_train_questions": 2,
                   "heldout_questions": 3, "heldout_seen_verbatim_percent": 66.67}
  lookup = regime.text_lookup_accuracy(str(tmp_path), "heldout")
  # car -> red (2 of 3); the unseen cat falls back to the type's answers
  # (red 2, blue 2: the tie goes to the first choice in max order, red).
  assert lookup["overall"] == pytest.approx(100 / 3, abs=0.01)
  assert lookup["needs_image"] == pytest.approx(200 / 3, abs=0.01)
  assert lookup["per_question_type"] == {"what color is the": lookup["overall"]}


def test_calibration_refuses_the_claims_rows():
  from tools.calibrate_world import check_baselines
  check_baselines(["genome_only", "language_only", "vqa_only"])
  for row in ("joint_svlr", "joint_multitask"):
    with pytest.raises(ValueError, match="baselines only"):
      check_baselines(["vqa_only", row])


def test_calibration_run_reports_heldout_only(tiny_data, tmp_path):
  from tools.calibrate_world import calibrate_experiment
  out = calibrate_experiment(tiny_data, "tiny", "language_only",
                             str(tmp_path / "language_only"), steps=4, log=lambda m: None)
  assert 0 <= out["heldout_vqa_accuracy"] <= 100
  assert not any("test" in key for key in out if key != "config")
  assert not os.path.exists(tmp_path / "language_only" / "results.json")
  again = calibrate_experiment(tiny_data, "tiny", "language_only",
                               str(tmp_path / "language_only"), steps=4)
  assert again["reused"] and again["heldout_vqa_accuracy"] == out["heldout_vqa_accuracy"]
