"""run_grid, the table writer and the command line's config overrides."""

import json
import os
import subprocess
import sys

import pytest

from svlr_tf.training.grid import Run, format_duration, restore_run, run_grid
from svlr_tf.tables import Table, mean_std

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_format_duration_of_the_progress_lines():
  # One format for run_grid's and reproduce.all's progress lines.
  assert [format_duration(s) for s in (0.4, 45, 59.6, 185, 3599, 3725)] == [
      "0s", "45s", "1m00s", "3m05s", "59m59s", "1h02m"]


def test_run_grid_trains_rows_x_seeds_once_and_reuses_them(tiny_data, tmp_path):
  rows = [Run("Genome", "genome_only"),
          Run("Genome, alpha 0.5", "genome_only", overrides={"loss": {"alpha_obj": 0.5}},
              name="genome_half")]
  lines = []
  grid = run_grid(rows, [0], data=tiny_data, workdir=str(tmp_path), preset="tiny",
                  steps=2, log=lines.append)
  assert any("run 2/2: Genome, alpha 0.5 (seed 0)" in l for l in lines)
  done = [l for l in lines if "done in" in l and "peak resident memory" in l]
  assert len(done) == 2 and float(done[0].split("memory ")[1].split()[0]) > 0.05
  assert grid.config("Genome, alpha 0.5").loss.alpha_obj == 0.5
  assert grid.config("Genome").loss.alpha_obj == 1.0
  run = grid.run_dir("Genome, alpha 0.5", 0)
  assert run == os.path.join(str(tmp_path), "seed0", "genome_half")
  assert json.load(open(os.path.join(run, "config.json")))["loss"]["alpha_obj"] == 0.5

  again = run_grid(rows, [0], data=tiny_data, workdir=str(tmp_path), preset="tiny",
                   steps=2, log=lines.append)
  assert all(r["reused"] for r in again.by_run.values())
  assert again.results("Genome")[0]["recognition_test"] == \
      grid.results("Genome")[0]["recognition_test"]

  # A finished run's trained model, for later analysis.
  trainer = restore_run(grid.run_dir("Genome", 0), tiny_data, kind="recognition",
                        log=lambda s: None)
  ev = trainer.evaluate_recognition("test")
  assert ev["object_accuracy"] == grid.results("Genome")[0]["recognition_test"][
      "object_accuracy"]


def test_table_mean_std_json_markdown_and_terminal_text():
  assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
  assert mean_std([4.0]) == (4.0, None)
  # Table 2's reading: undefined scores left out, std 0.0 for one seed.
  table2 = dict(digits=3, finite_only=True, one_value_std=0.0)
  assert mean_std([0.1234, float("nan"), None, 0.2345], **table2) == (0.179, 0.079)
  assert mean_std([0.5, float("inf")], **table2) == (0.5, 0.0)
  assert mean_std([None, float("nan")], **table2) == (None, None)
  columns = [f"type {i}" for i in range(9)] + ["Overall"]
  per_seed = {"A": {"0": {c: 10.0 for c in columns}, "1": {c: 12.0 for c in columns}},
              "B": {"0": {"type 0": 5.0, "Overall": 6.0},
                    "1": {"type 0": 7.0, "Overall": 8.0}}}
  table = Table("title", columns, per_seed)
  out = table.to_json()
  assert out["rows"]["A"]["Overall"] == 11.0 and out["std"]["A"]["Overall"] == 1.41
  assert out["seeds"] == [0, 1] and "type 3" not in out["rows"]["B"]
  assert table.markdown().count("|---|") == 1 and "type 8" in table.markdown()
  text = table.text().splitlines()
  assert "type 8" not in table.text() and "Overall" in text[2]
  assert len({len(line) for line in text[2:6]}) == 1  # aligned
  one_seed = Table("t", ["Overall"], {"A": {"0": {"Overall": 50.0}}})
  assert "±" not in one_seed.text() + one_seed.markdown()
  assert one_seed.to_json()["std"]["A"]["Overall"] is None


def _run(args, cwd):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  return subprocess.run([sys.executable] + args, cwd=cwd, env=env, capture_output=True,
                        text=True, timeout=600)


def test_config_overrides_from_the_command_line_reach_config_json(tiny_world, tmp_path):
  args = ["-m", "reproduce.table1", "--preset", "tiny", "--seeds", "1", "--steps", "2",
          "--data_dir", tiny_world, "--workdir", str(tmp_path / "t1"),
          "--experiments", "joint_svlr"]
  overrides = ["--config.loss.alpha_ans=0.25", "--config.optimizer.learning_rate=0.002"]
  proc = _run(args + overrides + ["--input_mode=host"], cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  config = json.load(open(tmp_path / "t1" / "seed0" / "joint_svlr" / "config.json"))
  assert config["loss"]["alpha_ans"] == 0.25
  assert config["optimizer"]["learning_rate"] == 0.002
  assert config["train"]["input_mode"] == "host"
  assert "input mode host: train.input_mode=host" in proc.stdout
  table = json.load(open(tmp_path / "t1" / "table1.json"))
  assert list(table["rows"]) == ["Joint SVLR"] and table["config"]["loss"]["alpha_ans"] == 0.25
  assert "run 1/1" in proc.stdout and "table1.md" in proc.stdout

  # The input mode does not change the numbers: the finished run is reused.
  same = _run(args + overrides + ["--input_mode=resident"], cwd=tmp_path)
  assert same.returncode == 0 and "done already" in same.stdout, same.stderr[-3000:]

  # The same workdir with another override is another run: refused, not mixed.
  other = _run(args + ["--config.loss.alpha_ans=0.5"], cwd=tmp_path)
  assert other.returncode == 1 and "different config" in other.stderr

  bad = _run(args + ["--config.train.eval_every=3"], cwd=tmp_path)
  assert bad.returncode == 1
  assert bad.stderr.strip().splitlines()[-1].startswith("error: config override")
