"""Why zero-shot VQA (Eq. 9) nearly never answers yes/no: the score of answers
without nouns or adjectives against grounded ones, on held-out data.

Under Eq. 9, S = sum_R a(R) min(p_q(R), p_a(R)).  An answer with neither nouns
nor adjectives ("yes", "no", "2") has p_a(R) = 0 (Eq. 3's empty set), so it
scores sum_R a(R) min(p_q(R), 0) <= 0.  A grounded answer ("red", "dog") beats
it only where its p_a = f(R)^T g(w) is above the question's grounding and 0 on
the attended regions -- which depends on the offset of f.g, and Eq. 1's
ranking loss (margins between classes of one region) leaves that offset free:
adding a constant to every f(R)^T g(w) changes no term of Eq. 1.  Hence the
analysis: the held-out distributions of both kinds of score, how often a
grounded answer outscores every word-less one, and the held-out accuracy if
a constant were added to the grounded answers' scores (what an offset would
do; Eq. 9 as written adds none).  Test data is never used here.

  wordless_choices(split) -> [N, C] bool
  score_distributions(scores, wordless, choice_accuracy, yes_no) -> dict
  offset_sweep(scores, wordless, choice_accuracy, offsets) -> [accuracy]
"""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from svlr_tf.evaluation.multiple_choice import best_choice

QUANTILES = (5, 25, 50, 75, 95)


def wordless_choices(split) -> np.ndarray:
  """[N, C] True where a choice has neither nouns nor adjectives (padding id 0).

  ``split``: a ``VQASplit`` (choice_nouns, choice_adjectives [N, C, La])."""
  return ((np.asarray(split.choice_nouns) == 0).all(-1)
          & (np.asarray(split.choice_adjectives) == 0).all(-1))


def _summary(values: np.ndarray) -> Dict:
  if values.size == 0:
    return {"choices": 0}
  q = np.percentile(values, QUANTILES)
  return {"choices": int(values.size), "mean": round(float(values.mean()), 4),
          "quantiles": {str(p): round(float(v), 4) for p, v in zip(QUANTILES, q)},
          "positive": round(float((values > 0).mean()), 4),
          "zero": round(float((values == 0).mean()), 4)}


def score_distributions(scores, wordless, choice_accuracy, yes_no) -> Dict:
  """Eq. 9 scores of word-less and grounded choices on one split.

  Args:
    scores: [N, C] Eq. 9 scores.
    wordless: [N, C] bool (``wordless_choices``).
    choice_accuracy: [N, C] official accuracy of each choice in [0, 1]
      (``VQAScorer.choice_accuracy``).
    yes_no: [N] bool, the questions whose answer type is yes/no.
  Returns: {"wordless", "grounded": {"choices", "mean", "quantiles" (5..95),
    "positive", "zero" (fractions)}, "grounded_wins": fraction of the questions
    with both kinds whose best grounded choice outscores every word-less one,
    "picked_wordless": fraction of questions whose prediction is word-less,
    "accuracy": {"overall", "yes/no", "other"} in percent}.
  """
  scores = np.asarray(scores, np.float64)
  wordless = np.asarray(wordless, bool)
  yes_no = np.asarray(yes_no, bool)
  both = wordless.any(1) & (~wordless).any(1)
  best_grounded = np.where(wordless, -np.inf, scores).max(1)
  best_wordless = np.where(wordless, scores, -np.inf).max(1)
  pick = best_choice(scores)
  rows = np.arange(len(pick))
  acc = np.asarray(choice_accuracy, np.float64)[rows, pick]
  mean = lambda x: round(100.0 * float(x.mean()), 2) if x.size else None
  return {
      "wordless": _summary(scores[wordless]), "grounded": _summary(scores[~wordless]),
      "grounded_wins": (round(float((best_grounded[both] > best_wordless[both]).mean()), 4)
                        if both.any() else None),
      "picked_wordless": round(float(wordless[rows, pick].mean()), 4),
      "accuracy": {"overall": mean(acc), "yes/no": mean(acc[yes_no]),
                   "other": mean(acc[~yes_no])}}


def offset_sweep(scores, wordless, choice_accuracy,
                 offsets: Sequence[float]) -> list:
  """Accuracy (percent) with a constant added to every grounded choice's score.

  Offset 0 is Eq. 9 as written; a negative offset lets word-less answers (yes,
  no, numbers) win more often.  For analysis only (choosing an offset from VQA
  answers would no longer be zero-shot)."""
  scores = np.asarray(scores, np.float64)
  wordless = np.asarray(wordless, bool)
  accuracy = np.asarray(choice_accuracy, np.float64)
  rows = np.arange(len(scores))
  out = []
  for offset in offsets:
    pick = best_choice(np.where(wordless, scores, scores + offset))
    out.append(round(100.0 * float(accuracy[rows, pick].mean()), 2))
  return out


def heldout_analysis(trainer, split: str = "heldout", num_offsets: int = 21) -> Dict:
  """The analysis of a trained model's Eq. 9 on a held-out split.

  Offsets: 0 and the negated quantiles 0, 5, ..., 100 of the grounded choices'
  scores (so a grounded answer's score is moved to at most 0 by the largest).
  Returns ``score_distributions`` plus "offsets": {"offset": [...],
  "accuracy": [...], "best_offset", "best_accuracy", "as_written"}.
  """
  if split == "test":
    raise ValueError("the zero-shot offset analysis is for held-out data only")
  scores = trainer.zero_shot_scores(split)
  scorer = trainer.task.vqa_scorer(trainer.data, split)
  arrays = scorer.arrays
  wordless = wordless_choices(arrays)
  yes_no = np.asarray(arrays.answer_type_names)[arrays.answer_type] == "yes/no"
  out = score_distributions(scores, wordless, scorer.choice_accuracy, yes_no)
  grounded = scores[~wordless]
  offsets = [0.0] + ([-float(v) for v in np.percentile(
      grounded, np.linspace(0, 100, num_offsets))] if grounded.size else [])
  accuracy = offset_sweep(scores, wordless, scorer.choice_accuracy, offsets)
  best = int(np.argmax(accuracy))
  out["offsets"] = {"offset": [round(o, 4) for o in offsets], "accuracy": accuracy,
                    "best_offset": round(offsets[best], 4),
                    "best_accuracy": accuracy[best], "as_written": accuracy[0]}
  out["split"] = split
  return out
