"""Damaged checkpoints: the newest readable one is restored (and said so); the
held-out evaluation history recomputes the selected step."""

import os

import pytest

from svlr_tf.training.checkpoints import (EvaluationHistory, checkpoint_steps,
                                 restore_newest_readable)
from svlr_tf.runtime.errors import DataError


@pytest.fixture
def saved(tmp_path):
  """Checkpoints of a variable v = step at steps 1, 2, 3 (all kept)."""
  import tensorflow as tf
  v = tf.Variable(0.0)
  ckpt = tf.train.Checkpoint(v=v)
  manager = tf.train.CheckpointManager(ckpt, str(tmp_path / "checkpoints"), max_to_keep=3)
  for step in (1, 2, 3):
    v.assign(float(step))
    manager.save(checkpoint_number=step)
  v.assign(-1.0)
  return str(tmp_path / "checkpoints"), ckpt, v


def _data_file(directory, step):
  return os.path.join(directory, f"ckpt-{step}.data-00000-of-00001")


def test_newest_checkpoint_is_restored(saved):
  directory, ckpt, v = saved
  assert checkpoint_steps(directory) == [3, 2, 1]
  assert restore_newest_readable(ckpt, directory, log=print) == 3
  assert float(v.numpy()) == 3.0


@pytest.mark.parametrize("damage", ["delete", "truncate", "delete_index"])
def test_unreadable_latest_falls_back_to_the_previous_and_says_so(saved, damage):
  directory, ckpt, v = saved
  if damage == "delete":
    os.remove(_data_file(directory, 3))
  elif damage == "truncate":
    with open(_data_file(directory, 3), "r+b") as f:
      f.truncate(2)
  else:
    os.remove(os.path.join(directory, "ckpt-3.index"))  # the state file still names it
  lines = []
  step = restore_newest_readable(ckpt, directory, log=lines.append)
  assert step == 2 and float(v.numpy()) == 2.0
  if damage != "delete_index":
    assert "ckpt-3 is unreadable" in lines[0] and "ckpt-2 instead" in lines[-1]


def test_lost_state_file_still_finds_the_checkpoints(saved):
  directory, ckpt, v = saved
  os.remove(os.path.join(directory, "checkpoint"))
  assert restore_newest_readable(ckpt, directory, log=print) == 3


def test_no_readable_checkpoint_is_an_error_naming_each(saved):
  directory, ckpt, _ = saved
  for step in (1, 2, 3):
    os.remove(_data_file(directory, step))
  with pytest.raises(DataError) as err:
    restore_newest_readable(ckpt, directory, log=lambda line: None)
  message = str(err.value)
  assert message.startswith(directory) and "ckpt-3" in message and "ckpt-1" in message
  assert "\n" not in message


def test_empty_directory_restores_nothing(tmp_path):
  import tensorflow as tf
  ckpt = tf.train.Checkpoint(v=tf.Variable(0.0))
  assert restore_newest_readable(ckpt, str(tmp_path / "none"), log=print) is None


def test_history_selects_the_first_best_and_survives_reopening(tmp_path):
  history = EvaluationHistory(str(tmp_path))
  for step, acc in ((2, 10.0), (4, 12.5), (6, 12.5), (8, 11.0)):
    history.record(step, {"heldout_vqa_accuracy": acc})
  again = EvaluationHistory(str(tmp_path))
  assert again.best("heldout_vqa_accuracy") == (4, 12.5)
  assert again.best("heldout_vqa_accuracy", up_to=3) == (2, 10.0)
  again.forget_after(4)
  assert [e["step"] for e in EvaluationHistory(str(tmp_path)).entries] == [2, 4]
  assert again.best("val_object_accuracy") is None


def test_malformed_history_is_a_one_line_error(tmp_path):
  (tmp_path / "evaluations.json").write_text('{"step": 1}')
  with pytest.raises(DataError, match="evaluations.json"):
    EvaluationHistory(str(tmp_path))
