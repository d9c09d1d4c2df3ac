r"""Export a trained run as a self-contained model bundle.

    python -m tools.export --workdir runs/table1/seed0/joint_svlr --out model_dir \
        [--checkpoint selection|recognition]

Writes ``model_dir`` (the ``.keras`` model, vocabulary, class names, training
answers, config, text settings and the reference of the pretrained word vectors
in meta.json, and ``saved_model/`` with TF Serving signatures ``answer`` and
``recognize``; layout in :mod:`svlr_tf.inference.bundle`). On another machine,
without the work directory or the data::

    from svlr_tf.inference import Predictor
    predictor = Predictor.load("model_dir")

The SavedModel is reloaded and its scores compared with the Keras model's before
the tool reports success.
"""

from __future__ import annotations

import sys

from absl import flags

from svlr_tf.runtime.entry_points import quiet_tensorflow
from tools._common import run_main

FLAGS = flags.FLAGS



def main(argv):
  del argv
  quiet_tensorflow()
  from svlr_tf.inference import Predictor, bundle  # heavy: after flag parsing
  predictor = Predictor.from_workdir(FLAGS.workdir, data_dir=FLAGS.data_dir,
                                     checkpoint=FLAGS.checkpoint)
  print(f"exporting {predictor.config.name} (seed {predictor.config.train.seed}, "
        f"checkpoint {predictor.settings['checkpoint']})")
  out = bundle.export_bundle(predictor, FLAGS.out)
  difference = bundle.check_saved_model(predictor, out)
  print(f"saved_model/ reloaded: largest score difference to the Keras model "
        f"{difference:.2e}")
  print(f"wrote {out}")
  if difference > 1e-4:
    print("error: the SavedModel's scores differ from the model's", file=sys.stderr)
    sys.exit(1)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_string("workdir", None, "A run's work directory.")
  flags.DEFINE_string("out", None, "Bundle directory to write (must not exist).")
  flags.DEFINE_string("data_dir", None,
                      "The run's prepared data (default: the one in data.json).")
  flags.DEFINE_enum("checkpoint", "selection", ["selection", "recognition"],
                    "selection: the run's held-out selection; recognition: the "
                    "checkpoint selected on Genome val object accuracy.")
  flags.mark_flags_as_required(["workdir", "out"])


if __name__ == "__main__":
  define_flags()
  run_main(main)
