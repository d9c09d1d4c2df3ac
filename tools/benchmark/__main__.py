"""``python -m tools.benchmark``: the flags, one run, the summary and the JSON
(see the package doc, ``tools/benchmark/__init__.py``)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags, logging

from svlr_tf.config import EXPERIMENT_NAMES
from svlr_tf.presets import PRESET_NAMES
from tools.benchmark.common import PARTS, Settings
from tools.benchmark.memory import child_main
from tools.benchmark.run import TINY, run, summary
from tools.benchmark.xla import child_main as xla_child_main

FLAGS = flags.FLAGS
flags.DEFINE_string("out", None, "Write the results here (JSON); the data tools' convention: --out is what a tool writes.")
flags.DEFINE_alias("json", "out")
flags.DEFINE_enum("preset", "paper", list(PRESET_NAMES),
                  "Dimensions to benchmark (svlr_tf/presets.py).")
flags.DEFINE_enum("experiment", "joint_svlr", list(EXPERIMENT_NAMES),
                  "Experiment (svlr_tf/config.py).")
flags.DEFINE_bool("tiny", False, "Smoke run: tiny dims, few repeats, small stores.")
flags.DEFINE_list("parts", list(PARTS), f"Parts to run: {', '.join(PARTS)}.")
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
flags.DEFINE_integer("xla_steps", 3, "Timed steps of each of the XLA and TF steps "
                     "(part xla; they alternate).", lower_bound=1)
flags.DEFINE_integer("xla_devices", 2, "Logical CPU devices of the MirroredStrategy "
                     "measurement (part xla).", lower_bound=2)
flags.DEFINE_bool("xla_child", False, "(internal) the MirroredStrategy measurement.")
flags.DEFINE_string("memory_child", None, "(internal) measure memory on this prepared dir.")
flags.register_validator("parts", lambda parts: set(parts) <= set(PARTS),
                         message=f"--parts takes a list of {', '.join(PARTS)}")


def settings_from_flags() -> Settings:
  values = {name: FLAGS[name].value for name in (
      "preset", "experiment", "tiny", "steps", "matmul_repeats", "mixed_precision",
      "pipeline_batches", "pipeline_gb", "small_gb", "large_gb", "memory_steps",
      "memory_jit", "genome_fraction", "tmp_dir", "xla_steps", "xla_devices")}
  values["parts"] = tuple(FLAGS.parts)
  if FLAGS.tiny:
    values.update({k: v for k, v in TINY.items() if not FLAGS[k].present})
  return Settings(**values)


def main(argv):
  del argv
  from svlr_tf.runtime.startup import import_tensorflow
  import_tensorflow()  # its C++ start-up log hidden
  settings = settings_from_flags()
  if FLAGS.xla_child:
    print(json.dumps(xla_child_main(settings)))
    return
  if FLAGS.memory_child:
    print(json.dumps(child_main(FLAGS.memory_child, settings)))
    return
  results = run(settings, log=logging.info)
  print(summary(results, settings))
  if FLAGS.out:
    from tools._common import atomic_write_json
    atomic_write_json(FLAGS.out, results, indent=2)


if __name__ == "__main__":
  from tools._common import run_main
  run_main(main)
