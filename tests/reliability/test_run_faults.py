"""Work directories after damage: fewer --steps, an unreadable latest checkpoint, a
missing best checkpoint, a second process; entry-point argument mistakes."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from svlr_tf.runtime.errors import DataError
from svlr_tf.training.experiment import config_for_data, run_experiment
from svlr_tf.training.trainer import Trainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _config(data, steps=4):
  cfg = config_for_data("tiny", "genome_only", data, seed=0, steps=steps)
  return cfg.replace(train={"checkpoint_every": 2, "eval_every": 2, "log_every": 2})


@pytest.fixture(scope="module")
def finished_run(tiny_data, tmp_path_factory):
  """A finished 4-step run: checkpoints and evaluations at steps 2 and 4."""
  workdir = str(tmp_path_factory.mktemp("finished") / "run")
  results = run_experiment(_config(tiny_data), tiny_data, workdir, log=lambda s: None,
                           zero_shot=True)
  return workdir, results


@pytest.fixture
def copy_of(finished_run, tmp_path):
  workdir, results = finished_run
  copy = str(tmp_path / "run")
  shutil.copytree(workdir, copy)
  return copy, results


def test_evaluations_are_kept_in_the_work_directory(copy_of):
  workdir, results = copy_of
  history = json.load(open(os.path.join(workdir, "evaluations.json")))
  assert [e["step"] for e in history] == [2, 4]
  best = max(history, key=lambda e: e["val_object_accuracy"])  # first max
  assert results["best_step"] == best["step"]
  assert results["heldout_metric"] == best["val_object_accuracy"]


def test_fewer_steps_on_a_finished_run_is_an_error(tiny_data, copy_of):
  workdir, _ = copy_of
  with pytest.raises(DataError) as err:
    run_experiment(_config(tiny_data, steps=2), tiny_data, workdir, log=lambda s: None,
                   zero_shot=True)
  assert "trained for 4 steps" in str(err.value) and "new --workdir" in str(err.value)


def test_unreadable_latest_checkpoint_resumes_from_the_previous(tiny_data, copy_of):
  workdir, results = copy_of
  os.remove(os.path.join(workdir, "results.json"))
  os.remove(os.path.join(workdir, "checkpoints", "ckpt-4.data-00000-of-00001"))
  lines = []
  again = run_experiment(_config(tiny_data), tiny_data, workdir, log=lines.append,
                         zero_shot=True)
  assert any("ckpt-4 is unreadable" in l for l in lines), lines
  assert any("resumed from" in l and "ckpt-2" in l for l in lines), lines
  assert again["best_step"] in (2, 4)
  steps = [e["step"] for e in json.load(open(os.path.join(workdir, "evaluations.json")))]
  assert steps == [2, 4]  # step 4 evaluated again, not twice


def test_missing_best_is_taken_again_from_the_selected_step(tiny_data, copy_of):
  workdir, results = copy_of
  os.remove(os.path.join(workdir, "results.json"))
  shutil.rmtree(os.path.join(workdir, "best"))
  lines = []
  again = run_experiment(_config(tiny_data), tiny_data, workdir, log=lines.append,
                         zero_shot=True)
  step = results["best_step"]
  assert any("best checkpoint" in l and f"step {step}" in l for l in lines), lines
  assert again["best_step"] == step
  assert again["zero_shot_test"] == results["zero_shot_test"]  # the same weights


def test_missing_best_whose_weights_are_gone_is_an_error(tiny_data, copy_of):
  workdir, results = copy_of
  step = results["best_step"]
  shutil.rmtree(os.path.join(workdir, "best"))
  for name in os.listdir(os.path.join(workdir, "checkpoints")):
    if name.startswith(f"ckpt-{step}."):
      os.remove(os.path.join(workdir, "checkpoints", name))
  trainer = Trainer(_config(tiny_data), tiny_data, workdir, log=lambda s: None)
  with pytest.raises(DataError) as err:
    trainer.restore_best()
  message = str(err.value)
  assert f"ckpt-{step}" in message and "train again" in message and "\n" not in message


_HOLD = textwrap.dedent("""
    import sys
    from svlr_tf.runtime.workdir import lock_workdir
    with lock_workdir(sys.argv[1]):
      print("locked", flush=True)
      sys.stdin.readline()
""")


def _entry(args, cwd):
  env = dict(os.environ, PYTHONPATH=ROOT)
  return subprocess.run([sys.executable, "-m", "reproduce.table1"] + args, cwd=cwd,
                        env=env, capture_output=True, text=True, timeout=300)


def test_second_run_on_a_work_directory_names_the_first(tmp_path):
  workdir = str(tmp_path / "t1")
  holder = subprocess.Popen([sys.executable, "-c", _HOLD, workdir], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT))
  try:
    assert holder.stdout.readline().strip() == "locked"
    proc = _entry(["--preset", "tiny", "--workdir", workdir], tmp_path)
  finally:
    holder.stdin.close()
    holder.wait(timeout=30)
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and f"process {holder.pid}" in lines[0], proc.stderr


@pytest.mark.parametrize("args, expected", [
    (["stray"], "unexpected argument(s) 'stray'"),
    (["--data_dir="], "--data_dir is empty"),
    (["--workdir", "FILE"], "is not a directory"),
])
def test_argument_mistakes_are_one_line_errors(tmp_path, args, expected):
  (tmp_path / "FILE").write_text("x")
  proc = _entry(["--preset", "tiny"] + [str(tmp_path / a) if a == "FILE" else a
                                        for a in args], tmp_path)
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and expected in lines[0], proc.stderr
  assert not os.path.exists(tmp_path / "runs")  # nothing generated or trained


@pytest.mark.parametrize("args, expected", [
    (["a", "b"], "error: unexpected argument(s) 'a b'"),
    (["NOWHERE"], "NOWHERE: prepared data directory does not exist"),
])
def test_a_tools_argument_mistakes_are_one_line_errors(tmp_path, args, expected):
  # The tools share the reproduce modules' runner (svlr_tf.runtime.entry_points.run_main);
  # tools.check_data takes one positional argument.
  proc = subprocess.run([sys.executable, "-m", "tools.check_data"]
                        + [str(tmp_path / a) if a == "NOWHERE" else a for a in args],
                        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=ROOT),
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and expected in lines[0], proc.stderr
