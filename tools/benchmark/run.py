"""One benchmark run: the selected parts in order, the derived ratios and
targets (:func:`run`), and the printed summary (:func:`summary`)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from typing import Dict, Optional

from tools.benchmark.common import (MEMORY_RATIO_TARGET, PARTS,
                                    PIPELINE_TARGET_BATCHES_PER_S, STEP_ROOF_TARGET,
                                    Settings, ratio, sig)
from tools.benchmark.data import (prepared_config, store_bytes, warm_page_cache,
                                  warm_split_cache, write_synthetic_prepared)
from tools.benchmark.input_modes import MODES, time_input_modes
from tools.benchmark.memory import measure_memory
from tools.benchmark.pipeline import time_numpy_gather, time_pipeline
from tools.benchmark.roof import best_roof, matmul_roof
from tools.benchmark.step import time_train_step
from tools.benchmark.xla import measure_mirrored, time_one_device

# Sizes of a --tiny run (tiny dims: a VQA image is 6 x 16 float16 = 192 bytes).
TINY = dict(steps=2, xla_steps=2, matmul_repeats=2, pipeline_batches=20, pipeline_gb=2e-4,
            small_gb=2e-4, large_gb=8e-4, memory_steps=3, memory_jit=False)


def _target(value: Optional[float], target: float, at_least: bool) -> dict:
  met = None if value is None else (value >= target if at_least else value <= target)
  return {"value": value, "target": f"{'>=' if at_least else '<='} {target:g}",
          "met": met}


def _machine() -> dict:
  import tensorflow as tf
  return {"cpus": os.cpu_count(), "load_average_start": [round(x, 2) for x in os.getloadavg()],
          "tensorflow": tf.__version__, "python": sys.version.split()[0],
          "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def _run_step(settings: Settings, config, results: dict, log) -> None:
  window = 0.0 if settings.tiny else 1.5
  log("training step: matmul roof ...")
  roof = matmul_roof(config, settings.matmul_repeats, settings.tiny, window)
  log("training step: compile + time ...")
  results.update(time_train_step(config, settings.steps, settings.mixed_precision,
                                 vocabulary_size=200 if settings.tiny else 20000,
                                 min_seconds=window))
  log("training step: matmul roof again ...")
  results.update(best_roof(roof, matmul_roof(config, settings.matmul_repeats,
                                             settings.tiny, window)))
  results["roof_ratio"] = ratio(results["achieved_gflops"], results["matmul_roof_gflops"])
  results["roof_ratio_needed_only"] = ratio(results["achieved_gflops_needed_only"],
                                            results["matmul_roof_gflops"])


def run(settings: Settings, log=print) -> dict:
  """Runs the selected parts; returns the results dict (see the package doc)."""
  config = settings.config()
  results = {"preset": "tiny" if settings.tiny else settings.preset,
             "experiment": settings.experiment, "machine": _machine()}
  parts = set(settings.parts)
  unknown = parts - set(PARTS)
  if unknown:
    raise ValueError(f"Unknown benchmark parts {sorted(unknown)}.")
  if "step" in parts:
    _run_step(settings, config, results, log)
  if "xla" in parts:
    vocabulary_size = 200 if settings.tiny else 20000
    log("XLA: one device, the step with and without jit_compile ...")
    results.update(time_one_device(config, settings.xla_steps, vocabulary_size))
    log(f"XLA: MirroredStrategy on {settings.xla_devices} logical CPU devices, with "
        "and without jit_compile (a subprocess) ...")
    results.update(measure_mirrored(settings))
  tmp = tempfile.mkdtemp(prefix="svlr_benchmark_", dir=settings.tmp_dir)
  try:
    written: Dict[float, str] = {}

    def dataset(gb: float) -> str:
      if gb not in written:
        path = os.path.join(tmp, f"store_{gb:g}gb")
        log(f"writing a synthetic {gb:g} GB paper-format prepared directory ...")
        t0 = time.perf_counter()
        counts = write_synthetic_prepared(path, config, gb * 1e9, settings.genome_fraction)
        warm_split_cache(path, config)
        log(f"  {counts} in {time.perf_counter() - t0:.0f} s")
        written[gb] = path
      return written[gb]

    if "pipeline" in parts:
      path = dataset(settings.pipeline_gb)
      data_config = prepared_config(config, path)
      warm_page_cache(path)
      log("input pipeline: joint_dataset ...")
      results.update(time_pipeline(path, data_config, settings.pipeline_batches))
      log("input pipeline: NumPy gather roof ...")
      results.update(time_numpy_gather(path, data_config, settings.pipeline_batches))
      results["pipeline_store_gb"] = sig(store_bytes(path) / 1e9)
    if "input_modes" in parts:
      path = dataset(settings.pipeline_gb)
      warm_page_cache(path)
      log("input modes: host and resident, input and training step ...")
      modes = time_input_modes(path, prepared_config(config, path), settings.steps,
                               settings.pipeline_batches,
                               min_seconds=0.0 if settings.tiny else 1.5)
      results["input_modes"] = modes
      for mode in MODES:
        for key in ("input_batches_per_s", "step_seconds_with_input",
                    "train_batches_per_s", "mb_per_batch_from_host"):
          results[f"{mode}_{key}"] = modes[mode][key]
      results["resident_load_seconds"] = modes["resident"]["load_seconds"]
    if "memory" in parts:
      sizes = {"small": settings.small_gb, "large": settings.large_gb}
      paths = {name: dataset(gb) for name, gb in sizes.items()}
      log(f"peak memory: training from the {settings.small_gb:g} and "
          f"{settings.large_gb:g} GB stores, one fresh subprocess each ...")
      children = measure_memory(paths, settings)
      for name, child in children.items():
        results[f"memory_{name}_mb"] = child["peak_rss_mb"]
        results[f"memory_{name}"] = child
      results["memory_ratio"] = ratio(results["memory_large_mb"],
                                      results["memory_small_mb"])
  finally:
    shutil.rmtree(tmp, ignore_errors=True)

  if "step" in parts and "pipeline" in parts:
    results["pipeline_ratio"] = sig(results["pipeline_batches_per_s"]
                                    * results["step_seconds"], 3)
  if "pipeline" in parts:
    results["pipeline_roof_ratio"] = ratio(results["pipeline_batches_per_s"],
                                           results["pipeline_roof_batches_per_s"])
  results["targets"] = {
      "roof_ratio": _target(results.get("roof_ratio"), STEP_ROOF_TARGET, True),
      "pipeline_batches_per_s": _target(results.get("pipeline_batches_per_s"),
                                        PIPELINE_TARGET_BATCHES_PER_S, True),
      "memory_ratio": _target(results.get("memory_ratio"), MEMORY_RATIO_TARGET, False),
  }
  results["targets_apply"] = not settings.tiny and settings.preset == "paper"
  results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
  return results


SUMMARY = (
    ("step_seconds", "training step (s, best of {steps})"),
    ("step_gflop", "step GFLOP (analytic, svlr_tf/training/flops.py)"),
    ("achieved_gflops", "achieved GFLOP/s"),
    ("matmul_roof_gflops", "float32 matmul roof GFLOP/s (TF, XLA)"),
    ("roof_ratio", "step / roof"),
    ("roof_ratio_needed_only", "step / roof (needed backward only)"),
    ("one_device_xla_step_seconds", "step with XLA, one device (s, best of {xla_steps})"),
    ("one_device_tf_step_seconds", "step without XLA, one device (s)"),
    ("one_device_xla_speedup", "XLA speed-up, one device (TF s / XLA s)"),
    ("mirrored_xla_step_seconds", "step with XLA, Mirrored on {xla_devices} CPU devices (s)"),
    ("mirrored_tf_step_seconds", "step without XLA, Mirrored (s)"),
    ("mirrored_xla_speedup", "XLA speed-up, Mirrored (TF s / XLA s)"),
    ("pipeline_batches_per_s", "pipeline batches/s"),
    ("pipeline_gb_per_s", "pipeline GB/s (float16 features)"),
    ("pipeline_ratio", "pipeline batches/s x step s"),
    ("pipeline_roof_batches_per_s", "NumPy gather roof batches/s"),
    ("pipeline_roof_ratio", "pipeline / gather roof"),
    ("host_input_batches_per_s", "host input batches/s"),
    ("resident_input_batches_per_s", "resident input batches/s (+ device gather)"),
    ("host_mb_per_batch_from_host", "host input MB per batch"),
    ("resident_mb_per_batch_from_host", "resident input MB per batch"),
    ("host_step_seconds_with_input", "host: step with input (s)"),
    ("resident_step_seconds_with_input", "resident: step with input (s)"),
    ("host_train_batches_per_s", "host: training batches/s"),
    ("resident_train_batches_per_s", "resident: training batches/s"),
    ("resident_load_seconds", "resident: loading the features (s)"),
    ("memory_small_mb", "peak RSS, small store (MB)"),
    ("memory_large_mb", "peak RSS, large store (MB)"),
    ("memory_ratio", "large / small"),
)


def summary(results: dict, settings: Settings) -> str:
  lines = [f"svlr_tf benchmark: preset {results['preset']}, {results['experiment']}"]
  for key, label in SUMMARY:
    if key in results:
      label = label.format(steps=settings.steps, xla_steps=settings.xla_steps,
                           xla_devices=settings.xla_devices)
      lines.append(f"  {label:44s} {results[key]}")
  for name, t in results["targets"].items():
    if t["value"] is not None:
      lines.append(f"  target {name} {t['target']}: {'met' if t['met'] else 'MISSED'}")
  return "\n".join(lines)
