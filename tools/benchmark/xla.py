"""What XLA is worth: the trainer's step with and without ``jit_compile``.

Two measurements, each on one model and one synthetic batch:

* one device: ``SVLRTask.compiled_train_step`` (the step the "step" part times)
  compiled with XLA and with TensorFlow's kernels;
* MirroredStrategy over ``--xla_devices`` logical CPU devices, in a fresh
  subprocess (logical devices are fixed when TensorFlow starts):
  ``SVLRTask.distributed_train_step``, the trainer's step, with and without
  ``jit_compile`` (with it, XLA compiles each replica's forward and backward;
  the cross-replica sum and Adam run outside XLA, docs/architecture.md "XLA and
  tf.distribute"). Each replica gets its share of the global batch from a
  distributed tf.data iterator, as in training.

The two steps alternate (XLA, TF, XLA, TF, ...) so that a change of load on the
shared machine hits both alike; each is timed ``xla_steps`` times after its
compile and a warm-up call, best and median kept. ``*_xla_speedup`` = TF
seconds / XLA seconds (> 1: XLA is faster). Logical CPU devices share the same
cores, so the Mirrored figures measure the cost of the strategy's structure,
not a speed-up from more hardware.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Callable, Dict

import numpy as np

from svlr_tf.config import ExperimentConfig
from tools.benchmark.common import Settings, ratio, sig
from tools.benchmark.data import synthetic_batch, synthetic_model_inputs, to_tensors
from tools.benchmark.step import build_model

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def time_alternating(steps: Dict[str, Callable[[], float]], repeats: int) -> dict:
  """{name: {"seconds", "seconds_median", "compile_seconds"}} of zero-argument
  steps (each returns its loss), called in turn ``repeats`` times after a
  first (compiling) call and one warm-up call each."""
  out = {}
  for name, step in steps.items():
    t0 = time.perf_counter()
    loss = step()
    out[name] = {"compile_seconds": round(time.perf_counter() - t0, 2)}
    if not np.isfinite(loss):
      raise FloatingPointError(f"non-finite loss {loss} in the {name} step")
    step()
  times = {name: [] for name in steps}
  for _ in range(max(1, repeats)):
    for name, step in steps.items():
      t0 = time.perf_counter()
      step()
      times[name].append(time.perf_counter() - t0)
  for name, seconds in times.items():
    out[name].update(seconds=sig(min(seconds)),
                     seconds_median=sig(float(np.median(seconds))))
  return out


def _summary(prefix: str, timed: dict) -> dict:
  return {f"{prefix}_xla_step_seconds": timed["xla"]["seconds"],
          f"{prefix}_tf_step_seconds": timed["tf"]["seconds"],
          f"{prefix}_xla_speedup": ratio(timed["tf"]["seconds"], timed["xla"]["seconds"]),
          f"{prefix}_detail": timed}


def time_one_device(config: ExperimentConfig, repeats: int,
                    vocabulary_size: int) -> dict:
  """The one-device step with and without XLA (same model, same batch)."""
  inputs = synthetic_model_inputs(config, vocabulary_size)
  task, model, optimizer = build_model(config, *inputs)
  batch = to_tensors(synthetic_batch(config, vocabulary_size))
  compiled = {"xla": task.compiled_train_step(model, optimizer, jit_compile=True),
              "tf": task.compiled_train_step(model, optimizer, jit_compile=False)}
  steps = {name: (lambda s=s: float(s(batch)["loss_total"].numpy()))
           for name, s in compiled.items()}
  return _summary("one_device", time_alternating(steps, repeats))


def _replica_shares(batch: dict, replicas: int):
  """A dataset yielding each replica's share of ``batch`` in turn (forever):
  MirroredStrategy's ``distribute_datasets_from_function`` hands consecutive
  elements of one input pipeline to consecutive replicas."""
  import tensorflow as tf
  shares = [tf.nest.map_structure(lambda x, i=i: np.array_split(x, replicas)[i], batch)
            for i in range(replicas)]
  dataset = tf.data.Dataset.from_tensors(shares[0])
  for share in shares[1:]:
    dataset = dataset.concatenate(tf.data.Dataset.from_tensors(share))
  return dataset.repeat()


def run_mirrored_child(config: ExperimentConfig, repeats: int, devices: int,
                       vocabulary_size: int) -> dict:
  """In a fresh process: MirroredStrategy over ``devices`` logical CPU devices,
  the trainer's distributed step with and without ``jit_compile``."""
  from svlr_tf.runtime.distribute import get_strategy, split_cpu
  split_cpu(devices)
  from svlr_tf.training.task import SVLRTask
  strategy = get_strategy("mirrored")
  inputs = synthetic_model_inputs(config, vocabulary_size)
  tasks = {"xla": SVLRTask(config.replace(train={"jit_compile": True})),
           "tf": SVLRTask(config.replace(train={"jit_compile": False}))}
  with strategy.scope():
    model = tasks["xla"].build_model(*inputs)
    optimizer = tasks["xla"].build_optimizer(model)
  batch = synthetic_batch(config, vocabulary_size)
  iterator = iter(strategy.distribute_datasets_from_function(
      lambda context: _replica_shares(batch, strategy.num_replicas_in_sync)))
  steps = {}
  for name, task in tasks.items():
    step = task.distributed_train_step(model, optimizer, strategy)
    steps[name] = lambda s=step: float(s(iterator)["loss_total"].numpy())
  out = _summary("mirrored", time_alternating(steps, repeats))
  out["mirrored_replicas"] = strategy.num_replicas_in_sync
  return out


def measure_mirrored(settings: Settings) -> dict:
  """:func:`run_mirrored_child` in ``python -m tools.benchmark --xla_child``."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
             PYTHONPATH=os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])))
  cmd = [sys.executable, "-m", "tools.benchmark", "--xla_child",
         f"--xla_steps={settings.xla_steps}", f"--xla_devices={settings.xla_devices}",
         f"--preset={settings.preset}", f"--experiment={settings.experiment}",
         f"--tiny={settings.tiny}"]
  proc = subprocess.run(cmd, cwd=_ROOT, env=env, capture_output=True, text=True)
  lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
  if proc.returncode != 0 or not lines:
    tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
    raise RuntimeError(f"MirroredStrategy subprocess failed (exit {proc.returncode}): "
                       f"{tail}")
  return json.loads(lines[-1])


def child_main(settings: Settings) -> dict:
  """The subprocess's measurement (``--xla_child``)."""
  return run_mirrored_child(settings.config(), settings.xla_steps, settings.xla_devices,
                            vocabulary_size=200 if settings.tiny else 20000)
