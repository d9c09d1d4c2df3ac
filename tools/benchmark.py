r"""Performance benchmark at paper scale: training step, input pipeline, memory.

    python -m tools.benchmark [--out out.json] [--small_gb 1 --large_gb 8]
    python -m tools.benchmark --tiny --out /tmp/b.json     # smoke run, < 30 s

Measures, in one run, at the ``paper`` preset (svlr_tf/presets.py: 100 regions of
2048-d per image, 1000 + 1000 classes, M = 200, P = 50 questions x 18 choices,
a 2500-d bimodal layer) and the ``joint_svlr`` experiment:

1. Training step: the trainer's own step (``svlr_tf.task.SVLRTask.train_step``:
   forward + backward + Adam update), compiled with XLA
   (``jit_compile=True``), on synthetic batches built directly as tensors (the
   shapes and dtypes of docs/architecture.md "Batches", ``tools/benchmark_data.py``;
   features float16 as the pipeline delivers them). Its FLOPs come from :mod:`svlr_tf.flops` (every
   matmul of the forward, x2 for FLOPs, x3 for forward + backward;
   ``*_needed_only`` leaves out the input gradients of layers with constant
   inputs, which are never computed). The matmul roof is the best rate of
   float32 matmuls (TensorFlow's kernel and XLA) at 2048^3, 4096^3 and the
   step's own largest shapes, measured before and after the step in the same
   run. Times are the best of the repeats (the machine is shared; the best is
   the least disturbed); medians are in the JSON too.
2. Input pipeline. ``svlr_tf.data.pipeline.joint_dataset`` (feature store ->
   tf.data -> batches ready for the step) over a synthetic paper-format prepared
   directory whose feature stores are in the page cache, in paper-scale batches
   per second; GB/s of float16 region features; ``pipeline_ratio`` = batches/s x
   step seconds (> 1: the pipeline outruns the step). Its roof is a plain NumPy
   gather of the same batches (50 images + 200 Genome rows) from the same
   memory-mapped shards into reused buffers, one thread.
3. Peak memory. A fresh subprocess per store size (both run at once) opens a synthetic prepared
   directory (VQA store + Genome store, ``--small_gb`` / ``--large_gb`` on disk in
   all, records spanning every image) and trains a few steps of a small model
   (paper data dims, small widths) on ``joint_dataset`` at paper batch sizes.
   Peak RSS is VmHWM of /proc/self/status (falls back to getrusage). Record
   files are parsed into the prepared cache by the parent first, so the children
   measure training, not JSON parsing.

Targets on the 2-core reference machine: step >= 50% of the matmul roof;
pipeline >= 150 batches/s; peak memory with the larger store <= 1.2x the
smaller one. The JSON (``--out``) has the keys ``step_seconds``,
``step_gflop``, ``achieved_gflops``, ``matmul_roof_gflops``, ``roof_ratio``,
``pipeline_batches_per_s``, ``pipeline_gb_per_s``, ``pipeline_ratio``,
``pipeline_roof_batches_per_s``, ``pipeline_roof_ratio``, ``memory_small_mb``,
``memory_large_mb``, ``memory_ratio`` and ``targets`` ({name: {value, target,
met}}), plus details (per-shape roof, FLOP terms, RSS breakdown, machine).

``--mixed_precision mixed_float16 | mixed_bfloat16`` times the step under a
Keras mixed-precision policy (for GPUs; on CPUs it is usually slower). Synthetic
stores go to a temporary directory under ``--tmp_dir`` and are removed at the end.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, Optional, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import flags, logging

from svlr_tf import flops
from svlr_tf.config import ExperimentConfig
from svlr_tf.presets import world_preset_config
from tools.benchmark_data import (  # re-exported: the benchmark's inputs
    prepared_config, store_bytes, synthetic_batch, synthetic_model_inputs, to_tensors,
    warm_page_cache, warm_split_cache, write_synthetic_prepared)

FLAGS = flags.FLAGS
flags.DEFINE_string("out", None, "Write the results here (JSON); the data tools' convention: --out is what a tool writes.")
flags.DEFINE_alias("json", "out")
flags.DEFINE_string("preset", "paper", "Dimensions to benchmark (svlr_tf/presets.py).")
flags.DEFINE_string("experiment", "joint_svlr", "Experiment (svlr_tf/config.py).")
flags.DEFINE_bool("tiny", False, "Smoke run: tiny dims, few repeats, small stores.")
flags.DEFINE_list("parts", ["step", "pipeline", "memory"],
                  "Parts to run: step, pipeline, memory.")
flags.DEFINE_integer("steps", 5, "Timed training steps (after compile + warm-up).")
flags.DEFINE_integer("matmul_repeats", 5, "Timed calls per roof matmul shape.")
flags.DEFINE_enum("mixed_precision", "none", ["none", "mixed_float16", "mixed_bfloat16"],
                  "Keras dtype policy for the timed step.")
flags.DEFINE_integer("pipeline_batches", 200, "Timed pipeline batches.")
flags.DEFINE_float("pipeline_gb", 1.0, "Size of the synthetic store the pipeline reads "
                   "(GB on disk; reused as the small memory store when equal).")
flags.DEFINE_float("small_gb", 1.0, "Smaller store of the memory comparison (GB).")
flags.DEFINE_float("large_gb", 8.0, "Larger store of the memory comparison (GB).")
flags.DEFINE_integer("memory_steps", 30, "Training steps per memory subprocess.")
flags.DEFINE_bool("memory_jit", True, "Compile the memory subprocesses' step with XLA.")
flags.DEFINE_float("genome_fraction", 0.16, "Share of the store bytes that is Genome "
                   "regions (paper: ~6.4 GB Genome train of ~40 GB).")
flags.DEFINE_string("tmp_dir", "/tmp", "Where the synthetic stores are written.")
flags.DEFINE_string("memory_child", None, "(internal) measure memory on this prepared dir.")

# Paper-scale references of the issue (2-core machine).
STEP_ROOF_TARGET = 0.5
PIPELINE_TARGET_BATCHES_PER_S = 150.0
MEMORY_RATIO_TARGET = 1.2
# A smaller model for the memory subprocesses (paper data dims, small widths).
_MEMORY_MODEL = dict(embedding_dim=32, word_hidden_dim=32, region_hidden_dim=64,
                     bimodal_dim=64)


@dataclasses.dataclass
class Settings:
  """What one benchmark run measures (the flags, as data)."""

  preset: str = "paper"
  experiment: str = "joint_svlr"
  tiny: bool = False
  parts: Tuple[str, ...] = ("step", "pipeline", "memory")
  steps: int = 5
  matmul_repeats: int = 5
  mixed_precision: str = "none"
  pipeline_batches: int = 200
  pipeline_gb: float = 1.0
  small_gb: float = 1.0
  large_gb: float = 8.0
  memory_steps: int = 30
  memory_jit: bool = True
  genome_fraction: float = 0.16
  tmp_dir: str = "/tmp"

  def config(self) -> ExperimentConfig:
    return world_preset_config("tiny" if self.tiny else self.preset, self.experiment)


# -- matmul roof ---------------------------------------------------------------


def _sig(x: float, digits: int = 4) -> float:
  """``x`` rounded to ``digits`` significant digits (tiny and paper runs alike)."""
  return float(f"{x:.{digits}g}")


def best_seconds(fn, repeats: int, warmup: int = 1,
                 min_seconds: float = 0.0) -> Tuple[float, float]:
  """(best, median) wall time of ``fn()`` after warm-up.

  Calls ``fn`` at least ``repeats`` times and until ``min_seconds`` have passed
  (at most 10 x ``repeats`` calls): on a shared machine the best of a longer
  window is more likely to be undisturbed.
  """
  for _ in range(warmup):
    fn()
  times, start = [], time.perf_counter()
  while (len(times) < max(1, repeats) or (time.perf_counter() - start < min_seconds
                                          and len(times) < 10 * repeats)):
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)
  return min(times), float(np.median(times))


def matmul_gflops(m: int, k: int, n: int, repeats: int, min_seconds: float = 0.0,
                  jit_compile: bool = True) -> float:
  """Rate of a float32 [m, k] x [k, n] tf.matmul in a tf.function, GFLOP/s (best).

  ``jit_compile`` True compiles it with XLA; False runs TensorFlow's kernel.
  """
  import tensorflow as tf
  rng = np.random.default_rng(0)
  a = tf.constant(rng.standard_normal((m, k), dtype=np.float32))
  b = tf.constant(rng.standard_normal((k, n), dtype=np.float32))

  @tf.function(jit_compile=jit_compile)
  def matmul(x, y):
    return tf.matmul(x, y)

  # .numpy() of a CPU tensor shares its buffer: it only waits for the result.
  best, _ = best_seconds(lambda: matmul(a, b).numpy(), repeats, min_seconds=min_seconds)
  return 2.0 * m * k * n / best / 1e9


def roof_shapes(config: ExperimentConfig, tiny: bool) -> Dict[str, Tuple[int, int, int]]:
  """Square shapes plus the step's largest matmuls (forward and weight gradient)."""
  m, d = config.model, config.data
  regions = d.vqa_batch_size * d.regions_per_image
  pairs = d.vqa_batch_size * d.num_choices
  classes = m.num_object_classes + m.num_attribute_classes
  square = (256, 512) if tiny else (2048, 4096)
  shapes = {f"square_{s}": (s, s, s) for s in square}
  shapes["region_hidden"] = (regions, m.region_feature_dim, m.region_hidden_dim)
  shapes["region_hidden_weight_grad"] = (m.region_feature_dim, regions,
                                         m.region_hidden_dim)
  shapes["bimodal_w1"] = (pairs, classes, m.bimodal_dim)
  return shapes


