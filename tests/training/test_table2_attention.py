"""reproduce.table2 and reproduce.attention: tiny end to end (world and VQA-HAT paths)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(args, cwd, timeout=900):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  return subprocess.run([sys.executable] + args, cwd=cwd, env=env, capture_output=True,
                        text=True, timeout=timeout)


def _png_size(path):
  with Image.open(path) as im:
    assert im.format == "PNG"
    return im.size


def test_hat_dir_needs_data_dir_one_line_error(tmp_path):
  proc = _run(["-m", "reproduce.table2", "--hat_dir", str(tmp_path)], cwd=tmp_path)
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and "--hat_dir and --data_dir" in lines[0], proc.stderr


def test_pick_questions_spreads_over_types():
  from svlr_tf.evaluation.attention_maps import pick_questions
  records = ([{"question_type": "what color is the", "question_id": i} for i in range(10)]
             + [{"question_type": "how many", "question_id": 100 + i} for i in range(3)]
             + [{"question_type": "is this", "question_id": 200}])
  picked = pick_questions(records, 5, seed=0)
  types = [r["question_type"] for r in picked]
  assert types[:3] == ["what color is the", "how many", "is this"]
  assert len({r["question_id"] for r in picked}) == 5
  assert picked == pick_questions(records, 5, seed=0)
  assert len(pick_questions(records, 50, seed=0)) == len(records)


@pytest.mark.slow
def test_table2_and_attention_tiny_end_to_end(tmp_path):
  work = str(tmp_path / "work")
  common = ["--preset", "tiny", "--seeds", "1", "--steps", "4", "--workdir", work]
  # No trained runs yet: table2 stops before training; Table 1 trains them.
  proc = _run(["-m", "reproduce.table2"] + common, cwd=tmp_path)
  assert proc.returncode == 1 and "`python -m reproduce.table1 " in proc.stderr
  proc = _run(["-m", "reproduce.table1"] + common, cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  proc = _run(["-m", "reproduce.table2"] + common, cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert f"Using Table 1's finished runs in {work}: " in proc.stdout
  table = json.load(open(os.path.join(work, "table2.json")))
  assert set(table["rows"]) >= {"VQA Only", "Joint Multitask", "Joint SVLR",
                                "Zero-Shot VQA", "Uniform a(R) over regions",
                                "Centre Gaussian"}
  for row in table["rows"].values():
    assert 0.0 <= row["pointing"][0] <= 1.0 and -1.0 <= row["rank_correlation"][0] <= 1.0
  assert table["questions"] > 0
  assert _png_size(os.path.join(work, "fig7.png"))[0] > 200
  assert "pointing accuracy" in open(os.path.join(work, "table2.md")).read()

  # The attention pictures reuse those runs.
  proc = _run(["-m", "reproduce.attention", "--num_questions", "3"] + common,
              cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "Joint SVLR, VQA Only, Joint Multitask; seed(s) 0" in proc.stdout
  out = json.load(open(os.path.join(work, "attention.json")))
  assert len(out["questions"]) == 3
  index = open(os.path.join(work, "attention", "index.md")).read()
  for q in out["questions"]:
    assert q["file"] in index
    width, height = _png_size(os.path.join(work, "attention", q["file"]))
    assert width > 600 and height > 150  # three panels side by side
    assert set(q["models"]) == {"Joint SVLR", "VQA Only", "Joint Multitask"}

  # The VQA-HAT path, on the same (embedded) data dir given as --data_dir: maps in
  # the released layout for three test questions, two annotators each.
  data_dir = str(tmp_path / "runs" / "data" / "world-tiny")  # made by the first run
  with open(os.path.join(data_dir, "vqa", "test.jsonl")) as f:
    qids = [json.loads(line)["question_id"] for line in f][:3]
  hat = tmp_path / "hat" / "vqahat_val"
  hat.mkdir(parents=True)
  rng = np.random.default_rng(0)
  for q in qids:
    for n in (1, 2):
      Image.fromarray(rng.integers(0, 255, (30, 40), dtype=np.uint8), mode="L").save(
          hat / f"{q}_{n}.png")
  Image.fromarray(np.zeros((5, 5), np.uint8), mode="L").save(hat / "999_1.png")
  proc = _run(["-m", "reproduce.table2", "--data_dir", data_dir, "--hat_dir",
               str(tmp_path / "hat")] + common, cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "3 test questions with VQA-HAT maps (1 maps of other questions skipped)" in (
      proc.stdout)
  table = json.load(open(os.path.join(work, "table2.json")))
  assert table["kind"] == "vqa-hat" and table["questions"] == 3
  assert table["paper"]["SVLR"] == 0.48
  assert "Human (inter-annotator)" in table["rows"]
  assert len(table["fig7"]["Joint SVLR"]["thresholds"]) == 21
