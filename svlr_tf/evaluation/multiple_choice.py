"""Multiple-choice VQA scoring: the best-scoring choice and its official accuracy.

Shared by training (held-out model selection), the reproduce modules and the
tools: the prediction of a question is the best of its choices (exact ties broken
at random with a fixed seed), scored with the official VQA accuracy
(:func:`svlr_tf.evaluation.vqa_eval.answer_accuracy`).
"""

from __future__ import annotations

import dataclasses
from typing import Dict

import numpy as np

from svlr_tf.evaluation.vqa_eval import answer_accuracy


@dataclasses.dataclass
class VQAEvaluation:
  """Accuracy of a model's multiple-choice predictions on one VQA split.

  Attributes:
    overall: official accuracy in percent.
    per_question_type / per_answer_type: official accuracy per type, percent.
    predictions: official results format [{"question_id", "answer"}].
  """

  overall: float
  per_question_type: Dict[str, float]
  per_answer_type: Dict[str, float]
  predictions: list

  def to_dict(self) -> dict:
    return {"overall": self.overall, "per_question_type": self.per_question_type,
            "per_answer_type": self.per_answer_type}


def best_choice(scores: np.ndarray, seed: int = 0) -> np.ndarray:
  """Index of the best-scoring choice of each row of ``scores`` [N, C].

  Exact ties (common in zero-shot Eq. 9, where every answer without nouns or
  adjectives gets the same score) are broken uniformly at random with a fixed seed,
  so the accuracy does not depend on the order of the choices.
  """
  scores = np.asarray(scores)
  is_max = scores == scores.max(axis=1, keepdims=True)
  pick = np.argmax(is_max, axis=1)
  tied = np.flatnonzero(is_max.sum(axis=1) > 1)
  rng = np.random.default_rng(seed)
  for i in tied:
    pick[i] = rng.choice(np.flatnonzero(is_max[i]))
  return pick


def chosen_answers(split, pick: np.ndarray) -> list:
  """Official results format [{"question_id", "answer"}]: choice ``pick[i]`` of
  question i of ``split`` (a ``VQASplit``: question_ids, choices)."""
  return [{"question_id": int(q), "answer": str(c[p])}
          for q, c, p in zip(split.question_ids, split.choices, pick)]


class VQAScorer:
  """Official VQA accuracy of every choice of every question of a split, cached.

  The multiple-choice prediction is the best-scoring of the 18 choices; its accuracy
  is the official min(#matching humans / 3, 1) averaged over the 10 leave-one-out
  subsets (`svlr_tf.evaluation.vqa_eval.answer_accuracy`).
  """

  def __init__(self, arrays):
    self.arrays = arrays
    self.choice_accuracy = np.array(
        [[answer_accuracy(choice, answers) for choice in choices]
         for choices, answers in zip(arrays.choices, arrays.answers)],
        dtype=np.float64)

  def evaluate(self, scores: np.ndarray) -> VQAEvaluation:
    """Scores [N, C] in split order -> accuracies (percent, 2 decimals)."""
    a = self.arrays
    pick = best_choice(scores)
    acc = self.choice_accuracy[np.arange(len(pick)), pick]

    def grouped(keys):
      out = {}
      keys = np.asarray(keys)
      for key in sorted(set(keys.tolist())):
        out[str(key)] = round(100.0 * float(acc[keys == key].mean()), 2)
      return out

    qtypes = np.asarray(a.question_type_names)[a.question_type]
    return VQAEvaluation(
        overall=round(100.0 * float(acc.mean()), 2),
        per_question_type=grouped(qtypes),
        per_answer_type=grouped(np.asarray(a.answer_type_names)[a.answer_type]),
        predictions=chosen_answers(a, pick))

  def chance(self) -> float:
    """Expected official accuracy of a uniformly random choice, percent."""
    return round(100.0 * float(self.choice_accuracy.mean()), 2)
