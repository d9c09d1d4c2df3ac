"""XLA (``train.jit_compile``) under MirroredStrategy on 2 logical CPU devices.

Each test runs in a fresh process: logical devices are fixed when TensorFlow starts.
docs/architecture.md ("XLA and tf.distribute") explains the cause and the cost.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(script, *args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, "-c", textwrap.dedent(script)] + list(args),
                        env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


# TensorFlow's own behaviour, in a few lines (no project code).  When TensorFlow
# changes it, this test fails and tells us: then SVLRTask.replica_step may compile
# the whole step again under a strategy.
_TF_LIMITATION = """
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
      v = tf.Variable(1.0)
    v.values[1].assign(10.0)  # replica 1's copy differs, to see which one is read
    x = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(2.0 + ctx.replica_id_in_sync_group))
    read = tf.function(lambda x: v * x, jit_compile=True)
    all_reduce = tf.function(
        lambda x: tf.distribute.get_replica_context().all_reduce("SUM", x),
        jit_compile=True)

    def attempt(replica_fn):
      @tf.function
      def step(x):
        return strategy.experimental_local_results(strategy.run(replica_fn, args=(x,)))
      try:
        return [float(y) for y in step(x)]
      except Exception as e:  # noqa: BLE001  (the error is the result)
        return f"{type(e).__name__}: {e}"

    print(json.dumps({
        # The jit-compiled tf.function itself: strategy.run wraps ALL replicas
        # into one clone of it (jit_compile kept), one XLA cluster on one device.
        "function_to_run": attempt(read),
        # The same function called from a plain Python function: one cluster per
        # replica, on the replica's device, reading the replica's own copy.
        "called_per_replica": attempt(lambda x: read(x)),
        # A synchronisation point (what apply_gradients does) inside it.
        "all_reduce_inside": attempt(lambda x: all_reduce(x)),
    }))
"""


def test_tensorflow_compiles_a_jit_function_given_to_strategy_run_as_one_cluster():
  out = _run(_TF_LIMITATION)
  assert "located in device /job:localhost/replica:0/task:0/device:CPU:1" in \
      out["function_to_run"], out
  assert "from device /job:localhost/replica:0/task:0/device:CPU:0" in \
      out["function_to_run"], out
  assert out["called_per_replica"] == [2.0, 30.0], out
  assert "merge_call" in out["all_reduce_inside"], out


_COMPARE = """
    import json, sys
    import numpy as np
    from svlr_tf.runtime.distribute import split_cpu, get_strategy
    split_cpu(2)
    import keras
    import tensorflow as tf
    from svlr_tf.data.feature_store import FeatureStore
    from svlr_tf.data.prepared import PreparedData
    from svlr_tf.data.prepared.layout import feature_store_path
    from svlr_tf.training.experiment import config_for_data
    from svlr_tf.training.task import SVLRTask
    data = PreparedData(sys.argv[1])
    strategy = get_strategy("mirrored")
    out = {}
    for jit in (False, True):
      cfg = config_for_data("tiny", "joint_svlr", data, seed=0, steps=3,
                            overrides={"train": {"jit_compile": jit}})
      task = SVLRTask(cfg)
      keras.utils.set_random_seed(0)
      with strategy.scope():
        model = task.build_model_for_data(data)
        optimizer = task.build_optimizer(model)
      stores = {n: FeatureStore(feature_store_path(data.data_dir, n))
                for n in ("vqa", "genome")}
      step = task.distributed_train_step(model, optimizer, strategy)
      iterator = iter(strategy.experimental_distribute_dataset(
          task.build_inputs(data, stores, seed=0, num_batches=3)))
      losses = [float(step(iterator)["loss_total"]) for _ in range(3)]
      # Each replica's copy of every weight (batch-norm moving statistics are
      # per replica: aggregation "none", each replica's own half of the batch).
      copies = lambda vs: [[c.numpy().tolist() for c in v.value.values] for v in vs]
      out[jit] = {"losses": losses, "copies": copies(model.trainable_weights),
                  "statistics": copies([v for v in model.non_trainable_weights
                                        if "moving" in v.path]),
                  "iterations": int(optimizer.iterations.numpy())}
    print(json.dumps(out))
