"""The flags every reproduce module shares and the config overrides they give
(``reproduce.common`` re-exports them; ``reproduce.reuse`` reads them without
importing common)."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any, Dict, Optional, Sequence

from absl import flags

from svlr_tf import config as config_lib
from reproduce import console
from svlr_tf.runtime.entry_points import fail

FLAGS = flags.FLAGS

_SECTIONS = {"model": config_lib.ModelConfig, "loss": config_lib.LossConfig,
             "optimizer": config_lib.OptimizerConfig, "data": config_lib.DataConfig,
             "train": config_lib.TrainConfig}
_DEFINE = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer,
           float: flags.DEFINE_float, str: flags.DEFINE_string}


def overridable():
  """(section, field, default) of every config field a flag may override."""
  for section, cls in _SECTIONS.items():
    for field in dataclasses.fields(cls):
      if (field.name in config_lib.DATA_FIELDS.get(section, ())
          or (section, field.name) == ("train", "seed")):
        continue
      yield section, field.name, getattr(cls(), field.name)


def define_common_flags(default_workdir: Optional[str] = None,
                        default_seeds: int = 3, where: str = "") -> None:
  """The flags of every module; ``default_workdir`` None: the registry's default
  for the preset and data (``where`` describes it in --help)."""
  console.order_help()
  flags.DEFINE_enum("preset", "default", ["tiny", "default", "paper"],
                    "Model dimensions, batch sizes and training budget; with no "
                    "--data_dir also the size of the embedded (simulated) dataset.")
  flags.DEFINE_string("workdir", default_workdir,
                      "Checkpoints, TensorBoard summaries and results go here. "
                      "Re-running with the same workdir resumes." + where)
  flags.DEFINE_string("data_dir", None,
                      "A prepared real-data directory (see docs/real_data.md). "
                      "Default: the embedded dataset, generated on first use.")
  flags.DEFINE_integer("seeds", default_seeds,
                       "Number of seeds (0, 1, ..., seeds-1) to repeat over.",
                       lower_bound=1)
  flags.DEFINE_integer("steps", None, "Override the preset's training steps per run "
                       "(same as --config.train.steps).", lower_bound=1)
  flags.DEFINE_list("experiments", None, "Run only these rows (experiment names, "
                    "e.g. vqa_only,joint_svlr); default: all rows.")
  flags.DEFINE_enum("mixed_precision", None, list(config_lib.MIXED_PRECISION_POLICIES),
                    "Keras dtype policy for training (train.mixed_precision).")
  flags.DEFINE_bool("jit_compile", None, "Compile the train step with XLA "
                    "(train.jit_compile).")
  flags.DEFINE_enum("input_mode", None, list(config_lib.INPUT_MODES),
                    "How training batches reach the device (train.input_mode): host "
                    "= features gathered on the host each step, resident = loaded "
                    "once into device memory, auto = resident when they fit. Both "
                    "train identically.")
  flags.DEFINE_bool("retrain_stale", False, "Retrain finished runs whose results were "
                    "made by other code (package versions or git commit) instead of "
                    "reusing them with a warning.")
  flags.DEFINE_enum("strategy", "auto", ["auto", "default", "mirrored", "multiworker"],
                    "tf.distribute strategy: auto = MirroredStrategy when several GPUs "
                    "are visible.")
  flags.DEFINE_float("collective_timeout", 1800.0,
                     "--strategy multiworker: seconds a collective may wait for the other "
                     "workers before failing (they wait for the chief's held-out "
                     "evaluation: keep it longer than that); 0: no limit. A killed "
                     "worker is found sooner (TensorFlow's heartbeats, about 20 s).",
                     lower_bound=0)
  flags.DEFINE_bool("deterministic", False,
                    "Enable TensorFlow op determinism (bit-exact reruns and resumes; "
                    "slower).")
  flags.DEFINE_integer("cpu_devices", 0,
                       "Split the CPU into this many logical devices (testing "
                       "MirroredStrategy without GPUs).", lower_bound=0)
  for section, field, default in overridable():
    _DEFINE[type(default)](f"config.{section}.{field}", None,
                           f"Override {section}.{field} of every run (preset: "
                           f"varies; paper: {default}).")


def overrides() -> Dict[str, Dict[str, Any]]:
  """The config overrides given on the command line: {section: {field: value}}."""
  out = collections.defaultdict(dict)
  for section, field, _ in overridable():
    flag = FLAGS[f"config.{section}.{field}"]
    if flag.present:
      out[section][field] = flag.value
  for name in ("mixed_precision", "jit_compile", "input_mode"):
    if FLAGS[name].value is not None:
      out["train"][name] = FLAGS[name].value
  if FLAGS.steps is not None:
    out["train"]["steps"] = FLAGS.steps
  return dict(out)


def select_rows(rows: Sequence, names: Optional[Sequence[str]]) -> list:
  """The rows named by --experiments (experiment or directory names), in order."""
  if not names:
    return list(rows)
  known = {r.dirname for r in rows} | {r.experiment for r in rows}
  unknown = [n for n in names if n not in known]
  if unknown:
    fail(f"--experiments: unknown {unknown}; this module's rows are "
         f"{sorted({r.dirname for r in rows})}")
  return [r for r in rows if r.dirname in names or r.experiment in names]
