r"""Measures the embedded world against the paper's figures that are not in Table 1.

    python -m tools.calibrate_world --preset default [--steps 1500] [--data_dir DIR]

prints
* the recognition-only model's Genome test accuracy (Sec. 5.3: object 43.3%,
  attribute 36.9%): the ``genome_only`` experiment at the preset, trained for
  ``--steps`` steps with the trainer's own model, optimizer, inputs and train step
  (``svlr_tf.training.task.SVLRTask``; no held-out selection: the last weights);
* the language-only baseline on VQA test (Sec. 5.2: language priors reach
  54.0% on VQA v1 multiple choice): the most frequent train answer for the
  question's words, chosen among the 18 choices, no image (official accuracy);
* a few counts (long tail, questions : regions ratio).
"""

from __future__ import annotations

import collections
import json
import os
import time
from typing import Dict, List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import flags

from svlr_tf.evaluation.vqa_eval import answer_accuracy
from svlr_tf.runtime.files import iter_jsonl, read_json

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "default", ["tiny", "default", "paper"],
                  "World and model preset (svlr_tf/presets.py).")
flags.DEFINE_string("data_dir", None, "World directory (default: the preset's "
                    "embedded world, generated if needed).")
flags.DEFINE_integer("steps", 1500, "Training steps of the recognition-only model.",
                     lower_bound=1)
flags.DEFINE_integer("seed", 0, "Training seed.")
flags.DEFINE_bool("skip_recognition", False, "Only the counts and the language prior.")


def _read_jsonl(path: str) -> List[Dict]:
  return [record for _, record in iter_jsonl(path)]


def _question_key(question: str) -> str:
  return " ".join(question.lower().replace("?", " ").split())


def language_prior_accuracy(data_dir: str, split: str = "test") -> Dict[str, float]:
  """Most frequent train answer for the question's words (no image), in percent."""
  train = _read_jsonl(os.path.join(data_dir, "vqa", "train.jsonl"))
  by_question = collections.defaultdict(collections.Counter)
  by_type = collections.defaultdict(collections.Counter)
  overall = collections.Counter()
  for rec in train:
    by_question[_question_key(rec["question"])][rec["answer"]] += 1
    by_type[rec["question_type"]][rec["answer"]] += 1
    overall[rec["answer"]] += 1
  test = _read_jsonl(os.path.join(data_dir, "vqa", f"{split}.jsonl"))
  accs, per_type = [], collections.defaultdict(list)
  for rec in test:
    q, t = by_question[_question_key(rec["question"])], by_type[rec["question_type"]]
    pred = max(rec["choices"], key=lambda c: (q[c], t[c], overall[c]))
    acc = answer_accuracy(pred, rec["answers"])
    accs.append(acc)
    per_type[rec["answer_type"]].append(acc)
  out = {"overall": round(100 * float(np.mean(accs)), 2)}
  out.update({k: round(100 * float(np.mean(v)), 2) for k, v in sorted(per_type.items())})
  return out


def recognition_only_accuracy(data_dir: str, preset: str = "default", steps: int = 1500,
                              seed: int = 0, log=print) -> Dict[str, float]:
  """The genome_only experiment trained ``steps`` steps; Genome test accuracy (%)."""
  import keras
  from svlr_tf.data.prepared import PreparedData
  from svlr_tf.evaluation import recognition_eval
  from svlr_tf.training.experiment import config_for_data
  from svlr_tf.training.task import SVLRTask

  data = PreparedData(data_dir)
  task = SVLRTask(config_for_data(preset, "genome_only", data, seed, steps))
  keras.utils.set_random_seed(seed)
  model = task.build_model_for_data(data)
  optimizer = task.build_optimizer(model)
  step = task.compiled_train_step(model, optimizer)
  stores = {"genome": data.feature_store("genome"), "vqa": data.feature_store("vqa")}
  t0 = time.time()
  for i, batch in enumerate(task.build_inputs(data, stores, seed=seed, num_batches=steps)):
    loss = step(batch)["loss_total"]
    if (i + 1) % max(1, steps // 5) == 0:
      log(f"[calibrate] step {i + 1}/{steps} loss {float(loss):.4f} "
          f"({time.time() - t0:.0f}s)")
  scores = task.recognition_split_scores(task.eval_functions(model)["recognition"],
                                         data, stores["genome"], "test")
  return recognition_eval.recognition_metrics(*scores)


def world_statistics(data_dir: str) -> Dict[str, float]:
  train = _read_jsonl(os.path.join(data_dir, "recognition", "train.jsonl"))
  counts = collections.Counter(n for r in train for n in r["objects"])
  vqa = _read_jsonl(os.path.join(data_dir, "vqa", "train.jsonl"))
  meta = read_json(os.path.join(data_dir, "meta.json"))
  freq = sorted(counts.values(), reverse=True)
  return {"genome_train_regions": len(train), "vqa_train_questions": len(vqa),
          "questions_per_region": round(len(vqa) / max(1, len(train)), 3),
          "top10_class_share": round(sum(freq[:10]) / max(1, sum(freq)), 3),
          "classes_under_125_regions": sum(c < 125 for c in freq),
          "vqa_favoured_classes": meta.get("vqa_favoured_classes", [])}


def main(argv):
  del argv
  from svlr_tf import world
  data_dir = FLAGS.data_dir or world.ensure_world(FLAGS.preset)
  print("world:", json.dumps(world_statistics(data_dir)))
  print("language-only baseline, VQA test (paper ref.: 54.0):",
        json.dumps(language_prior_accuracy(data_dir)))
  if not FLAGS.skip_recognition:
    rec = recognition_only_accuracy(data_dir, FLAGS.preset, FLAGS.steps, FLAGS.seed)
    print("recognition-only model, Genome test (paper: object 43.3, attribute 36.9):",
          json.dumps(rec))


if __name__ == "__main__":
  from tools._common import run_main
  run_main(main)
