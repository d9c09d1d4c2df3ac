"""Measures the world against the paper's figures that are not in Table 1.

  python -m svlr_tf.world.calibrate --preset default [--steps 1500]

prints
* the recognition-only model's Genome test accuracy (Sec. 5.3: object 43.3%,
  attribute 36.9%): ``SVLRModel`` with the ``genome_only`` alphas and the
  preset's dims, trained with a short Adam loop over
  ``svlr_tf.data.pipeline.recognition_dataset`` (object / attribute accuracy as
  defined in svlr_tf.evaluation.recognition_eval);
* the language-only baseline on VQA test (Sec. 5.2: language priors reach
  54.0% on VQA v1 multiple choice): the most frequent train answer for the
  question's words, chosen among the 18 choices, no image (official accuracy:
  min(1, matching humans among the other 9 / 3) averaged over the 10 humans);
* a few counts (long tail, questions : regions ratio).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time
from typing import Dict, List

import numpy as np

from svlr_tf.evaluation.vqa_eval import answer_accuracy
from svlr_tf.files import iter_jsonl


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
                              seed: int = 0, verbose: bool = True) -> Dict[str, float]:
  """Trains SVLRModel with the genome_only alphas; Genome test accuracy (percent)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  import keras  # pylint: disable=import-outside-toplevel
  from svlr_tf.data import pipeline  # pylint: disable=import-outside-toplevel
  from svlr_tf.data.prepared import PreparedData  # pylint: disable=import-outside-toplevel
  from svlr_tf.evaluation import recognition_eval  # pylint: disable=import-outside-toplevel
  from svlr_tf.model.joint import SVLRModel  # pylint: disable=import-outside-toplevel
  from svlr_tf.presets import preset_config  # pylint: disable=import-outside-toplevel

  keras.utils.set_random_seed(seed)
  cfg = preset_config(preset, "genome_only")
  data = PreparedData(data_dir)
  store = data.feature_store("genome")
  model_cfg = cfg.replace(model=dict(num_object_classes=len(data.objects),
                                     num_attribute_classes=len(data.attributes),
                                     region_feature_dim=data.feature_dim)).model
  model = SVLRModel(model_cfg, data.word_vectors, data.class_word_ids("objects", 4),
                    data.class_word_ids("attributes", 4))
  optimizer = keras.optimizers.Adam(cfg.optimizer.learning_rate)
  ds = pipeline.recognition_dataset(data, store, "train", cfg.data, training=True,
                                    seed=seed)

  @tf.function
  def step(batch):
    with tf.GradientTape() as tape:
      losses = model.compute_losses({"recognition": batch}, cfg.loss, training=True)
    grads = tape.gradient(losses["loss_total"], model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return losses["loss_total"]

  t0 = time.time()
  for i, batch in enumerate(ds.take(steps)):
    loss = step(batch)
    if verbose and (i + 1) % max(1, steps // 5) == 0:
      print(f"[calibrate] step {i + 1}/{steps} loss {float(loss):.4f} "
            f"({time.time() - t0:.0f}s)", flush=True)
  scores_o, scores_a, labels, targets = [], [], [], []
  for batch in pipeline.recognition_eval_dataset(data, store, "test", cfg.data):
    so, sa = model.recognition_scores(batch["region_features"], training=False)
    valid = batch["valid"].numpy()
    scores_o.append(so.numpy()[valid])
    scores_a.append(sa.numpy()[valid])
    labels.append(batch["object_labels"].numpy()[valid])
    targets.append(batch["attribute_targets"].numpy()[valid])
  return recognition_eval.recognition_metrics(
      np.concatenate(scores_o), np.concatenate(labels), np.concatenate(scores_a),
      np.concatenate(targets))


def world_statistics(data_dir: str) -> Dict[str, float]:
  train = _read_jsonl(os.path.join(data_dir, "recognition", "train.jsonl"))
  counts = collections.Counter(n for r in train for n in r["objects"])
  vqa = _read_jsonl(os.path.join(data_dir, "vqa", "train.jsonl"))
  with open(os.path.join(data_dir, "meta.json"), encoding="utf-8") as f:
    meta = json.load(f)
  freq = sorted(counts.values(), reverse=True)
  return {"genome_train_regions": len(train), "vqa_train_questions": len(vqa),
          "questions_per_region": round(len(vqa) / max(1, len(train)), 3),
          "top10_class_share": round(sum(freq[:10]) / max(1, sum(freq)), 3),
          "classes_under_125_regions": sum(c < 125 for c in freq),
          "vqa_favoured_classes": meta.get("vqa_favoured_classes", [])}


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description="Calibration figures of the world.")
  parser.add_argument("--preset", default="default")
  parser.add_argument("--data", default=None, help="world dir (default: ensure_world)")
  parser.add_argument("--steps", type=int, default=1500)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--skip-recognition", action="store_true")
  args = parser.parse_args(argv)
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  from svlr_tf.world.build import ensure_world  # pylint: disable=import-outside-toplevel
  data_dir = args.data or ensure_world(args.preset)
  print("world:", json.dumps(world_statistics(data_dir)))
  print("language-only baseline, VQA test (paper ref.: 54.0):",
        json.dumps(language_prior_accuracy(data_dir)))
  if not args.skip_recognition:
    rec = recognition_only_accuracy(data_dir, args.preset, args.steps, args.seed)
    print("recognition-only model, Genome test (paper: object 43.3, attribute 36.9):",
          json.dumps(rec))
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