def matmul_roof(config: ExperimentConfig, repeats: int, tiny: bool,
                min_seconds: float = 0.0) -> dict:
  """Best float32 matmul rate over ``roof_shapes``, XLA and TF kernels, GFLOP/s."""
  rates = {}
  for name, shape in roof_shapes(config, tiny).items():
    for kind, jit in (("xla", True), ("tf", False)):
      rates[f"{name}_{kind}"] = _sig(matmul_gflops(*shape, repeats, min_seconds, jit))
  return {"matmul_roof_gflops": max(rates.values()), "matmul_gflops_by_shape": rates}


def _best_roof(first: dict, second: dict) -> dict:
  """Per shape, the better of two roof measurements (before and after the step)."""
  rates = {name: max(first["matmul_gflops_by_shape"][name], rate)
           for name, rate in second["matmul_gflops_by_shape"].items()}
  return {"matmul_roof_gflops": max(rates.values()), "matmul_gflops_by_shape": rates}


# -- training step ----------------------------------------------------------------


def build_model(config: ExperimentConfig, word_vectors, object_class_words,
                attribute_class_words, mixed_precision: str = "none"):
  """(task, model, optimizer) built as the trainer builds them
  (``svlr_tf.task.SVLRTask``: optimizer built up front, loss-scaled under
  mixed_float16)."""
  from svlr_tf.task import SVLRTask
  task = SVLRTask(config.replace(train={"mixed_precision": mixed_precision}))
  model = task.build_model(word_vectors, object_class_words, attribute_class_words)
  return task, model, task.build_optimizer(model)


