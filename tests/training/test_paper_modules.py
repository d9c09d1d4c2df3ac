"""Tiny runs of the modules for the rest of the paper: pre-training ablation and
Table 4 (sharing their runs), Table 3's test-dev file, reproduce.all."""

import json
import os
import re
import shutil

import pytest

from tests.training.test_entry_points import _run
from svlr_tf.viz.results import is_png

TINY = ["--preset", "tiny", "--seeds", "1", "--steps", "4"]


def test_pretraining_then_table4_tiny_share_runs(tmp_path):
  runs = str(tmp_path / "runs")
  pretraining = ["-m", "reproduce.pretraining", *TINY, "--runs", runs,
                 "--workdir", str(tmp_path / "pre")]
  # Table 1's runs are not there: it stops before training, naming the command.
  proc = _run(pretraining, cwd=tmp_path)
  assert proc.returncode == 1
  error = proc.stderr.strip().splitlines()
  assert len(error) == 1 and "does not train them" in error[0], proc.stderr
  command = re.search(r"`python (-m reproduce\.table1 [^`]*)`", error[0]).group(1)
  assert command.split() == ["-m", "reproduce.table1", "--preset=tiny", "--steps=4",
                             f"--workdir={runs}", "--seeds=1",
                             "--experiments=joint_svlr,genome_only"]
  assert not os.path.exists(runs) and not os.path.exists(tmp_path / "runs" / "data")
  proc = _run(command.split(), cwd=tmp_path)  # the command it named
  assert proc.returncode == 0, proc.stderr[-3000:]

  proc = _run(pretraining, cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.count("done already") == 2  # Table 1's runs read
  assert "initialised from" in proc.stdout  # the joint run started from Genome only
  out = json.load(open(tmp_path / "pre" / "pretraining.json"))
  assert set(out["rows"]) == {"Joint SVLR (from scratch)", "Pre-trained, then Joint SVLR",
                              "Joint SVLR, recognition warm-up", "Joint SVLR, S + S' steps",
                              "Pre-trained (matched total)"} - (
      set() if out["joint_steps"] > out["control_pretraining_steps"]
      else {"Pre-trained (matched total)"})  # not run when S' >= S
  assert out["joint_steps"] == 4 and set(out["pretraining_steps"]) == {"0"}
  assert os.path.exists(os.path.join(runs, "seed0", "pretrain_then_joint", "results.json"))

  proc = _run(["-m", "reproduce.table4", *TINY, "--runs", runs,
               "--workdir", str(tmp_path / "t4")], cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "done already" in proc.stdout  # the Joint SVLR run was reused
  t4 = json.load(open(tmp_path / "t4" / "table4.json"))
  assert t4["queries"] and t4["k"] == 5
  for q in t4["queries"]:
    for space in ("input", "g seed 0"):
      assert len(t4["neighbours"][space][q]) == 5 and q not in t4["neighbours"][space][q]
  assert "| word |" in (tmp_path / "t4" / "table4.md").read_text()


def _tiny_data_with_test_dev(tmp_path):
  """The tiny world plus a test-dev split made of its test questions."""
  from svlr_tf import world
  from tools.prepare_vqa_test import prepare_vqa_test
  data_dir = str(tmp_path / "data")
  shutil.copytree(world.ensure_world("tiny", root=str(tmp_path / "w")), data_dir)
  questions = json.load(open(f"{data_dir}/vqa/test_questions.json"))
  questions["data_subtype"] = "test-dev2015"
  path = str(tmp_path / "MultipleChoice_mscoco_test-dev2015_questions.json")
  json.dump(questions, open(path, "w"))
  assert prepare_vqa_test(data_dir, path) == len(questions["questions"])
  return data_dir, questions


def test_table3_tiny_writes_a_checked_test_dev_file(tmp_path):
  data_dir, questions = _tiny_data_with_test_dev(tmp_path)
  proc = _run(["-m", "reproduce.table3", "--data_dir", data_dir, "--preset", "tiny",
               "--steps", "4", "--workdir", str(tmp_path / "t3")], cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  name = "vqa_MultipleChoice_mscoco_test-dev2015_svlr_results.json"
  results = json.load(open(tmp_path / "t3" / name))
  choices = {q["question_id"]: q["multiple_choices"] for q in questions["questions"]}
  assert sorted(r["question_id"] for r in results) == sorted(choices)
  assert all(set(r) == {"question_id", "answer"} for r in results)
  assert all(r["answer"] in choices[r["question_id"]] for r in results)
  assert os.path.exists(tmp_path / "t3" / name.replace(".json", ".zip"))
  out = json.load(open(tmp_path / "t3" / "table3.json"))
  assert 0.0 <= out["val"]["Overall"][0] <= 100.0
  assert out["paper"]["SVLR (paper)"]["test-dev"] == 64.8
  assert "66.2" in proc.stdout


def test_table3_without_test_dev_fails_before_training(tmp_path):
  from svlr_tf import world
  data_dir = world.ensure_world("tiny", root=str(tmp_path / "w"))
  proc = _run(["-m", "reproduce.table3", "--data_dir", data_dir, "--preset", "tiny",
               "--steps", "4", "--workdir", str(tmp_path / "t3")], cwd=tmp_path)
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
  assert "tools.prepare_vqa_test" in proc.stderr
  # Nothing was written: at most the work directory's lock file (svlr_tf.runtime.workdir).
  left = os.listdir(tmp_path / "t3") if (tmp_path / "t3").exists() else []
  assert left in ([], [".lock"]), left


def test_all_report_only_on_empty_runs_names_every_missing_result(tmp_path):
  root = tmp_path / "runs"
  root.mkdir()
  proc = _run(["-m", "reproduce.all", "--modules", "report", "--runs_root", str(root)],
              cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  text = (root / "report" / "index.md").read_text()
  for module in ("table1", "zero_shot", "fig5", "table4", "pretraining"):
    assert f"python -m reproduce.{module}" in text
  assert json.load(open(root / "all.json"))["failed"] == []
  assert (root / "report" / "index.html").exists()
  assert proc.stdout.splitlines()[-1] == (f"next: open {root / 'report' / 'index.html'}; "
                                          f"tensorboard --logdir {root}")


@pytest.mark.slow
def test_all_tiny_end_to_end(tmp_path):
  root = tmp_path / "runs"
  proc = _run(["-m", "reproduce.all", *TINY, "--runs_root", str(root)], cwd=tmp_path,
              timeout=3000)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  text = (root / "report" / "index.md").read_text()
  links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
  assert len(links) >= 4
  for link in links:
    assert is_png(os.path.join(root, "report", link)), link
  assert "Not run yet: `python -m reproduce.table1`" not in text


def test_init_from_starts_with_the_pretrained_weights(tmp_path, tiny_data):
  import numpy as np
  from svlr_tf.runtime.errors import DataError
  from svlr_tf.training.experiment import config_for_data, run_experiment
  from svlr_tf.training.trainer import Trainer
  seed_dir = tmp_path / "seed0"
  pre = config_for_data("tiny", "genome_only", tiny_data, seed=0, steps=2)
  run_experiment(pre, tiny_data, str(seed_dir / "genome_only"), log=lambda s: None)
  source = Trainer(pre, tiny_data, str(seed_dir / "genome_only"), log=lambda s: None)
  source.restore_best()
  cfg = config_for_data("tiny", "pretrain_then_joint", tiny_data, seed=0, steps=2)
  assert cfg.train.init_from == "genome_only" and cfg.loss.alpha_ans == 1.0
  fresh = Trainer(cfg, tiny_data, str(seed_dir / "pretrain_then_joint"),
                  log=lambda s: None)
  before = [w.numpy().copy() for w in fresh.model.weights]
  fresh.initialise_from_run("genome_only")
  for a, b in zip(fresh.model.weights, source.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, fresh.model.weights))
  assert int(fresh.optimizer.iterations.numpy()) == 0
  with pytest.raises(DataError, match="train that run first"):
    fresh.initialise_from_run("vqa_only")
