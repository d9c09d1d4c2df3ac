"""What the reproduce entry points share: flags, data resolution, tables."""

from __future__ import annotations

import os
import sys

# Keep TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices) out of the
# output of the entry points; set TF_CPP_MIN_LOG_LEVEL yourself to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from typing import Dict, List, Sequence

import numpy as np
from absl import flags

from svlr_tf.errors import DataError
from svlr_tf.files import atomic_write_text  # re-exported for the entry points

FLAGS = flags.FLAGS


def define_common_flags(default_workdir: str) -> None:
  flags.DEFINE_enum("preset", "default", ["tiny", "default", "paper"],
                    "Model dimensions, batch sizes and training budget; with no "
                    "--data_dir also the size of the embedded (simulated) dataset.")
  flags.DEFINE_string("workdir", default_workdir,
                      "Checkpoints, TensorBoard summaries and results go here. "
                      "Re-running with the same workdir resumes.")
  flags.DEFINE_string("data_dir", None,
                      "A prepared real-data directory (see docs/real_data.md). "
                      "Default: the embedded dataset, generated on first use.")
  flags.DEFINE_integer("seeds", 3, "Number of seeds (0, 1, ..., seeds-1) to repeat over.",
                       lower_bound=1)
  flags.DEFINE_integer("steps", None, "Override the preset's training steps per run.",
                       lower_bound=1)
  flags.DEFINE_enum("strategy", "auto", ["auto", "default", "mirrored", "multiworker"],
                    "tf.distribute strategy: auto = MirroredStrategy when several GPUs "
                    "are visible.")
  flags.DEFINE_bool("deterministic", False,
                    "Enable TensorFlow op determinism (bit-exact reruns and resumes; "
                    "slower).")
  flags.DEFINE_integer("cpu_devices", 0,
                       "Split the CPU into this many logical devices (testing "
                       "MirroredStrategy without GPUs).", lower_bound=0)


def setup_devices() -> None:
  """Checks cheap arguments before TensorFlow starts, then sets up devices."""
  from absl import logging
  logging.set_verbosity(logging.WARNING)  # checkpoint INFO lines drown progress
  if FLAGS.data_dir and not os.path.isdir(FLAGS.data_dir):
    fail(f"{FLAGS.data_dir}: no such directory (expected a prepared data directory, "
         "see docs/real_data.md)")
  if FLAGS.cpu_devices:
    from svlr_tf.distribute import split_cpu
    split_cpu(FLAGS.cpu_devices)
  if FLAGS.deterministic:
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()


def resolve_data(preset: str, data_dir):
  """PreparedData for --data_dir, or the embedded world of the preset."""
  from svlr_tf.data.prepared import PreparedData
  if data_dir:
    if not os.path.isdir(data_dir):
      raise DataError(data_dir, "no such directory (expected a prepared data directory)")
    return PreparedData(data_dir)
  from svlr_tf import world
  return PreparedData(world.ensure_world(preset))


def start():
  """Devices, data and strategy from the flags: (data, strategy, dataset name).

  Exits with a one-line error on a bad --data_dir or malformed prepared data.
  """
  setup_devices()
  from svlr_tf.distribute import get_strategy
  data = resolve_data(FLAGS.preset, FLAGS.data_dir)
  dataset = ("real VQA v1 + Visual Genome" if not data.meta.get("simulated")
             else f"the embedded simulated dataset (preset {FLAGS.preset})")
  return data, get_strategy(FLAGS.strategy), dataset


def write_results(name: str, results: dict, text: str = None) -> None:
  """Writes <workdir>/<name>.json (and <name>.md from ``text``) atomically, prints."""
  import json
  os.makedirs(FLAGS.workdir, exist_ok=True)
  atomic_write_text(os.path.join(FLAGS.workdir, f"{name}.json"),
                    json.dumps(results, indent=2))
  if text is not None:
    atomic_write_text(os.path.join(FLAGS.workdir, f"{name}.md"), text)
    print()
    print(text)


def mean_std(values: Sequence[float]):
  arr = np.asarray(values, dtype=np.float64)
  return round(float(arr.mean()), 2), round(float(arr.std(ddof=1)) if arr.size > 1 else 0.0, 2)


def markdown_table(columns: List[str], rows: Dict[str, Dict[str, float]],
                   std: Dict[str, Dict[str, float]] = None) -> str:
  head = "| | " + " | ".join(columns) + " |"
  sep = "|---|" + "---:|" * len(columns)
  lines = [head, sep]
  for name, row in rows.items():
    cells = []
    for c in columns:
      v = row.get(c)
      if v is None:
        cells.append("")
      elif std and name in std and c in std[name]:
        cells.append(f"{v:.2f} ± {std[name][c]:.2f}")
      else:
        cells.append(f"{v:.2f}")
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def run(main) -> None:
  """absl's app.run, with bad data (DataError) reported as one line, exit 1."""
  from absl import app

  def checked_main(argv):
    try:
      return main(argv)
    except DataError as e:
      fail(str(e))

  app.run(checked_main)


def fail(message: str) -> None:
  print(f"error: {message}", file=sys.stderr)
  sys.exit(1)
