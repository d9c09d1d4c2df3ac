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
mean of d over the draw (computed exactly over the distinct per-question differences, so
30,000 questions take well under a second). Question sampling gives the test-set noise, seed
sampling the training noise. With few seeds the seed part is coarse (3 seeds
give at most 10 distinct seed draws), which is why the seed and question
parts of the spread are also reported apart (``seed_std``, ``question_se``).

  per_question_accuracy(predictions, human_answers, question_ids) -> [Q]
  paired_difference(a [S, Q], b [S, Q]) -> PairedDifference
  TestQuestions.from_records(records); claim_differences(claims, ...) -> [dict]
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from svlr_tf.runtime.errors import DataError
from svlr_tf.evaluation.vqa_eval import answer_accuracy
from svlr_tf.runtime.files import iter_jsonl, read_json

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
  Raises: DataError naming a question without prediction (a reused run made on
  other data).
  """
  out = np.empty(len(question_ids), np.float64)
  for i, qid in enumerate(question_ids):
    if qid not in predictions:
      raise DataError("test predictions", f"no prediction for question_id {qid}: a "
                      "run was made on other data; use a new --workdir")
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
  # Drawing Q questions with replacement is a multinomial over the questions;
  # questions with the same differences in every seed are interchangeable, so
  # it is drawn over the distinct columns of d (official accuracies take few
  # values: a few hundred distinct columns for 30,000 questions), exactly.
  columns, counts = np.unique(d.T, axis=0, return_counts=True)   # [K, S], [K]
  probabilities = counts / num_questions
  chunk = max(1, min(replicates, 4_000_000 // len(columns)))
  for start in range(0, replicates, chunk):
    n = min(chunk, replicates - start)
    draws = rng.multinomial(num_questions, probabilities, size=n)   # [n, K]
    seeds = rng.integers(0, num_seeds, size=(n, num_seeds))         # [n, S]
    per_seed = draws @ columns / num_questions                      # [n, S]
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


# ----------------------------------------------------------------------------
# Claims of a table: row differences on the same test questions and seeds
# ----------------------------------------------------------------------------

CHANCE = "chance"  # a comparison row: a uniformly random choice per question


@dataclasses.dataclass(frozen=True)
class Claim:
  """One claim of a table, as a paired difference "row_a - row_b".

  Attributes:
    row_a, row_b: row labels; ``row_b`` may be ``CHANCE`` (the expected
      official accuracy of a random choice, the same for every seed).
    paper: the paper's value of the same difference (points), if it has one.
    question_type: restrict to the questions of this type ("what color is the").
  """

  row_a: str
  row_b: str
  paper: Optional[float] = None
  question_type: Optional[str] = None

  @property
  def name(self) -> str:
    where = f' ("{self.question_type}")' if self.question_type else ""
    return f"{self.row_a} - {self.row_b}{where}"


@dataclasses.dataclass
class TestQuestions:
  """The test questions of a split, in a fixed order, with what claims need.

  Attributes:
    question_ids: [Q] the order of every per-question array.
    human_answers: question id -> its human answers.
    question_types: [Q] question type of each question.
    chance: [Q] expected official accuracy of a uniformly random choice.
  """

  question_ids: List[int]
  human_answers: Dict[int, List[str]]
  question_types: np.ndarray
  chance: np.ndarray

  @classmethod
  def from_records(cls, records) -> "TestQuestions":
    """From prepared VQA records ({"question_id", "question_type", "choices",
    "answers"}), e.g. ``vqa/test.jsonl``."""
    records = sorted(records, key=lambda r: r["question_id"])
    human = {r["question_id"]: list(r["answers"]) for r in records}
    chance = [np.mean([answer_accuracy(c, r["answers"]) for c in r["choices"]])
              for r in records]
    return cls([r["question_id"] for r in records], human,
               np.asarray([r["question_type"] for r in records]),
               np.asarray(chance, np.float64))

  @classmethod
  def from_data(cls, data_dir: str, split: str = "test") -> "TestQuestions":
    """From ``<data_dir>/vqa/<split>.jsonl`` of a prepared data directory."""
    path = os.path.join(data_dir, "vqa", f"{split}.jsonl")
    return cls.from_records(record for _, record in iter_jsonl(path))

  def accuracies(self, predictions_by_seed: Mapping[int, Mapping[int, str]]
                 ) -> np.ndarray:
    """[S, Q] official accuracy of each seed's predictions (seeds in order)."""
    return np.stack([per_question_accuracy(predictions_by_seed[s],
                                           self.human_answers, self.question_ids)
                     for s in sorted(predictions_by_seed)])


def grid_accuracies(grid, questions: TestQuestions) -> Dict[str, np.ndarray]:
  """Row label -> [S, Q] per-question test accuracies of a ``GridResults``.

  Read from each run's predictions (``vqa_test_results.json``, or
  ``zero_shot_test_results.json`` for a zero-shot row).
  """
  out = {}
  for row in grid.rows:
    name = ("zero_shot_test_results.json" if row.zero_shot
            else "vqa_test_results.json")
    by_seed = {}
    for seed in grid.seeds:
      path = os.path.join(grid.run_dir(row.label, seed), name)
      by_seed[seed] = {r["question_id"]: r["answer"] for r in read_json(path)}
    out[row.label] = questions.accuracies(by_seed)
  return out


def claim_differences(claims: Sequence[Claim], accuracy: Mapping[str, np.ndarray],
                      questions: TestQuestions,
                      replicates: int = DEFAULT_REPLICATES, seed: int = 0
                      ) -> List[Dict]:
  """Each claim's paired difference with its 95% bootstrap interval.

  Args:
    claims: the comparisons.
    accuracy: row label -> [S, Q] per-question accuracies (``TestQuestions``
      order; the same seeds in the same order for every row).
    questions: the test questions.
  Returns: one dict per claim whose rows exist: {"claim", "row_a", "row_b",
    "question_type", "paper", **PairedDifference.to_dict()}.
  """
  out = []
  for claim in claims:
    if claim.row_a not in accuracy or (claim.row_b != CHANCE
                                       and claim.row_b not in accuracy):
      continue
    a = accuracy[claim.row_a]
    b = (np.broadcast_to(questions.chance, a.shape) if claim.row_b == CHANCE
         else accuracy[claim.row_b])
    if claim.question_type is not None:
      keep = questions.question_types == claim.question_type
      if not keep.any():
        continue
      a, b = a[:, keep], b[:, keep]
    result = paired_difference(a, b, replicates=replicates, seed=seed)
    out.append(dict(claim=claim.name, row_a=claim.row_a, row_b=claim.row_b,
                    question_type=claim.question_type, paper=claim.paper,
                    **result.to_dict()))
  return out


def markdown(differences: Sequence[Dict], title: str) -> str:
  """A Markdown table of ``claim_differences``: difference [95% interval]."""
  lines = [title, "",
           "| claim | paper | measured [95% interval] | half-width | seeds x questions |",
           "|---|---:|---:|---:|---:|"]
  for d in differences:
    paper = "" if d["paper"] is None else f"{d['paper']:+.1f}"
    lines.append(f"| {d['claim']} | {paper} | {d['difference']:+.2f} "
                 f"[{d['low']:+.2f}, {d['high']:+.2f}] | {d['half_width']:.2f} | "
                 f"{d['num_seeds']} x {d['num_questions']} |")
  return "\n".join(lines) + "\n"
