"""Both input modes (``train.input_mode``, svlr_tf/data/input_mode.py) in one run,
on the same synthetic paper-format prepared directory as the pipeline part:

* ``host``: the training batches of ``svlr_tf.data.pipeline`` (features gathered
  on the host from the memory-mapped stores, shipped with every batch);
* ``resident``: the training features loaded once into the device's memory (here
  the CPU: the same code), batches of indices, gathered on the device.

For each mode: input batches/s (host: the dataset's batches; resident: the
dataset's index batches plus the device-side gather of their features, compiled),
the bytes a batch carries from the host, and the training step with its input
included (``next(iterator)`` + the trainer's compiled step, best and median of
``steps`` after one compiling step), as seconds and batches/s.
"""

from __future__ import annotations

import time
from typing import Dict

import numpy as np

from svlr_tf.config import ExperimentConfig
from tools.benchmark.common import best_seconds, sig
from tools.benchmark.step import build_model, make_train_step

MODES = ("host", "resident")


def _batch_mb(batch) -> float:
  """MB of the arrays of one dataset element (what the host ships per step)."""
  import tensorflow as tf
  return sum(t.numpy().nbytes for t in tf.nest.flatten(batch)) / 1e6


def time_mode(data, stores, config: ExperimentConfig, mode: str, steps: int,
              batches: int, min_seconds: float = 0.0, jit_compile: bool = True,
              warmup: int = 5) -> dict:
  """One mode's figures (see the module doc)."""
  import tensorflow as tf
  config = config.replace(train={"input_mode": mode})
  la = config.data.max_answer_words
  task, model, optimizer = build_model(config, data.word_vectors,
                                       data.class_word_ids("objects", la),
                                       data.class_word_ids("attributes", la))
  t0 = time.perf_counter()
  resident = task.build_resident(data, stores, log=lambda line: None)
  out = {"load_seconds": round(time.perf_counter() - t0, 2)} if resident else {}

  iterator = iter(task.build_inputs(data, stores, seed=1, resident=resident))
  if resident is not None:
    gather = tf.function(resident.device_batch)
    next_batch = lambda: gather(next(iterator))
  else:
    next_batch = lambda: next(iterator)
  out["mb_per_batch_from_host"] = sig(_batch_mb(next(iterator)))
  for _ in range(warmup):
    next_batch()
  t0 = time.perf_counter()
  for _ in range(batches):
    next_batch()
  out["input_batches_per_s"] = sig(batches / (time.perf_counter() - t0))

  step = make_train_step(task, model, optimizer, jit_compile=jit_compile,
                         resident=resident)
  loss = float(step(next(iterator))["loss_total"].numpy())  # traces and compiles
  if not np.isfinite(loss):
    raise FloatingPointError(f"non-finite loss {loss} in the {mode} benchmark step")
  best, median = best_seconds(lambda: step(next(iterator))["loss_total"].numpy(),
                              steps, warmup=1, min_seconds=min_seconds)
  out.update({"step_seconds_with_input": sig(best),
              "step_seconds_with_input_median": sig(median),
              "train_batches_per_s": sig(1.0 / best)})
  return out


def time_input_modes(data_dir: str, config: ExperimentConfig, steps: int, batches: int,
                     min_seconds: float = 0.0) -> Dict[str, dict]:
  """``time_mode`` of host, then resident, on the prepared data of ``data_dir``;
  the resident copy is freed before this returns."""
  from svlr_tf.data.prepared import PreparedData
  data = PreparedData(data_dir)
  stores = {kind: data.feature_store(kind) for kind in ("vqa", "genome")}
  return {mode: time_mode(data, stores, config, mode, steps, batches, min_seconds)
          for mode in MODES}
