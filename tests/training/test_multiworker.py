"""MultiWorkerMirroredStrategy for real: worker processes on this machine.

Each worker is a subprocess with its own ``TF_CONFIG`` (127.0.0.1, free ports) and
its own CPU device.  Every subprocess has a hard timeout and is killed in a
``finally``, so a hung collective never hangs the suite.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from svlr_tf.runtime import distribute
from svlr_tf.data import pipeline

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# -- the input: each worker gathers only its part of each global batch -------------


def _batches(data, stores, shard, steps=3):
  from svlr_tf.training.experiment import config_for_data
  cfg = config_for_data("tiny", "joint_svlr", data, seed=0, steps=steps)
  ds = pipeline.joint_dataset(data, stores, cfg, seed=7, num_batches=steps, shard=shard)
  return [{task: {k: v.numpy() for k, v in batch.items()} for task, batch in e.items()}
          for e in ds]


def _recording(store, counts):
  """``store`` whose gathers record how many rows they fetch."""
  for name in ("gather_images", "gather_rows"):
    method = getattr(store, name)

    def recorded(ids, *args, _method=method, _name=name, **kwargs):
      counts.setdefault(_name, []).append(len(ids))
      return _method(ids, *args, **kwargs)
    setattr(store, name, recorded)
  return store


def test_each_worker_gathers_only_its_part_of_the_global_batch(tiny_data):
  whole = _batches(tiny_data, None, None)
  counts = [{}, {}]
  parts = [_batches(tiny_data, {name: _recording(tiny_data.feature_store(name), c)
                                for name in ("vqa", "genome")},
                    pipeline.Shard(index=i, count=2, replicas=1))
           for i, c in enumerate(counts)]
  assert len(whole) == len(parts[0]) == len(parts[1]) == 3
  for step, batch in enumerate(whole):
    for task, arrays in batch.items():
      for key, value in arrays.items():
        joined = np.concatenate([parts[0][step][task][key], parts[1][step][task][key]])
        np.testing.assert_array_equal(joined, value, err_msg=f"{task}/{key}")
  # The gather itself reads half of each global batch (P = 4 questions, M = 16
  # regions in the tiny preset), never the whole batch.
  for c in counts:
    assert c == {"gather_images": [2] * 3, "gather_rows": [8] * 3}, counts


def test_one_pipeline_with_two_replicas_yields_their_halves_in_order(tiny_data):
  whole = _batches(tiny_data, None, None, steps=2)
  halves = _batches(tiny_data, None, pipeline.Shard(index=0, count=1, replicas=2), steps=2)
  assert len(halves) == 4
  for step, batch in enumerate(whole):
    for task, arrays in batch.items():
      for key, value in arrays.items():
        joined = np.concatenate([halves[2 * step][task][key],
                                 halves[2 * step + 1][task][key]])
        np.testing.assert_array_equal(joined, value)


def test_one_pipeline_of_one_replica_is_the_unsharded_stream(tiny_data):
  whole = _batches(tiny_data, None, None, steps=2)
  same = _batches(tiny_data, None, pipeline.Shard(index=0, count=1, replicas=1), steps=2)
  for a, b in zip(whole, same):
    for task in a:
      for key in a[task]:
        np.testing.assert_array_equal(a[task][key], b[task][key])


def test_a_batch_the_replicas_do_not_divide_is_refused():
  with pytest.raises(ValueError, match="not divisible by the 3 replicas"):
    pipeline.Shard(index=0, count=3, replicas=1).replica_batch_size(4)


# -- roles and locks ------------------------------------------------------------------


def _tf_config(ports, index, task_type="worker", chief=False):
  cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
  if chief:
    cluster = {"chief": [cluster["worker"][0]], "worker": cluster["worker"][1:]}
  return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


def test_the_chief_is_worker_0_or_the_chief_task():
  role = distribute.role_from_tf_config({"TF_CONFIG": _tf_config([1, 2], 0)})
  assert role == distribute.WorkerRole("worker 0", True, 2) and role.name == "worker0"
  assert not distribute.role_from_tf_config({"TF_CONFIG": _tf_config([1, 2], 1)}).is_chief
  with_chief = {"TF_CONFIG": _tf_config([1, 2, 3], 0, chief=True)}
  assert not distribute.role_from_tf_config(with_chief).is_chief  # worker 0
  assert distribute.role_from_tf_config(
      {"TF_CONFIG": _tf_config([1, 2, 3], 0, "chief", chief=True)}) == \
      distribute.WorkerRole("chief 0", True, 3)
  for bad in ({}, {"TF_CONFIG": "{"}, {"TF_CONFIG": '{"task": {}}'},
              {"TF_CONFIG": _tf_config([1], 0, "evaluator")}):
    with pytest.raises(ValueError) as e:
      distribute.role_from_tf_config(bad)
    assert "\n" not in str(e.value)


def test_a_worker_locks_the_shared_workdir_as_itself(tmp_path):
  from svlr_tf.runtime.workdir import DirectoryInUse, lock_workdir
  stale = tmp_path / ".config.json.abcd1234.tmp"
  stale.write_text("")
  scratch = tmp_path / ".worker1" / "checkpoints"
  scratch.mkdir(parents=True)
  with lock_workdir(str(tmp_path), worker="worker1"):
    assert not scratch.exists()  # its own leftovers only
    assert stale.exists()  # the chief's files are the chief's
    assert (tmp_path / ".lock-worker1").exists()
    # The chief locks the same directory at the same time (here: another process).
    code = ("import sys; from svlr_tf.runtime.workdir import lock_workdir\n"
            "with lock_workdir(sys.argv[1]): pass\n"
            "with lock_workdir(sys.argv[1], worker='worker1'): pass\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=120,
                          capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 1, proc.stderr
    assert "DirectoryInUse" in proc.stderr and "as worker1" in proc.stderr
    assert not stale.exists()  # removed by the chief's lock in the child


def test_variables_synchronized_on_read_are_refused(tiny_data, tmp_path):
  import types
  import tensorflow as tf
  from svlr_tf.training.experiment import config_for_data
  from svlr_tf.training.trainer import Trainer
  cfg = config_for_data("tiny", "joint_svlr", tiny_data, seed=0, steps=1)
  trainer = Trainer(cfg, tiny_data, str(tmp_path), log=lambda s: None)
  Trainer._check_mirrored_only(trainer)  # the model and Adam: none
  on_read = tf.Variable(0.0, synchronization=tf.VariableSynchronization.ON_READ,
                        aggregation=tf.VariableAggregation.SUM, name="count")
  fake = types.SimpleNamespace(model=trainer.model, optimizer=types.SimpleNamespace(
      variables=list(trainer.optimizer.variables) + [on_read]))
  with pytest.raises(NotImplementedError, match="count"):
    Trainer._check_mirrored_only(fake)


def _float32_sum(values):
  """A float32 all-reduce's arithmetic: one value added at a time."""
  total = np.zeros_like(values[0])
  for v in values:
    total = (total + v).astype(np.float32)
  return total