def make_train_step(task, model, optimizer, jit_compile: bool = True):
  """The trainer's own step, ``SVLRTask.train_step`` (Eq. 10 loss + weight decay,
  gradients, Adam update; returns the losses), compiled for one device."""
  return task.compiled_train_step(model, optimizer, jit_compile=jit_compile)


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
  return {"step_seconds": _sig(best), "step_seconds_median": _sig(median),
          "step_compile_seconds": round(compile_seconds, 2),
          "step_gflop": _sig(step_flop / 1e9, 6),
          "forward_gmacs": _sig(macs["total"] / 1e9),
          "forward_gmacs_by_term": {k: _sig(v / 1e9) for k, v in macs.items()},
          "achieved_gflops": _sig(step_flop / best / 1e9),
          "step_gflop_needed_only": _sig(needed_flop / 1e9, 6),
          "achieved_gflops_needed_only": _sig(needed_flop / best / 1e9),
          "mixed_precision": mixed_precision}


# -- input pipeline -----------------------------------------------------------------


def _feature_bytes(config: ExperimentConfig) -> int:
  """Bytes of float16 region features in one training element."""
  d, dim = config.data, config.model.region_feature_dim
  total = 0
  if config.uses_vqa:
    total += d.vqa_batch_size * d.regions_per_image * dim * 2
  if config.uses_recognition:
    total += d.recognition_batch_size * dim * 2
  return total


