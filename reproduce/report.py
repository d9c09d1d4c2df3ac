r"""One page with every result: ``runs/report/index.md`` and its PNG figures.

    python -m reproduce.report                      # collects runs/*
    python -m reproduce.report --runs_root R --out R/report

Collects what the reproduce modules wrote under --runs_root (Table 1, zero-shot,
pre-training, the ablation, Fig. 5, Table 2 and the attention pictures, Table 4,
Table 3): the paper's number beside each of ours, each module's own table, Table 1
as bars per question type with error bars over seeds, the Fig. 5 heat map, and the
held-out learning curves of every run from its TensorBoard event files.  A missing
result is named with the command that makes it.  Trains nothing (seconds).
"""

from __future__ import annotations

import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("runs_root", "runs", "Where the reproduce modules' work "
                    "directories are (their default --workdir is runs/<module>).")
flags.DEFINE_string("out", None, "Output directory (default <runs_root>/report).")


def main(argv):
  del argv
  from svlr_tf.runtime.errors import DataError
  from svlr_tf.report.page import build_report
  if not os.path.isdir(FLAGS.runs_root):
    print(f"error: {FLAGS.runs_root}: no such directory", file=sys.stderr)
    sys.exit(1)
  from svlr_tf.runtime.entry_points import quiet_tensorflow
  quiet_tensorflow()  # TensorBoard's event reader imports it
  out = FLAGS.out or os.path.join(FLAGS.runs_root, "report")
  try:
    index, images = build_report(FLAGS.runs_root, out)
  except DataError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print(f"wrote {index} ({len(images)} figures)")


if __name__ == "__main__":
  app.run(main)