def test_the_start_check_is_exact_for_a_cluster_of_many_replicas():
  from svlr_tf.training.trainer import start_signature
  rng = np.random.default_rng(0)
  for step, run in [(0, 0), (100000, (1 << 20) - 1), (3_000_000, 1048377)] + [
      (int(s), int(r)) for s, r in zip(rng.integers(0, 1 << 30, 20),
                                       rng.integers(0, 1 << 20, 20))]:
    own = start_signature(step, run)
    assert own.dtype == np.float32 and np.all(own < 1024)
    digits = own.astype(np.int64)
    assert (digits[0] << 20) + (digits[1] << 10) + digits[2] == step
    assert (digits[3] << 10) + digits[4] == run
    for replicas in (2, 16, 64, 1024):  # e.g. 128 hosts x 8 GPUs
      assert np.array_equal(_float32_sum([own] * replicas), own * np.float32(replicas))
    other = start_signature(step + 1, run)
    assert not np.array_equal(_float32_sum([own] * 63 + [other]),
                              own * np.float32(64))
  # The sum of the numbers themselves (the check before) is not exact beyond 16
  # replicas: a cluster of 64 that does start the same run would be refused.
  run = np.float32(1048377)
  assert _float32_sum([run] * 64) != run * 64


# -- two workers ----------------------------------------------------------------------


def _free_ports(n):
  socks = [socket.socket() for _ in range(n)]
  try:
    for s in socks:
      s.bind(("127.0.0.1", 0))
    return [s.getsockname()[1] for s in socks]
  finally:
    for s in socks:
      s.close()


def _env(**extra):
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT, **extra)


def _start(args, cwd, log, **env):
  out = open(log, "w")
  return subprocess.Popen([sys.executable] + args, cwd=cwd, env=_env(**env), stdout=out,
                          stderr=subprocess.STDOUT)


def _wait_all(procs, timeout):
  deadline = time.time() + timeout
  for p in procs:
    p.wait(timeout=max(1.0, deadline - time.time()))
  return [p.returncode for p in procs]


