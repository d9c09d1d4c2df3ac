r"""Checks a whole prepared directory, as every reproduce module does before training.

    python -m tools.check_data prepared [--preset paper] [--quick]

Lists every problem one line at a time (``error: <file>: <problem>``) and exits
1, or prints a one-line summary and exits 0. What is checked:
``svlr_tf/data/check.py`` (files, splits, every image in its store by index
lookups), then, unless ``--quick``, every feature store's checksums and finite
values: the verification training does before its first step
(``svlr_tf/data/store_verification.py``: every shard read once, the result
recorded, so neither this tool nor training reads an unchanged store again).
The summary says how long each part took. ``--preset`` gives the padding sizes
of the VQA splits (the parse caches built here are the ones training reads).
"""

from __future__ import annotations

import os
import sys
import time

from absl import flags

from svlr_tf.data.check import check_prepared
from svlr_tf.runtime.errors import DataError
from svlr_tf.presets import PRESET_NAMES
from tools._common import run_main

FLAGS = flags.FLAGS


def verify_stores(data_dir: str, log=print):
  """(problems, one summary part per store): each store's checksums and finite
  values (``verify_once``: skipped when recorded as verified and unchanged)."""
  from svlr_tf.data.feature_store import FeatureStore
  from svlr_tf.data.prepared import FEATURE_STORES, feature_store_path
  from svlr_tf.data.store_verification import verify_once
  problems, parts = [], []
  for kind in FEATURE_STORES:
    path = feature_store_path(data_dir, kind)
    if not os.path.isdir(path):
      continue  # the index check names a missing store
    try:
      store = FeatureStore(path)
    except DataError:
      continue  # ditto
    start = time.monotonic()
    try:
      read = verify_once(store, log)
    except DataError as err:
      problems.append(str(err))
      continue
    finally:
      store.close()
    seconds = time.monotonic() - start
    parts.append(f"{kind} checksums {store.nbytes / 2**30:.2f} GB read in "
                 f"{seconds:.1f} s" if read else
                 f"{kind} checksums recorded as verified, store unchanged")
  return problems, parts


def main(argv):
  if len(argv) != 2:
    raise DataError(None, "usage: python -m tools.check_data DATA_DIR (one prepared "
                    f"directory; got {len(argv) - 1} arguments)")
  from svlr_tf.presets import preset_config
  data_dir = argv[1]
  start = time.monotonic()
  problems = check_prepared(data_dir, preset_config(FLAGS.preset).data)
  parts = [f"index check {time.monotonic() - start:.1f} s"]
  if FLAGS.quick:
    parts.append("feature checksums not read (--quick)")
  else:
    store_problems, store_parts = verify_stores(
        data_dir, log=lambda line: print(line, flush=True))
    problems += store_problems
    parts += store_parts
  for problem in problems:
    print(f"error: {problem}", file=sys.stderr)
  if problems:
    sys.exit(1)
  print(f"{data_dir}: ok ({'; '.join(parts)})")


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_enum("preset", "paper", list(PRESET_NAMES),
                    "Preset whose padding sizes (words per question bin / answer) "
                    "the VQA splits are parsed with.")
  flags.DEFINE_bool("quick", False,
                    "Index-only check: files, splits and that every image is in its "
                    "store, without reading the features (no checksums: a damaged "
                    "shard passes; training still verifies it).")


if __name__ == "__main__":
  define_flags()
  run_main(main, positional=1)