def time_pipeline(data_dir: str, config: ExperimentConfig, batches: int,
                  warmup: int = 10) -> dict:
  """Batches/s of ``pipeline.joint_dataset`` (batches as CPU tensors)."""
  from svlr_tf.data.prepared import PreparedData
  from svlr_tf.task import SVLRTask
  data = PreparedData(data_dir)
  stores = {kind: data.feature_store(kind) for kind in ("vqa", "genome")}
  iterator = iter(SVLRTask(config).build_inputs(data, stores, seed=1))
  for _ in range(warmup):
    next(iterator)
  t0 = time.perf_counter()
  for _ in range(batches):
    next(iterator)
  seconds = time.perf_counter() - t0
  rate = batches / seconds
  return {"pipeline_batches_per_s": _sig(rate),
          "pipeline_gb_per_s": _sig(rate * _feature_bytes(config) / 1e9),
          "batch_feature_mb": _sig(_feature_bytes(config) / 1e6)}


def time_numpy_gather(data_dir: str, config: ExperimentConfig, batches: int) -> dict:
  """The pipeline's roof: a plain NumPy gather of the same batches, one thread.

  Per batch: P random VQA images (K rows each) and M random Genome rows,
  copied from the memory-mapped float16 shards into reused buffers.
  """
  rng = np.random.default_rng(2)
  d, dim = config.data, config.model.region_feature_dim

  def shards(kind):
    path = os.path.join(data_dir, "features", kind)
    return [np.load(os.path.join(path, f), mmap_mode="r")
            for f in sorted(os.listdir(path)) if f.endswith(".npy")]

  k = d.regions_per_image
  vqa = [s.reshape(-1, k, dim) for s in shards("vqa")]
  genome = shards("genome")
  vqa_index = [(s, j) for s, a in enumerate(vqa) for j in range(len(a))]
  genome_index = [(s, j) for s, a in enumerate(genome) for j in range(len(a))]
  images = np.empty((d.vqa_batch_size, k, dim), np.float16)
  rows = np.empty((d.recognition_batch_size, dim), np.float16)

  def one_batch():
    for i, j in enumerate(rng.integers(0, len(vqa_index), d.vqa_batch_size)):
      s, slot = vqa_index[j]
      images[i] = vqa[s][slot]
    for i, j in enumerate(rng.integers(0, len(genome_index), d.recognition_batch_size)):
      s, row = genome_index[j]
      rows[i] = genome[s][row]

  for _ in range(5):
    one_batch()
  t0 = time.perf_counter()
  for _ in range(batches):
    one_batch()
  rate = batches / (time.perf_counter() - t0)
  return {"pipeline_roof_batches_per_s": _sig(rate)}


# -- peak memory --------------------------------------------------------------------


