r"""Checks a whole prepared directory, as every reproduce module does before training.

    python -m tools.check_data prepared [--preset paper]

Lists every problem one line at a time (``error: <file>: <problem>``) and exits
1, or prints a one-line summary and exits 0. What is checked:
``svlr_tf/data/check.py``. ``--preset`` gives the padding sizes of the VQA
splits (the parse caches built here are the ones training reads).
"""

from __future__ import annotations

import sys
import time

from absl import flags

from svlr_tf.data.check import check_prepared
from svlr_tf.runtime.errors import DataError
from svlr_tf.presets import PRESET_NAMES
from tools._common import run_main

FLAGS = flags.FLAGS


def main(argv):
  if len(argv) != 2:
    raise DataError(None, "usage: python -m tools.check_data DATA_DIR (one prepared "
                    f"directory; got {len(argv) - 1} arguments)")
  from svlr_tf.presets import preset_config
  data_dir = argv[1]
  start = time.monotonic()
  problems = check_prepared(data_dir, preset_config(FLAGS.preset).data)
  for problem in problems:
    print(f"error: {problem}", file=sys.stderr)
  if problems:
    sys.exit(1)
  print(f"{data_dir}: ok (checked in {time.monotonic() - start:.1f} s)")


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_enum("preset", "paper", list(PRESET_NAMES),
                    "Preset whose padding sizes (words per question bin / answer) "
                    "the VQA splits are parsed with.")


if __name__ == "__main__":
  define_flags()
  run_main(main, positional=1)