def _kill_all(procs):
  for p in procs:
    if p.poll() is None:
      p.kill()
      p.wait()


_WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    strategy_name, data_dir, workdir, out = sys.argv[1:5]
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    from svlr_tf.runtime.distribute import get_strategy, split_cpu, worker_role
    if strategy_name == "mirrored":
      split_cpu(2)
    import tensorflow as tf
    strategy = get_strategy(strategy_name, collective_timeout=120)
    tf.config.experimental.enable_op_determinism()
    from svlr_tf.data.prepared import PreparedData
    from svlr_tf.training.experiment import config_for_data
    from svlr_tf.training.trainer import Trainer
    data = PreparedData(data_dir)
    # Two checkpoint segments (10 + 2 steps): the second reads a fresh stream.
    cfg = config_for_data("tiny", "joint_svlr", data, seed=seed, steps=12)
    trainer = Trainer(cfg, data, workdir, strategy=strategy, log=print)
    fit = trainer.fit()
    np.savez(out, **{f"{i}:{v.path}": np.asarray(v.numpy()) for i, v in
                     enumerate(trainer.model.weights + trainer.optimizer.variables)})
    print(json.dumps({"role": worker_role(strategy).task, "fit": fit,
                      "replicas": strategy.num_replicas_in_sync}))
