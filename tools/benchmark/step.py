"""The training step: the trainer's own ``SVLRTask.train_step``, built and
compiled as the trainer builds it, timed on a synthetic paper-scale batch, with
its analytic FLOPs (:mod:`svlr_tf.training.flops`)."""

from __future__ import annotations

import time

import numpy as np

from svlr_tf.training import flops
from svlr_tf.config import ExperimentConfig
from tools.benchmark.common import best_seconds, sig
from tools.benchmark.data import synthetic_batch, synthetic_model_inputs, to_tensors


def build_model(config: ExperimentConfig, word_vectors, object_class_words,
                attribute_class_words, mixed_precision: str = "none"):
  """(task, model, optimizer) built as the trainer builds them
  (``svlr_tf.training.task.SVLRTask``: optimizer built up front, loss-scaled under
  mixed_float16)."""
  from svlr_tf.training.task import SVLRTask
  task = SVLRTask(config.replace(train={"mixed_precision": mixed_precision}))
  model = task.build_model(word_vectors, object_class_words, attribute_class_words)
  return task, model, task.build_optimizer(model)


def make_train_step(task, model, optimizer, jit_compile: bool = True, resident=None):
  """The trainer's own step, ``SVLRTask.train_step`` (Eq. 10 loss + weight decay,
  gradients, Adam update; returns the losses), compiled for one device; with
  ``resident`` (``SVLRTask.build_resident``), after the device-side gather."""
  return task.compiled_train_step(model, optimizer, jit_compile=jit_compile,
                                  resident=resident)


def time_train_step(config: ExperimentConfig, steps: int, mixed_precision: str = "none",
                    vocabulary_size: int = 20000, min_seconds: float = 0.0) -> dict:
  """Compiles and times the training step on one synthetic batch (reused)."""
  inputs = synthetic_model_inputs(config, vocabulary_size)
  task, model, optimizer = build_model(config, *inputs, mixed_precision=mixed_precision)
  batch = to_tensors(synthetic_batch(config, vocabulary_size))
  step = make_train_step(task, model, optimizer, jit_compile=True)
  t0 = time.perf_counter()
  losses = step(batch)
  loss = float(losses["loss_total"].numpy())
  compile_seconds = time.perf_counter() - t0
  if not np.isfinite(loss):
    raise FloatingPointError(f"non-finite loss {loss} in the benchmark step")
  best, median = best_seconds(lambda: step(batch)["loss_total"].numpy(), steps,
                              warmup=1, min_seconds=min_seconds)
  step_flop = flops.train_step_flops(config)
  needed_flop = flops.train_step_flops(config, needed_only=True)
  macs = flops.forward_macs(config)
  return {"step_seconds": sig(best), "step_seconds_median": sig(median),
          "step_compile_seconds": round(compile_seconds, 2),
          "step_gflop": sig(step_flop / 1e9, 6),
          "forward_gmacs": sig(macs["total"] / 1e9),
          "forward_gmacs_by_term": {k: sig(v / 1e9) for k, v in macs.items()},
          "achieved_gflops": sig(step_flop / best / 1e9),
          "step_gflop_needed_only": sig(needed_flop / 1e9, 6),
          "achieved_gflops_needed_only": sig(needed_flop / best / 1e9),
          "mixed_precision": mixed_precision}
