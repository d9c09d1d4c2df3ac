r"""Measures a world against the paper's BASELINES, on held-out / val splits only.

    python -m tools.calibrate_world --preset default                # regime + 3 baselines
    python -m tools.calibrate_world --preset default --skip_training   # regime only
    python -m tools.calibrate_world --data_dir DIR --experiments language_only,vqa_only
    python -m tools.calibrate_world --model embedding_dim=128,bimodal_dim=1024   # other dims

The rule (docs/world.md, "Calibration"): the world is calibrated on the paper's
baselines only -- Genome Only recognition (Sec. 5.3: object 43.3%, attribute
36.9%), Language Only (54.0%) and VQA Only (62.9%) -- and only on the Genome val
and VQA held-out splits.  This tool therefore refuses any other experiment
(Joint Multitask, Joint SVLR, ...) and never evaluates a test split: each
experiment is trained with the trainer and its held-out selection
(``svlr_tf.training.trainer.Trainer.fit``, not ``run_experiment``, which also tests), then
its selected checkpoint is evaluated on VQA held-out (per answer and question
type) or Genome val.  Prints one JSON line per figure and writes
``<workdir>/<experiment>/calibration.json``.

Printed first, with no model: the world's regime (``svlr_tf.evaluation.regime``):
train questions, distinct question strings, share of held-out questions seen
verbatim in train, and the text-only lookup on held-out (most frequent train
answer of the same question string among the 18 choices).
"""

from __future__ import annotations

import json
import os
import time
from typing import Dict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags

from svlr_tf.runtime.files import atomic_write_json, read_json
from svlr_tf.presets import PRESET_NAMES
from svlr_tf.evaluation import regime

FLAGS = flags.FLAGS
# The paper's baselines: the only experiments a world may be calibrated on.
BASELINES = ("genome_only", "language_only", "vqa_only")
PAPER = {"genome_only": {"val_object_accuracy": 43.3, "val_attribute_accuracy": 36.9},
         "language_only": {"heldout_vqa_accuracy": 54.0},
         "vqa_only": {"heldout_vqa_accuracy": 62.9}}

flags.DEFINE_enum("preset", "default", list(PRESET_NAMES),
                  "World and model preset (svlr_tf/presets.py).")
flags.DEFINE_string("data_dir", None, "World directory (default: the preset's "
                    "embedded world, generated if needed).")
flags.DEFINE_string("workdir", None, "Where the calibration runs go (default "
                    "runs/calibration/<preset>).")
flags.DEFINE_list("experiments", list(BASELINES), "Baselines to train (a subset of "
                  f"{list(BASELINES)}).")
flags.DEFINE_integer("steps", None, "Training steps (default: the preset's).",
                     lower_bound=1)
flags.DEFINE_integer("seed", 0, "Training seed.")
flags.DEFINE_bool("skip_training", False, "Only the regime (no model).")
flags.DEFINE_list("model", [], "Model dimensions to try instead of the preset's, "
                  "e.g. embedding_dim=128,bimodal_dim=1024 (integers).")


def model_overrides(items) -> Dict[str, int]:
  """{"field": int} from ["field=value", ...] (ValueError naming a bad item)."""
  from svlr_tf.config import DATA_FIELDS, ModelConfig
  known = {f for f in ModelConfig.__dataclass_fields__} - set(DATA_FIELDS["model"])
  out = {}
  for item in items:
    name, _, value = item.partition("=")
    if name not in known or not value.isdigit():
      raise ValueError(f"--model: {item!r} is not field=integer for a model field "
                       "the data does not decide")
    out[name] = int(value)
  return out


def check_baselines(experiments) -> None:
  """ValueError for an experiment that is not one of the paper's baselines."""
  refused = [e for e in experiments if e not in BASELINES]
  if refused:
    raise ValueError(f"calibration trains the paper's baselines only "
                     f"({', '.join(BASELINES)}), not {', '.join(refused)} "
                     "(docs/world.md, 'Calibration')")


def calibrate_experiment(data, preset: str, experiment: str, workdir: str,
                         seed: int = 0, steps=None, log=print, model=None) -> Dict:
  """Trains ``experiment`` with held-out selection and evaluates its selected
  checkpoint on held-out / val only.  Reuses ``<workdir>/calibration.json`` when
  it holds the same config."""
  from svlr_tf.training.experiment import config_for_data
  from svlr_tf.training.trainer import Trainer

  check_baselines([experiment])
  config = config_for_data(preset, experiment, data, seed, steps,
                           {"model": dict(model)} if model else None)
  path = os.path.join(workdir, "calibration.json")
  if os.path.exists(path):
    cached = read_json(path)
    if config.describes(cached.get("config") or {}):
      return dict(cached, reused=True)
  t0 = time.time()
  trainer = Trainer(config, data, workdir, log=log)
  fit = trainer.fit()
  out = {"experiment": experiment, "seed": seed, "steps": config.train.steps,
         "best_step": fit["best_step"], "selection_metric": fit["selection_metric"],
         "config": config.to_dict()}
  trainer.restore_best()
  if config.uses_vqa:
    ev = trainer.evaluate_vqa("heldout").to_dict()
    out["heldout_vqa_accuracy"] = ev["overall"]
    out["heldout_per_answer_type"] = ev["per_answer_type"]
    out["heldout_per_question_type"] = ev["per_question_type"]
  else:
    rec = trainer.evaluate_recognition("val")
    out["val_object_accuracy"] = rec["object_accuracy"]
    out["val_attribute_accuracy"] = rec["attribute_accuracy"]
  out["seconds"] = round(time.time() - t0, 1)
  atomic_write_json(path, out, indent=2)
  return out


def main(argv):
  del argv
  check_baselines(FLAGS.experiments)
  model = model_overrides(FLAGS.model)
  from svlr_tf import world
  data_dir = FLAGS.data_dir or world.ensure_world(FLAGS.preset)
  print("regime:", json.dumps(regime.question_statistics(data_dir, "heldout")))
  print("text-only lookup, VQA held-out (paper's Language Only: 54.0):",
        json.dumps(regime.text_lookup_accuracy(data_dir, "heldout")))
  if FLAGS.skip_training:
    return
  from svlr_tf.data.prepared import PreparedData
  data = PreparedData(data_dir)
  workdir = FLAGS.workdir or os.path.join("runs", "calibration", FLAGS.preset)
  for experiment in FLAGS.experiments:
    out = calibrate_experiment(data, FLAGS.preset, experiment,
                               os.path.join(workdir, experiment), FLAGS.seed,
                               FLAGS.steps, model=model)
    figures = {k: v for k, v in out.items() if k.startswith(("heldout", "val"))}
    print(f"{experiment} (paper: {json.dumps(PAPER[experiment])}):",
          json.dumps(figures))


if __name__ == "__main__":
  from tools._common import run_main
  run_main(main)