"""


def test_jit_compiled_mirrored_step_matches_the_tensorflow_step(tiny_world):
  import numpy as np
  out = _run(_COMPARE, tiny_world)
  plain, xla = out["false"], out["true"]
  assert plain["iterations"] == xla["iterations"] == 3
  np.testing.assert_allclose(xla["losses"], plain["losses"], rtol=1e-4)
  assert plain["losses"][2] != plain["losses"][0]  # the steps did train
  for a, b in zip(plain["copies"], xla["copies"]):
    assert len(a) == len(b) == 2  # two replicas
    a0, b0, b1 = (np.asarray(x) for x in (a[0], b[0], b[1]))
    # The replicas' copies of a trained weight stay identical under XLA too (the
    # gradients were summed across replicas before the update), as without.
    np.testing.assert_array_equal(b0, b1)
    np.testing.assert_array_equal(a0, np.asarray(a[1]))
    # XLA's kernels round differently: after three Adam steps (which normalise
    # tiny gradients) weights agree to 1% of their size, not bit for bit.
    scale = float(np.max(np.abs(a0))) if a0.size else 0.0
    np.testing.assert_allclose(b0, a0, rtol=0, atol=1e-2 * scale + 1e-6)
  assert len(plain["statistics"]) == len(xla["statistics"]) > 0
  for a, b in zip(plain["statistics"], xla["statistics"]):
    for replica in (0, 1):
      np.testing.assert_allclose(b[replica], a[replica], rtol=1e-3, atol=1e-5)


@pytest.mark.slow  # three TensorFlow processes with XLA compiles: ~130 s under load 6
def test_jit_compiled_step_under_two_workers_matches_mirrored(tiny_world, tmp_path):
  """MultiWorkerMirroredStrategy (two worker processes, one CPU device each) with
  ``jit_compile``: the workers end with the same weights, those of the
  jit-compiled MirroredStrategy step on two logical devices."""
  import numpy as np
  import test_multiworker as mw  # its worker script and helpers (same directory)
  worker = mw._WORKER.replace(
      'steps=12)', 'steps=3, overrides={"train": {"jit_compile": True}})')
  assert worker != mw._WORKER
  ports = mw._free_ports(2)
  procs = []
  try:
    for i in range(2):
      procs.append(mw._start(["-c", worker, "multiworker", tiny_world,
                              str(tmp_path / "shared"), str(tmp_path / f"w{i}.npz")],
                             tmp_path, tmp_path / f"w{i}.log",
                             TF_CONFIG=mw._tf_config(ports, i)))
    procs.append(mw._start(["-c", worker, "mirrored", tiny_world,
                            str(tmp_path / "mirrored"), str(tmp_path / "m.npz")],
                           tmp_path, tmp_path / "m.log"))
    codes = mw._wait_all(procs, timeout=900)
  finally:
    mw._kill_all(procs)
  logs = [(tmp_path / f"{n}.log").read_text() for n in ("w0", "w1", "m")]
  assert codes == [0, 0, 0], "\n=====\n".join(log[-3000:] for log in logs)
  w0, w1, m = (np.load(tmp_path / f"{n}.npz") for n in ("w0", "w1", "m"))
  synced = [k for k in w0.files if not mw._moving_statistics(k)]
  assert len(synced) > 40
  for k in synced:
    np.testing.assert_array_equal(w0[k], w1[k], err_msg=k)
  for k in w0.files:  # measured 1.2e-7
    scale = max(float(np.max(np.abs(m[k]))), 1.0)
    assert float(np.max(np.abs(w0[k] - m[k]))) < 1e-5 * scale, k
