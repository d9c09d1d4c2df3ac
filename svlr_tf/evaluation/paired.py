"""Paired differences between Table 1 rows, with bootstrap intervals.

Two rows of Table 1 are evaluated on the same test questions with the same
seeds, so a claim such as "Joint SVLR beats VQA Only" is a *paired* difference:
for seed s and question q, d[s, q] = acc_A(s, q) - acc_B(s, q) (official VQA
accuracy of one question, in [0, 1]), and the row difference is the mean of d
over seeds and questions (exactly the difference of the two rows' Overall
accuracies, averaged over seeds).

Its 95% interval comes from a two-level bootstrap: each replicate draws the
seeds with replacement and, independently, the questions with replacement (the
same questions for every drawn seed: the test set is shared), and takes the
mean of d over the draw. Question sampling gives the test-set noise, seed
sampling the training noise. With few seeds the seed part is coarse (3 seeds
give at most 10 distinct seed draws), which is why the seed and question
parts of the spread are also reported apart (``seed_std``, ``question_se``).

  per_question_accuracy(predictions, human_answers, question_ids) -> [Q]
  paired_difference(a [S, Q], b [S, Q]) -> PairedDifference
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Mapping, Optional, Sequence

import numpy as np

from svlr_tf.evaluation.vqa_eval import answer_accuracy

DEFAULT_REPLICATES = 2000


@dataclasses.dataclass(frozen=True)
class PairedDifference:
  """Row A minus row B, in accuracy points (percent).

  Attributes:
    difference: mean over seeds and questions of acc_A - acc_B.
    low, high: the 2.5% and 97.5% bootstrap percentiles.
    half_width: (high - low) / 2.
    seed_std: standard deviation over seeds of the per-seed difference
      (training noise plus the question noise of one seed; 0 with one seed).
    question_se: standard error of the difference from the questions alone
      (seeds averaged first, then sd over questions / sqrt(Q)).
    num_seeds, num_questions, replicates: what the interval is made of.
  """

  difference: float
  low: float
  high: float
  half_width: float
  seed_std: float
  question_se: float
  num_seeds: int
  num_questions: int
  replicates: int

  def to_dict(self) -> Dict[str, float]:
    out = dataclasses.asdict(self)
    for key in ("difference", "low", "high", "half_width", "seed_std",
                "question_se"):
      out[key] = round(out[key], 2)
    return out

  def format(self) -> str:
    """'+2.41 [+1.90, +2.93]'."""
    return f"{self.difference:+.2f} [{self.low:+.2f}, {self.high:+.2f}]"


def per_question_accuracy(predictions: Mapping[int, str],
                          human_answers: Mapping[int, Sequence[str]],
                          question_ids: Sequence[int]) -> np.ndarray:
  """Official accuracy in [0, 1] of each question, in ``question_ids`` order.

  Args:
    predictions: question id -> predicted answer.
    human_answers: question id -> the 10 human answers.
    question_ids: the order of the output.
  Raises: KeyError naming a question without prediction or answers.
  """
  out = np.empty(len(question_ids), np.float64)
  for i, qid in enumerate(question_ids):
    if qid not in predictions:
      raise KeyError(f"no prediction for question_id {qid}")
    out[i] = answer_accuracy(predictions[qid], human_answers[qid])
  return out


def paired_difference(accuracy_a, accuracy_b, replicates: int = DEFAULT_REPLICATES,
                      seed: int = 0, level: float = 0.95,
                      rng: Optional[np.random.Generator] = None
                      ) -> PairedDifference:
  """Row A minus row B with a bootstrap interval over questions and seeds.

  Args:
    accuracy_a, accuracy_b: [S, Q] per-question accuracies in [0, 1] of the two
      rows (S seeds, the same Q questions in the same order; a [Q] array is one
      seed). Seed s of A is paired with seed s of B.
    replicates: bootstrap replicates.
    seed: seed of the bootstrap's generator (results are reproducible).
    level: coverage of the interval.
    rng: optional generator (overrides ``seed``).
  Returns: a ``PairedDifference`` in accuracy points.
  Raises: ValueError on mismatched shapes or no questions.
  """
  a = np.atleast_2d(np.asarray(accuracy_a, np.float64))
  b = np.atleast_2d(np.asarray(accuracy_b, np.float64))
  if a.shape != b.shape:
    raise ValueError(f"paired rows need the same [seeds, questions] shape; got "
                     f"{a.shape} and {b.shape}")
  num_seeds, num_questions = a.shape
  if num_questions == 0 or num_seeds == 0:
    raise ValueError("no questions to compare")
  d = 100.0 * (a - b)
  rng = rng or np.random.default_rng(seed)
  means = np.empty(replicates, np.float64)
  # Questions are drawn as multinomial counts (one draw for all seeds of a
  # replicate), in chunks so memory stays at ~chunk * Q.
  chunk = max(1, min(replicates, 4_000_000 // max(num_questions, 1)))
  uniform = np.full(num_questions, 1.0 / num_questions)
  for start in range(0, replicates, chunk):
    n = min(chunk, replicates - start)
    counts = rng.multinomial(num_questions, uniform, size=n)        # [n, Q]
    seeds = rng.integers(0, num_seeds, size=(n, num_seeds))         # [n, S]
    per_seed = counts @ d.T / num_questions                         # [n, S]
    means[start:start + n] = np.take_along_axis(per_seed, seeds, 1).mean(1)
  tail = 100.0 * (1.0 - level) / 2.0
  low, high = np.percentile(means, [tail, 100.0 - tail])
  per_seed_difference = d.mean(axis=1)
  seed_std = float(per_seed_difference.std(ddof=1)) if num_seeds > 1 else 0.0
  question_se = float(d.mean(axis=0).std(ddof=1) / np.sqrt(num_questions)
                      ) if num_questions > 1 else 0.0
  return PairedDifference(
      difference=float(d.mean()), low=float(low), high=float(high),
      half_width=float(high - low) / 2.0, seed_std=seed_std,
      question_se=question_se, num_seeds=num_seeds,
      num_questions=num_questions, replicates=replicates)


def questions_for_half_width(pairs: Sequence[PairedDifference],
                             target: float) -> int:
  """Test questions needed for every pair's half-width to reach ``target``.

  Extrapolates each pair's measured half-width as 1/sqrt(Q) (the question
  part; the seed part does not shrink with Q, so this is a lower bound when
  training noise matters). Returns the largest of the pairs' needs.
  """
  need = 0
  for pair in pairs:
    ratio = pair.half_width / target
    need = max(need, int(np.ceil(pair.num_questions * ratio * ratio)))
  return need