def memory_status() -> Dict[str, float]:
  """Peak and current resident memory of this process, MB."""
  out = {}
  try:
    with open("/proc/self/status") as f:
      for line in f:
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
          out[key] = int(value.split()[0]) / 1024.0
  except OSError:
    pass
  if "VmHWM" not in out:  # ru_maxrss is in KB on Linux
    out["VmHWM"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
  return out


def memory_config(data_dir: str, preset_config_: ExperimentConfig) -> ExperimentConfig:
  """Paper data dims and class counts of the prepared data, a small model."""
  config = prepared_config(preset_config_, data_dir)
  return config.replace(model=dict(_MEMORY_MODEL,
                                   word_vector_dim=config.model.word_vector_dim))


def _reset_peak_rss() -> bool:
  """Resets VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
  try:
    with open("/proc/self/clear_refs", "w") as f:
      f.write("5")
    return True
  except OSError:
    return False


def run_memory_child(data_dir: str, config: ExperimentConfig, steps: int,
                     jit_compile: bool = True) -> dict:
  """Trains ``steps`` steps streaming from ``data_dir``; reports RSS (MB).

  ``peak_rss_mb`` is the peak of the whole process (setup: opening the stores,
  loading the split arrays, building the model; then training);
  ``peak_rss_training_mb`` the peak while the steps run (VmHWM reset after
  setup, when the kernel allows it).
  """
  from svlr_tf.data.prepared import PreparedData
  data = PreparedData(data_dir)
  stores = {kind: data.feature_store(kind) for kind in ("vqa", "genome")}
  la = config.data.max_answer_words
  task, model, optimizer = build_model(config, data.word_vectors,
                                 data.class_word_ids("objects", la),
                                 data.class_word_ids("attributes", la))
  step = make_train_step(task, model, optimizer, jit_compile=jit_compile)
  dataset = task.build_inputs(data, stores, seed=0)
  setup = memory_status()
  reset = _reset_peak_rss()
  loss = float("nan")
  for batch in dataset.take(steps):
    loss = float(step(batch)["loss_total"].numpy())
  after = memory_status()
  mb = lambda status, key: round(status.get(key, 0.0), 1)
  return {"peak_rss_mb": round(max(setup["VmHWM"], after["VmHWM"]), 1),
          "peak_rss_setup_mb": mb(setup, "VmHWM"),
          "peak_rss_training_mb": mb(after, "VmHWM") if reset else None,
          "rss_after_setup_mb": mb(setup, "VmRSS"),
          "rss_anon_after_setup_mb": mb(setup, "RssAnon"),
          "rss_end_mb": mb(after, "VmRSS"),
          "rss_anon_end_mb": mb(after, "RssAnon"),
          "rss_file_end_mb": mb(after, "RssFile"),
          "store_gb": _sig(store_bytes(data_dir) / 1e9),
          "steps": steps, "final_loss": loss}


def measure_memory(paths: Dict[str, str], settings: Settings) -> Dict[str, dict]:
  """Runs :func:`run_memory_child` on each prepared dir, each in a fresh process.

  The processes run at the same time (each measures only its own peak RSS).
  """
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
             PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
  procs = {}
  for name, path in paths.items():
    cmd = [sys.executable, "-m", "tools.benchmark", f"--memory_child={path}",
           f"--memory_steps={settings.memory_steps}", f"--preset={settings.preset}",
           f"--experiment={settings.experiment}",
           f"--memory_jit={settings.memory_jit}", f"--tiny={settings.tiny}"]
    procs[name] = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
  results = {}
  for name, proc in procs.items():
    stdout, stderr = proc.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
      tail = " | ".join(stderr.strip().splitlines()[-3:])
      raise RuntimeError(f"memory subprocess on {paths[name]} failed "
                         f"(exit {proc.returncode}): {tail}")
    results[name] = json.loads(lines[-1])
  return results


# -- the whole run ------------------------------------------------------------------

# Sizes of a --tiny run (tiny dims: a VQA image is 6 x 16 float16 = 192 bytes).
_TINY = dict(steps=2, matmul_repeats=2, pipeline_batches=20, pipeline_gb=2e-4,
             small_gb=2e-4, large_gb=8e-4, memory_steps=3, memory_jit=False)


def _target(value: Optional[float], target: float, at_least: bool) -> dict:
  met = None if value is None else (value >= target if at_least else value <= target)
  return {"value": value, "target": f"{'>=' if at_least else '<='} {target:g}",
          "met": met}


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
  return None if a is None or b is None or b == 0 else _sig(a / b, 3)


def _machine() -> dict:
  import tensorflow as tf
  return {"cpus": os.cpu_count(), "load_average_start": [round(x, 2) for x in os.getloadavg()],
          "tensorflow": tf.__version__, "python": sys.version.split()[0],
          "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def run(settings: Settings, log=print) -> dict:
  """Runs the selected parts; returns the results dict (see the module doc)."""
  config = settings.config()
  results = {"preset": "tiny" if settings.tiny else settings.preset,
             "experiment": settings.experiment, "machine": _machine()}
  parts = set(settings.parts)
  unknown = parts - {"step", "pipeline", "memory"}
  if unknown:
    raise ValueError(f"Unknown benchmark parts {sorted(unknown)}.")
  if "step" in parts:
    window = 0.0 if settings.tiny else 1.5
    log("training step: matmul roof ...")
    roof = matmul_roof(config, settings.matmul_repeats, settings.tiny, window)
    log("training step: compile + time ...")
    results.update(time_train_step(config, settings.steps, settings.mixed_precision,
                                   vocabulary_size=200 if settings.tiny else 20000,
                                   min_seconds=window))
    log("training step: matmul roof again ...")
    results.update(_best_roof(roof, matmul_roof(config, settings.matmul_repeats,
                                                settings.tiny, window)))
    results["roof_ratio"] = _ratio(results["achieved_gflops"],
                                   results["matmul_roof_gflops"])
    results["roof_ratio_needed_only"] = _ratio(results["achieved_gflops_needed_only"],
                                               results["matmul_roof_gflops"])
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
      results["pipeline_store_gb"] = _sig(store_bytes(path) / 1e9)
    if "memory" in parts:
      sizes = {"small": settings.small_gb, "large": settings.large_gb}
      paths = {name: dataset(gb) for name, gb in sizes.items()}
      log(f"peak memory: training from the {settings.small_gb:g} and "
          f"{settings.large_gb:g} GB stores, one fresh subprocess each ...")
      children = measure_memory(paths, settings)
      for name, child in children.items():
        results[f"memory_{name}_mb"] = child["peak_rss_mb"]
        results[f"memory_{name}"] = child
      results["memory_ratio"] = _ratio(results["memory_large_mb"],
                                       results["memory_small_mb"])
  finally:
    shutil.rmtree(tmp, ignore_errors=True)

  if "step" in parts and "pipeline" in parts:
    results["pipeline_ratio"] = _sig(results["pipeline_batches_per_s"]
                                     * results["step_seconds"], 3)
  if "pipeline" in parts:
    results["pipeline_roof_ratio"] = _ratio(results["pipeline_batches_per_s"],
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


_SUMMARY = (
    ("step_seconds", "training step (s, best of {steps})"),
    ("step_gflop", "step GFLOP (analytic, svlr_tf/flops.py)"),
    ("achieved_gflops", "achieved GFLOP/s"),
    ("matmul_roof_gflops", "float32 matmul roof GFLOP/s (TF, XLA)"),
    ("roof_ratio", "step / roof"),
    ("roof_ratio_needed_only", "step / roof (needed backward only)"),
    ("pipeline_batches_per_s", "pipeline batches/s"),
    ("pipeline_gb_per_s", "pipeline GB/s (float16 features)"),
    ("pipeline_ratio", "pipeline batches/s x step s"),
    ("pipeline_roof_batches_per_s", "NumPy gather roof batches/s"),
    ("pipeline_roof_ratio", "pipeline / gather roof"),
    ("memory_small_mb", "peak RSS, small store (MB)"),
    ("memory_large_mb", "peak RSS, large store (MB)"),
    ("memory_ratio", "large / small"),
)


def summary(results: dict, settings: Settings) -> str:
  lines = [f"svlr_tf benchmark: preset {results['preset']}, {results['experiment']}"]
  for key, label in _SUMMARY:
    if key in results:
      lines.append(f"  {label.format(steps=settings.steps):40s} {results[key]}")
  for name, t in results["targets"].items():
    if t["value"] is not None:
      lines.append(f"  target {name} {t['target']}: {'met' if t['met'] else 'MISSED'}")
  return "\n".join(lines)


def settings_from_flags() -> Settings:
  values = {name: FLAGS[name].value for name in (
      "preset", "experiment", "tiny", "steps", "matmul_repeats", "mixed_precision",
      "pipeline_batches", "pipeline_gb", "small_gb", "large_gb", "memory_steps",
      "memory_jit", "genome_fraction", "tmp_dir")}
  values["parts"] = tuple(FLAGS.parts)
  if FLAGS.tiny:
    values.update({k: v for k, v in _TINY.items() if not FLAGS[k].present})
  return Settings(**values)


def main(argv):
  del argv
  from svlr_tf.startup import import_tensorflow
  import_tensorflow()  # its C++ start-up log hidden
  settings = settings_from_flags()
  if FLAGS.memory_child:
    config = settings.config()
    if not settings.tiny:
      config = memory_config(FLAGS.memory_child, config)
    else:
      config = prepared_config(config, FLAGS.memory_child)
    print(json.dumps(run_memory_child(FLAGS.memory_child, config, settings.memory_steps,
                                      settings.memory_jit)))
    return
  results = run(settings, log=logging.info)
  print(summary(results, settings))
  if FLAGS.out:
    from tools._common import atomic_write_json
    atomic_write_json(FLAGS.out, results, indent=2)


if __name__ == "__main__":
  from tools._common import run_main
  run_main(main)
