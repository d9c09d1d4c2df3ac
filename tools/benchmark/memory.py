"""Peak memory: a fresh subprocess per store size opens a synthetic prepared
directory and trains a few steps of a small model (paper data dims, small
widths) on the training input at paper batch sizes; its peak RSS is VmHWM of
/proc/self/status (falls back to getrusage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Dict

from svlr_tf.config import ExperimentConfig
from svlr_tf.runtime.resources import memory_status, reset_peak_rss
from tools.benchmark.common import Settings, sig
from tools.benchmark.data import prepared_config, store_bytes
from tools.benchmark.step import build_model, make_train_step

# A smaller model for the memory subprocesses (paper data dims, small widths).
MEMORY_MODEL = dict(embedding_dim=32, word_hidden_dim=32, region_hidden_dim=64,
                    bimodal_dim=64)
# The repository root (the subprocesses run ``python -m tools.benchmark`` from it).
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def memory_config(data_dir: str, preset_config_: ExperimentConfig) -> ExperimentConfig:
  """Paper data dims and class counts of the prepared data, a small model."""
  config = prepared_config(preset_config_, data_dir)
  return config.replace(model=dict(MEMORY_MODEL,
                                   word_vector_dim=config.model.word_vector_dim))


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
  reset = reset_peak_rss()
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
          "store_gb": sig(store_bytes(data_dir) / 1e9),
          "steps": steps, "final_loss": loss}


def measure_memory(paths: Dict[str, str], settings: Settings) -> Dict[str, dict]:
  """Runs :func:`run_memory_child` on each prepared dir, each in a fresh process
  (``python -m tools.benchmark --memory_child=DIR``).

  The processes run at the same time (each measures only its own peak RSS).
  """
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
             PYTHONPATH=os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])))
  procs = {}
  for name, path in paths.items():
    cmd = [sys.executable, "-m", "tools.benchmark", f"--memory_child={path}",
           f"--memory_steps={settings.memory_steps}", f"--preset={settings.preset}",
           f"--experiment={settings.experiment}",
           f"--memory_jit={settings.memory_jit}", f"--tiny={settings.tiny}"]
    procs[name] = subprocess.Popen(cmd, cwd=_ROOT, env=env, stdout=subprocess.PIPE,
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


def child_main(data_dir: str, settings: Settings) -> dict:
  """The subprocess's measurement (``--memory_child``): its config, then
  :func:`run_memory_child`."""
  config = settings.config()
  if settings.tiny:
    config = prepared_config(config, data_dir)
  else:
    config = memory_config(data_dir, config)
  return run_memory_child(data_dir, config, settings.memory_steps, settings.memory_jit)
