"""A run must not leave its data behind: the runs of reproduce.table1 share a process."""

import collections
import gc

import pytest

from svlr_tf.training.experiment import config_for_data, run_experiment

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
  registry_before = len(_registry())
  for i in range(2):  # 2 runs x 2 segments x (train + held-out, val evaluations)
    run_experiment(cfg.replace(train={"seed": i}), tiny_data, str(tmp_path / f"run{i}"),
                   log=lambda s: None, zero_shot=True)
  after = _live()
  for kind in ("VQASplit", "RecognitionSplit", "FeatureStore", "Trainer", "SVLRModel"):
    assert after[kind] <= before[kind], (kind, before, after)
  # Keras' optimizer all-reduces the gradients through a tf.custom_gradient, which
  # TF registers in its process-wide gradient registry; run_experiment removes a
  # run's registrations (svlr_tf/runtime/resources.py), so no traced step is kept.
  assert after["FuncGraph"] <= before["FuncGraph"], (before, after)
  assert len(_registry()) == registry_before


def _registry():
  from tensorflow.python.framework import ops
  return ops._gradient_registry._registry  # pylint: disable=protected-access


def test_released_gradient_registrations_removes_only_what_was_added_inside():
  import tensorflow as tf
  from svlr_tf.runtime.resources import released_gradient_registrations

  @tf.custom_gradient
  def double(x):
    return 2 * x, lambda dy: 2 * dy

  def grad_in_graph():
    @tf.function
    def f(x):
      with tf.GradientTape() as tape:
        tape.watch(x)
        y = double(x)
      return tape.gradient(y, x)
    return f(tf.constant(1.0))

  outside = grad_in_graph()  # registers one name that must survive
  names = set(_registry())
  with released_gradient_registrations():
    inside = grad_in_graph()
    assert len(set(_registry()) - names) == 1
  assert set(_registry()) == names
  assert float(outside) == float(inside) == 2.0
