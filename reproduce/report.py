r"""One page with every result: ``runs/report/index.html`` (open it in a browser: one
file, pictures embedded), ``index.md`` and its PNG figures under ``figures/``.

    python -m reproduce.report                      # collects runs/*
    python -m reproduce.report --runs_root R --out R/report

Collects what the reproduce modules wrote under --runs_root (Table 1, zero-shot,
pre-training, the ablation, Fig. 5, Table 2 and the attention pictures, Table 4,
Table 3): the paper's number beside each of ours, each module's own table, Table 1
as bars per question type with error bars over seeds, the Fig. 5 heat map, and the
held-out learning curves of every run from its TensorBoard event files.  A missing
result is named with the command that makes it.  The report directory is
self-contained (copy it anywhere).  Trains nothing (seconds).
"""

from __future__ import annotations

import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags():
  flags.DEFINE_string("runs_root", "runs", "Where the reproduce modules' work "
                      "directories are (runs for the default preset, runs/tiny for "
                      "--preset tiny: docs/results_registry.md).")
  flags.DEFINE_string("out", None, "Output directory (default <runs_root>/report).")


def main(argv):
  del argv
  from svlr_tf.runtime.errors import DataError
  from reproduce import registry
  from svlr_tf.report.page import build_report
  if not os.path.isdir(FLAGS.runs_root):
    print(f"error: {FLAGS.runs_root}: no such directory", file=sys.stderr)
    sys.exit(1)
  from svlr_tf.runtime.entry_points import quiet_tensorflow
  quiet_tensorflow()  # TensorBoard's event reader imports it
  out = FLAGS.out or os.path.join(FLAGS.runs_root, "report")
  try:
    index, images = build_report(FLAGS.runs_root, out, registry.report_sources(),
                                 registry.run_labels())
  except DataError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print(f"wrote {os.path.join(os.path.dirname(index), 'index.html')} and {index} "
        f"({len(images)} figures)")


if __name__ == "__main__":
  define_flags()
  app.run(main)
