"""A run must not leave its data behind: the runs of reproduce.table1 share a process."""

import collections
import gc

import pytest

from svlr_tf.experiment import config_for_data, run_experiment

_KINDS = ("VQASplit", "RecognitionSplit", "FeatureStore", "Trainer", "SVLRModel",
          "FuncGraph")


def _live():
  gc.collect()
  counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
  return {kind: counts[kind] for kind in _KINDS}


@pytest.mark.slow  # ~20 s of CPU: two tiny runs
def test_a_finished_run_releases_its_splits_stores_and_graphs(tiny_data, tmp_path):
  cfg = config_for_data("tiny", "joint_svlr", tiny_data, seed=0, steps=8).replace(
      train={"checkpoint_every": 4, "eval_every": 4, "log_every": 4})
  before = _live()
  for i in range(2):  # 2 runs x 2 segments x (train + held-out, val evaluations)
    run_experiment(cfg.replace(train={"seed": i}), tiny_data, str(tmp_path / f"run{i}"),
                   log=lambda s: None, zero_shot=True)
  after = _live()
  for kind in ("VQASplit", "RecognitionSplit", "FeatureStore", "Trainer", "SVLRModel"):
    assert after[kind] <= before[kind], (kind, before, after)
  # Keras' optimizer registers a custom gradient (the all-reduce of the gradients)
  # in TF's process-wide gradient registry, which keeps each run's traced train
  # step: one graph per run at most, nothing per segment or evaluation.
  assert after["FuncGraph"] - before["FuncGraph"] <= 2, (before, after)
