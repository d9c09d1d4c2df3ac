"""tools.rehearse: the disk check, the fit, the inputs' layouts, and (slow) a whole
rehearsal at a tiny fraction."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from svlr_tf.runtime.errors import DataError
from tools import import_features, prepare_genome, prepare_vqa  # noqa: F401
from tools.genome import annotations as genome_annotations
from tools.rehearse import __main__ as rehearse_main
from tools.rehearse import fit, inputs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_fraction_that_does_not_fit_is_refused_saying_what_each_needs(tmp_path, monkeypatch):
  class Usage:
    free = 10e9
  monkeypatch.setattr(rehearse_main.shutil, "disk_usage", lambda path: Usage)
  assert rehearse_main.check_disk(str(tmp_path), 1 / 64)["needed_gb"] < 9
  with pytest.raises(DataError, match=r"fraction 0.25 needs ~\d+\.\d GB .* 10.0 GB are "
                     r"free; needs: 1/64: .* 1/1: \d+\.\d GB"):
    rehearse_main.check_disk(str(tmp_path), 1 / 4)


def test_disk_estimate_grows_linearly_and_full_size_exceeds_a_small_disk():
  small, large = (inputs.disk_needed(f)["total"] for f in (1 / 64, 1 / 16))
  full = inputs.disk_needed(1.0)
  assert 3.5 < (large - 1.2e9) / (small - 1.2e9) < 4.5  # the work dirs are fixed
  assert 100e9 < full["total"] < 130e9
  assert 45e9 < full["VQA feature store"] < 55e9  # docs/real_data.md: ~50 GB


def test_bad_fraction_is_a_one_line_error():
  for text in ("0", "2", "a/b", "1/0"):
    with pytest.raises(DataError, match="--fraction"):
      rehearse_main.parse_fraction(text)
  assert rehearse_main.parse_fraction("1/16") == 1 / 16


def test_linear_fit_extrapolates_and_marks_measured():
  assert fit.linear_fit([1 / 64, 1 / 16], [300 + 64, 300 + 256])["at_full"] == (
      pytest.approx(300 + 4096))
  records = [{"fraction": f, "nice": 10, "cpus": 2, "stages": [
      {"stage": "s", "wall_s": 10 + 100 * f, "peak_rss_mb": 200 + 1000 * f,
       "disk_added_mb": 1024 * f, "load_before": 1.0, "load_after": 2.0}]}
             for f in (1 / 64, 1 / 16, 1.0)]
  fitted = fit.full_size(records)["s"]
  assert fitted["peak_rss_mb"]["measured"] == pytest.approx(1200)
  text = fit.full_size_table(records[:2])
  assert "1.17 (extrapolated)" in text and "nice 10" in text
  with pytest.raises(ValueError, match="two or more"):
    fit.linear_fit([0.5, 0.5], [1, 2])


def test_inputs_are_read_by_the_real_readers(tmp_path):
  """The synthetic files go through the tools' own readers."""
  fraction = 1 / 4000
  inputs.write_genome(str(tmp_path), fraction)
  inputs.write_vqa(str(tmp_path), fraction)
  tsv = str(tmp_path / "f.tsv")
  assert inputs.write_tsv(tsv, fraction) == sum(
      len(v) for v in inputs.vqa_image_ids(fraction).values())
  objects = json.load(open(tmp_path / "objects.json"))
  attributes = json.load(open(tmp_path / "attributes.json"))
  assert len(objects) == inputs.counts(fraction)["genome_images"]
  assert 25 < np.mean([len(o["objects"]) for o in objects]) < 45
  parsed = genome_annotations._parse_object(attributes[0]["attributes"][0])
  assert parsed["names"] and parsed["box"] is not None
  questions = json.load(open(tmp_path / "MultipleChoice_mscoco_train2014_questions.json"))
  assert all(len(q["multiple_choices"]) == 18 for q in questions["questions"])
  annotations = json.load(open(tmp_path / "mscoco_train2014_annotations.json"))
  for q, a in zip(questions["questions"], annotations["annotations"]):
    assert q["question_id"] == a["question_id"]
    assert a["multiple_choice_answer"] in q["multiple_choices"]
  data_dir = tmp_path / "prepared"
  sizes = prepare_vqa.prepare_vqa(
      str(data_dir), *(str(tmp_path / n) for n in (
          "MultipleChoice_mscoco_train2014_questions.json",
          "mscoco_train2014_annotations.json",
          "MultipleChoice_mscoco_val2014_questions.json",
          "mscoco_val2014_annotations.json")))
  assert sizes["test"] == 3 * inputs.counts(fraction)["vqa_val_images"]


@pytest.mark.slow
def test_rehearsal_at_a_tiny_fraction_measures_every_stage(tmp_path):
  root = tmp_path / "r"
  result = subprocess.run(
      [sys.executable, "-m", "tools.rehearse", "--fraction", "1/4000", "--dir",
       str(root), "--steps", "4", "--input_modes", "host"],
      cwd=REPO, capture_output=True, text=True, timeout=1800)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  record = json.load(open(root / "rehearsal.json"))
  names = [s["stage"] for s in record["stages"]]
  assert names == ["write inputs", "prepare_genome", "genome_features (stand-in)",
                   "prepare_vqa", "import_features", "prepare_vocab",
                   "check_data (first)", "check_data (again)", "train host"]
  for stage in record["stages"]:
    assert stage["wall_s"] > 0 and stage["peak_rss_mb"] > 10, stage
  train = record["stages"][-1]
  assert 0 < train["first_step_s"] < train["wall_s"] and train["steady_step_s"] > 0
  assert record["stages"][4]["disk_added_mb"] > 10  # the VQA store
  assert "| train host |" in result.stdout
