"""The regime of a VQA dataset, read from its prepared records (no model).

Figures that say how much of a split the question text alone answers, used to
calibrate the embedded world on held-out splits (``tools.calibrate_world``) and
to set the world beside the paper's data (docs/world.md):

* ``question_statistics``: train questions, distinct question strings, and the
  share of a split's questions whose string occurs verbatim in train (a property
  of the dataset, the same for every model).
* ``text_lookup_accuracy``: the text-only lookup: for each question, the most
  frequent train answer to the same question string among its choices (then of
  its question type, then overall), official VQA accuracy; overall, per answer
  type and per question type.  It is a cheap stand-in for a trained Language
  Only model, and ``needs_image`` is the share of questions it gets wrong
  (accuracy below 1): an upper bound on what looking can add.

Works on real prepared data as well as on the embedded world.
"""

from __future__ import annotations

import collections
import os
from typing import Dict, List

import numpy as np

from svlr_tf.evaluation.vqa_eval import answer_accuracy
from svlr_tf.runtime.files import iter_jsonl


def read_split(data_dir: str, split: str) -> List[Dict]:
  """The records of ``vqa/<split>.jsonl`` (one-line DataError if unreadable)."""
  return [record for _, record in iter_jsonl(os.path.join(data_dir, "vqa",
                                                          f"{split}.jsonl"))]


def question_key(question: str) -> str:
  """A question string up to case, spacing and the question mark."""
  return " ".join(question.lower().replace("?", " ").split())


def question_statistics(data_dir: str, split: str = "heldout") -> Dict[str, float]:
  """{"train_questions", "distinct_train_questions", "<split>_questions",
  "<split>_seen_verbatim_percent"}."""
  train = {question_key(r["question"]) for r in read_split(data_dir, "train")}
  n_train = sum(1 for _ in read_split(data_dir, "train"))
  records = read_split(data_dir, split)
  seen = sum(question_key(r["question"]) in train for r in records)
  return {"train_questions": n_train, "distinct_train_questions": len(train),
          f"{split}_questions": len(records),
          f"{split}_seen_verbatim_percent": round(100 * seen / max(1, len(records)), 2)}


def _percent(values) -> float:
  return round(100 * float(np.mean(values)), 2) if len(values) else float("nan")


def text_lookup_accuracy(data_dir: str, split: str = "heldout") -> Dict:
  """The text-only lookup on ``split`` (percent): {"overall", "needs_image",
  "per_answer_type": {...}, "per_question_type": {...}}."""
  by_question = collections.defaultdict(collections.Counter)
  by_type = collections.defaultdict(collections.Counter)
  overall = collections.Counter()
  for rec in read_split(data_dir, "train"):
    by_question[question_key(rec["question"])][rec["answer"]] += 1
    by_type[rec["question_type"]][rec["answer"]] += 1
    overall[rec["answer"]] += 1
  accs, per_answer, per_question = [], collections.defaultdict(list), \
      collections.defaultdict(list)
  for rec in read_split(data_dir, split):
    q, t = by_question[question_key(rec["question"])], by_type[rec["question_type"]]
    pred = max(rec["choices"], key=lambda c: (q[c], t[c], overall[c]))
    acc = answer_accuracy(pred, rec["answers"])
    accs.append(acc)
    per_answer[rec["answer_type"]].append(acc)
    per_question[rec["question_type"]].append(acc)
  return {"overall": _percent(accs),
          "needs_image": _percent([a < 1 for a in accs]),
          "per_answer_type": {k: _percent(v) for k, v in sorted(per_answer.items())},
          "per_question_type": {k: _percent(v) for k, v in sorted(
              per_question.items(), key=lambda kv: -len(kv[1]))}}