""")


def _moving_statistics(name):
  # Batch-norm moving statistics are updated by each replica from its own batch
  # (Keras keeps them per replica; the checkpoint and evaluation use the first
  # replica's, i.e. the chief's): they are not synchronized weights.
  return "moving_mean" in name or "moving_variance" in name


@pytest.mark.slow
def test_two_workers_end_with_the_same_weights_as_mirrored_on_two_devices(
    tiny_world, tmp_path):
  ports = _free_ports(2)
  procs = []
  try:
    for i in range(2):
      procs.append(_start(["-c", _WORKER, "multiworker", tiny_world,
                           str(tmp_path / "shared"), str(tmp_path / f"w{i}.npz")],
                          tmp_path, tmp_path / f"w{i}.log",
                          TF_CONFIG=_tf_config(ports, i)))
    procs.append(_start(["-c", _WORKER, "mirrored", tiny_world,
                         str(tmp_path / "mirrored"), str(tmp_path / "m.npz")],
                        tmp_path, tmp_path / "m.log"))
    codes = _wait_all(procs, timeout=480)
  finally:
    _kill_all(procs)
  logs = [(tmp_path / f"{n}.log").read_text() for n in ("w0", "w1", "m")]
  assert codes == [0, 0, 0], "\n=====\n".join(log[-3000:] for log in logs)
  results = [json.loads(log.strip().splitlines()[-1]) for log in logs]
  assert [r["role"] for r in results] == ["worker 0", "worker 1", ""]
  assert [r["replicas"] for r in results] == [2, 2, 2]
  assert results[0]["fit"]["steps"] == results[1]["fit"]["steps"] == 12
  assert results[1]["fit"]["best_step"] is None  # only the chief selects

  w0, w1, m = (np.load(tmp_path / f"{n}.npz") for n in ("w0", "w1", "m"))
  synced = [k for k in w0.files if not _moving_statistics(k)]
  assert len(synced) > 40
  for k in synced:  # every trainable weight and optimizer slot, bit for bit
    np.testing.assert_array_equal(w0[k], w1[k], err_msg=k)
  # The two workers' replicas saw exactly the global batches that MirroredStrategy
  # splits over two devices: the same training up to the all-reduce's rounding
  # (measured 2e-7; a wrong shard moves the weights by 1e-2 and more).
  for k in w0.files:
    scale = max(float(np.max(np.abs(m[k]))), 1e-3)
    assert float(np.max(np.abs(w0[k] - m[k]))) < 1e-5 * max(scale, 1.0), k

  shared = tmp_path / "shared"
  assert not (shared / ".worker1").exists()  # its checkpoints were scratch
  assert sorted(p.name for p in (shared / "checkpoints").glob("*.index")) == [
      "ckpt-10.index", "ckpt-12.index"]
  # Only the chief wrote summaries (event files carry the writer's pid).
  chief_pid = str(procs[0].pid)
  events = list(shared.rglob("events.out.tfevents.*"))
  assert events and all(p.name.split(".")[-3] == chief_pid for p in events), events


@pytest.mark.slow
def test_workers_given_different_runs_stop_before_training(tiny_world, tmp_path):
  ports = _free_ports(2)
  procs = []
  try:
    for i in range(2):  # worker 1 trains another seed: another run
      procs.append(_start(["-c", _WORKER, "multiworker", tiny_world,
                           str(tmp_path / "shared"), str(tmp_path / f"w{i}.npz"), str(i)],
                          tmp_path, tmp_path / f"w{i}.log",
                          TF_CONFIG=_tf_config(ports, i)))
    codes = _wait_all(procs, timeout=300)
  finally:
    _kill_all(procs)
  logs = [(tmp_path / f"w{i}.log").read_text() for i in range(2)]
  assert codes[0] != 0 and codes[1] != 0, logs
  assert any("the workers do not start the same run" in log for log in logs), logs
  assert not list((tmp_path / "shared").glob("checkpoints/ckpt-*"))


def _zero_shot(workdir, data_dir, steps):
  return ["-m", "reproduce.zero_shot", "--preset", "tiny", "--seeds", "1", "--steps",
          str(steps), "--data_dir", data_dir, "--workdir", workdir, "--deterministic",
          "--strategy", "multiworker", "--collective_timeout", "120"]


def _cluster(tmp_path, workdir, data_dir, steps, tag):
  ports = _free_ports(2)
  return [_start(_zero_shot(str(workdir), data_dir, steps), tmp_path,
                 tmp_path / f"{tag}{i}.log", TF_CONFIG=_tf_config(ports, i))
          for i in range(2)]


def _checkpoint(path):
  import tensorflow as tf
  reader = tf.train.load_checkpoint(str(path))
  return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


@pytest.mark.slow
@pytest.mark.parametrize("killed_worker", [1, 0], ids=["worker1", "chief"])
def test_a_killed_worker_stops_the_other_and_both_resume_to_the_same_result(
    tiny_world, tmp_path, killed_worker):
  steps = 30
  survivor = 1 - killed_worker
  procs = []
  try:
    # An uninterrupted two-worker run.
    procs = _cluster(tmp_path, tmp_path / "whole", tiny_world, steps, "whole")
    assert _wait_all(procs, timeout=420) == [0, 0], (
        (tmp_path / "whole0.log").read_text()[-3000:])

    # The same run; one worker is killed (SIGKILL) once the first checkpoint exists.
    killed = tmp_path / "killed"
    procs = _cluster(tmp_path, killed, tiny_world, steps, "killed")
    ckpt_dir = killed / "seed0" / "genome_only" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline and procs[killed_worker].poll() is None:
      if any(ckpt_dir.glob("ckpt-*.index")):
        break
      time.sleep(0.05)
    assert procs[killed_worker].poll() is None, "ended before the first checkpoint"
    procs[killed_worker].send_signal(signal.SIGKILL)
    procs[killed_worker].wait()
    t0 = time.time()
    # The survivor fails on its next collective (a refused connection, or
    # TensorFlow's heartbeats; the collective timeout bounds a stuck worker) with
    # a one-line error.
    code = _wait_all(procs[survivor:survivor + 1], timeout=240)[0]
    waited = time.time() - t0
    log = (tmp_path / f"killed{survivor}.log").read_text()
    assert code == 1, log[-3000:]
    last = log.strip().splitlines()[-1]
    assert last.startswith("error: ") and "navailable" in last, last
    assert waited < 200, waited
    assert not (killed / "zero_shot.json").exists()

    # Both restart: they resume from the checkpoint and finish.
    procs = _cluster(tmp_path, killed, tiny_world, steps, "again")
    codes = _wait_all(procs, timeout=420)
    again = (tmp_path / "again0.log").read_text()
    assert codes == [0, 0], again[-3000:] + (tmp_path / "again1.log").read_text()[-2000:]
    assert "resumed from" in again
  finally:
    _kill_all(procs)
  # The data of a segment depends only on its first step: the resumed run is the
  # uninterrupted one, bit for bit.
  final = f"seed0/genome_only/checkpoints/ckpt-{steps}"
  a, b = _checkpoint(tmp_path / "whole" / final), _checkpoint(killed / final)
  assert a.keys() == b.keys() and len(a) > 20
  for k in a:
    np.testing.assert_array_equal(a[k], b[k], err_msg=k)
  whole = json.load(open(tmp_path / "whole" / "zero_shot.json"))
  resumed = json.load(open(killed / "zero_shot.json"))
  assert whole["zero_shot"] == resumed["zero_shot"]
  assert whole["recognition_test"] == resumed["recognition_test"]


_GRIDS = textwrap.dedent("""
    import sys
    from absl import flags
    from reproduce import common
    from svlr_tf.training import grid
    common.define_common_flags("unused")
    flags.FLAGS(["prog", "--strategy", "multiworker", "--workdir", sys.argv[1]])
    grid.run_grid = lambda rows, seeds, **kwargs: f"grid of {list(rows)}"
    setup = common.Setup(data=None, strategy=None, dataset="")
    print(common.run_grid(["a"], setup, select=False, last=False), flush=True)
    print(common.run_grid(["b"], setup, select=False), flush=True)
    print("after the last grid", flush=True)
