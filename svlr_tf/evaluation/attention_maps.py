"""The attention a(R) (Eq. 4) of a trained model over a VQA split.

a(R) depends on the question and on the answer (Eq. 3 pools the nouns and
adjectives of both), so each question has one attention per choice. We keep two:
for the correct answer (the question-answer pair, as Table 2 compares) and for
the predicted answer (what the model looked at when it answered).

  split_attention(evaluator, split, question_ids=None) -> SplitAttention
  pick_questions(records, n, seed) -> n records across question types
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Iterable, Optional

import numpy as np


@dataclasses.dataclass
class SplitAttention:
  """Attention of a model on (some of) a split's questions, in split order.

  Attributes:
    question_ids: [N] int64.
    scores: [N, C] float32 answer scores S (Eq. 7).
    predicted: [N] int, index of the predicted choice (ties broken as in the
      trainer's accuracy).
    label: [N] int, index of the correct choice.
    attention_label: [N, K] float32, a(R) for the correct answer.
    attention_predicted: [N, K] float32, a(R) for the predicted answer.
  """

  question_ids: np.ndarray
  scores: np.ndarray
  predicted: np.ndarray
  label: np.ndarray
  attention_label: np.ndarray
  attention_predicted: np.ndarray

  def by_question(self, which: str = "label") -> dict:
    """{question_id: [K] a(R)} for the correct ("label") or "predicted" answer."""
    att = self.attention_label if which == "label" else self.attention_predicted
    return {int(q): a for q, a in zip(self.question_ids, att)}


def split_attention(evaluator, split: str,
                    question_ids: Optional[Iterable[int]] = None) -> SplitAttention:
  """Runs an evaluator's (restored) model over ``split`` (``Evaluator.vqa_outputs``
  of svlr_tf.training.evaluator, e.g. from ``grid.restore_run``); keeps
  ``question_ids`` only if given (a batch without any of them is not scored)."""
  from svlr_tf.evaluation.multiple_choice import best_choice  # pylint: disable=import-outside-toplevel

  select = None
  if question_ids is not None:
    wanted = list({int(q) for q in question_ids})
    select = lambda batch: np.isin(batch["question_id"].numpy(), wanted)
  parts = {k: [] for k in ("question_ids", "scores", "label", "attention")}
  for batch, keep, (scores, attention) in evaluator.vqa_outputs(split, "vqa", select):
    parts["question_ids"].append(batch["question_id"].numpy()[keep])
    parts["scores"].append(scores.numpy()[keep])
    parts["label"].append(batch["label"].numpy()[keep])
    parts["attention"].append(attention.numpy()[keep])  # [n, C, K]
  if not parts["scores"]:
    raise ValueError(f"no questions of split {split!r} selected")
  qids, scores, label = (np.concatenate(parts[k]) for k in
                         ("question_ids", "scores", "label"))
  attention = np.concatenate(parts["attention"])
  predicted = best_choice(scores)
  rows = np.arange(len(label))
  return SplitAttention(qids.astype(np.int64), scores, predicted, label,
                        attention[rows, label], attention[rows, predicted])


def pick_questions(records, n: int, seed: int) -> list:
  """``n`` records across question types: one random question of each type in
  turn (types by decreasing frequency), seeded."""
  rng = np.random.default_rng(seed)
  by_type = collections.defaultdict(list)
  for r in records:
    by_type[r["question_type"]].append(r)
  queues = {t: [qs[i] for i in rng.permutation(len(qs))] for t, qs in by_type.items()}
  order = sorted(queues, key=lambda t: (-len(by_type[t]), t))
  picked = []
  while len(picked) < n and any(queues.values()):
    for t in order:
      if queues[t] and len(picked) < n:
        picked.append(queues[t].pop())
  return picked