""")


@pytest.mark.parametrize("index", [0, 1])
def test_a_worker_leaves_after_the_last_grid_of_a_module(tmp_path, index):
  proc = subprocess.run([sys.executable, "-c", _GRIDS, str(tmp_path)], cwd=tmp_path,
                        env=_env(TF_CONFIG=_tf_config([1, 2], index)),
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr
  lines = proc.stdout.splitlines()
  assert lines[0] == "grid of ['a']"  # every worker trains every grid
  if index == 0:  # the chief goes on to the tables
    assert lines[1:] == ["grid of ['b']", "after the last grid"]
  else:
    assert lines[1:] == ["worker 1: training done; the chief writes the results"]


_WAIT_FOR_WORLD = textwrap.dedent("""
    import sys, time
    from absl import flags
    from reproduce import common
    from svlr_tf.runtime.workdir import DirectoryInUse
    common.define_common_flags("unused")
    flags.FLAGS(["prog", "--strategy", sys.argv[2], "--workdir", sys.argv[1]])
    calls = []

    def generated_by_another_process(preset, data_dir):
      calls.append(preset)
      if len(calls) < 3:
        raise DirectoryInUse("runs/data/world-tiny", "world is in use by process 1")
      return "the world"
    common.resolve_data = generated_by_another_process
    time.sleep = lambda seconds: None
    try:
      print(common._resolve_data_as_worker(), len(calls), flush=True)
    except DirectoryInUse as e:
      print("stopped:", e, len(calls), flush=True)
""")


@pytest.mark.parametrize("index", [0, 1])
def test_every_worker_waits_while_another_process_generates_the_world(tmp_path, index):
  # The workers start together: whichever generates the embedded world, the others
  # (the chief too) wait for it instead of stopping and leaving the rest waiting.
  proc = subprocess.run([sys.executable, "-c", _WAIT_FOR_WORLD, str(tmp_path),
                         "multiworker"], cwd=tmp_path,
                        env=_env(TF_CONFIG=_tf_config([1, 2], index)),
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.split() == ["the", "world", "3"], proc.stdout


def test_one_process_stops_at_once_while_another_generates_the_world(tmp_path):
  proc = subprocess.run([sys.executable, "-c", _WAIT_FOR_WORLD, str(tmp_path),
                         "default"], cwd=tmp_path, env=_env(),
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.startswith("stopped: ") and proc.stdout.split()[-1] == "1", proc.stdout


def test_batch_sizes_the_cluster_cannot_shard_are_named_before_training():
  from svlr_tf.config import DataConfig
  from svlr_tf.data.indices import batch_size_problem
  data = DataConfig(vqa_batch_size=50, recognition_batch_size=200)
  assert batch_size_problem(data, 2) is None
  problem = batch_size_problem(data, 4)
  assert problem.startswith("data.vqa_batch_size=50 is not divisible by the cluster's 4")
  assert "--config.data.vqa_batch_size" in problem and "\n" not in problem
  assert "recognition_batch_size" in batch_size_problem(
      DataConfig(vqa_batch_size=48, recognition_batch_size=200), 16)


def test_retrain_stale_and_resident_input_are_refused_under_multiworker(tmp_path):
  import tensorflow as tf
  from svlr_tf.training.experiment import run_experiment
  strategy = object.__new__(tf.distribute.MultiWorkerMirroredStrategy)
  with pytest.raises(ValueError, match="retrain_stale moves run directories"):
    run_experiment(None, None, str(tmp_path / "run"), strategy=strategy,
                   retrain_stale=True)
  assert not os.path.exists(tmp_path / "run")
  # On the command line, before TensorFlow starts (no TF_CONFIG needed).
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  proc = subprocess.run(
      [sys.executable, "-m", "reproduce.zero_shot", "--strategy", "multiworker",
       "--input_mode", "resident", "--workdir", str(tmp_path / "zs")], cwd=tmp_path,
      env=env, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and "input_mode=resident is not implemented" in lines[0], \
      proc.stderr
  assert not os.path.exists(tmp_path / "zs")
