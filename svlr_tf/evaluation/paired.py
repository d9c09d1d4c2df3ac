"""Paired differences between table rows, with intervals valid at few seeds.

Two rows of a table are evaluated on the same test questions with the same
seeds, so a claim such as "Joint SVLR beats VQA Only" is a *paired* difference:
for seed s and question q, d[s, q] = acc_A(s, q) - acc_B(s, q) (official VQA
accuracy of one question, in [0, 1]), and the row difference is the mean of d
over seeds and questions (exactly the difference of the two rows' Overall
accuracies, averaged over seeds).

Its 95% interval is ``intervals.seed_question_interval`` (the model and why it is
not a bootstrap are there): a t(n-1) half-width over the per-seed differences and
a normal half-width from the question-sampling variance of the test split, added
in quadrature.  With
one seed there is no interval (training noise cannot be estimated); with two it
is valid but wide and flagged.  Each claim also gets the number of seeds it
would need to exclude both 0 and the paper's value (an estimate from the
measured per-seed SD).

  per_question_accuracy(predictions, human_answers, question_ids) -> [Q]
  paired_difference(a [S, Q], b [S, Q]) -> PairedDifference
  TestQuestions.from_records(records); claim_differences(claims, ...) -> [dict]
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from svlr_tf.evaluation import intervals
from svlr_tf.runtime.errors import DataError
from svlr_tf.evaluation.vqa_eval import answer_accuracy
from svlr_tf.runtime.files import iter_jsonl, read_json

METHOD = intervals.METHOD


@dataclasses.dataclass(frozen=True)
class PairedDifference:
  """Row A minus row B, in accuracy points (percent).

  Attributes:
    difference: mean over seeds and questions of acc_A - acc_B.
    low, high: the 95% interval (``intervals.seed_question_interval``); None
      with one seed.
    half_width: (high - low) / 2 (None with one seed).
    seed_std: standard deviation over seeds of the per-seed difference
      (training noise plus the seed x question noise; None with one seed).
    question_se: standard error of the difference from the test questions
      alone (seeds averaged first, then sd over questions / sqrt(Q)).
    df: the seed part's t quantile's degrees of freedom (seeds - 1).
    num_seeds, num_questions: what the interval is made of.
    method: how the interval was computed (named in every claims table).
    warning: '' or why the interval is absent or weak (seeds < 3).
  """

  difference: float
  low: Optional[float]
  high: Optional[float]
  half_width: Optional[float]
  seed_std: Optional[float]
  question_se: float
  df: Optional[float]
  num_seeds: int
  num_questions: int
  method: str = METHOD
  warning: str = ""

  @classmethod
  def from_interval(cls, interval: intervals.Interval) -> "PairedDifference":
    return cls(interval.difference, interval.low, interval.high,
               interval.half_width, interval.seed_std, interval.question_se,
               interval.df, interval.num_seeds, interval.num_questions,
               METHOD, interval.warning)

  def to_dict(self) -> Dict[str, float]:
    out = dataclasses.asdict(self)
    for key in ("difference", "low", "high", "half_width", "seed_std",
                "question_se", "df"):
      if out[key] is not None:
        out[key] = round(out[key], 2)
    return out

  def format(self) -> str:
    """'+2.41 [+1.90, +2.93]', or '+2.41 [no interval: 1 seed]'."""
    if self.low is None:
      return f"{self.difference:+.2f} [no interval: 1 seed]"
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


def paired_difference(accuracy_a, accuracy_b, level: float = 0.95
                      ) -> PairedDifference:
  """Row A minus row B with an interval over seeds and test questions.

  Args:
    accuracy_a, accuracy_b: [S, Q] per-question accuracies in [0, 1] of the two
      rows (S seeds, the same Q questions in the same order; a [Q] array is one
      seed). Seed s of A is paired with seed s of B.
    level: coverage of the interval.
  Returns: a ``PairedDifference`` in accuracy points.
  Raises: ValueError on mismatched shapes, no questions or NaN.
  """
  a = np.atleast_2d(np.asarray(accuracy_a, np.float64))
  b = np.atleast_2d(np.asarray(accuracy_b, np.float64))
  if a.shape != b.shape:
    raise ValueError(f"paired rows need the same [seeds, questions] shape; got "
                     f"{a.shape} and {b.shape}")
  if a.size == 0:
    raise ValueError("no questions to compare")
  return PairedDifference.from_interval(
      intervals.seed_question_interval(100.0 * (a - b), level))


# ----------------------------------------------------------------------------
# Claims of a table: row differences on the same test questions and seeds
# ----------------------------------------------------------------------------

CHANCE = "chance"  # a comparison row: a uniformly random choice, official metric
ONE_IN_CHOICES = "1/choices"  # the paper's chance: 1 / number of choices (1/18)


@dataclasses.dataclass(frozen=True)
class Claim:
  """One claim of a table, as a paired difference "row_a - row_b".

  Attributes:
    row_a, row_b: row labels; ``row_b`` may be ``CHANCE`` (the expected
      official accuracy of a uniformly random choice, the same for every seed)
      or ``ONE_IN_CHOICES`` (1 / number of choices: the paper's 1/18 = 5.56%).
    paper: the paper's value of the same difference (points), if it has one.
    question_type: restrict to the questions of this type ("what color is the").
    paper_ratio: against a chance row, the paper's row / its chance.
  """

  row_a: str
  row_b: str
  paper: Optional[float] = None
  question_type: Optional[str] = None
  paper_ratio: Optional[float] = None

  @property
  def name(self) -> str:
    where = f' ("{self.question_type}")' if self.question_type else ""
    b = {CHANCE: "chance (official metric)",
         ONE_IN_CHOICES: "chance (1/choices)"}.get(self.row_b, self.row_b)
    return f"{self.row_a} - {b}{where}"


@dataclasses.dataclass
class TestQuestions:
  """The test questions of a split, in a fixed order, with what claims need.

  Attributes:
    question_ids: [Q] the order of every per-question array.
    human_answers: question id -> its human answers.
    question_types: [Q] question type of each question.
    chance: [Q] expected official accuracy of a uniformly random choice.
    one_in_choices: [Q] 1 / number of choices (the paper's chance, 1/18).
  """

  question_ids: List[int]
  human_answers: Dict[int, List[str]]
  question_types: np.ndarray
  chance: np.ndarray
  one_in_choices: Optional[np.ndarray] = None

  def __post_init__(self):
    if self.one_in_choices is None:
      self.one_in_choices = np.full(len(self.question_ids), np.nan)

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
               np.asarray(chance, np.float64),
               np.asarray([1.0 / len(r["choices"]) for r in records], np.float64))

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
                      questions: TestQuestions) -> List[Dict]:
  """Each claim's paired difference with its 95% interval and seeds needed.

  Args:
    claims: the comparisons.
    accuracy: row label -> [S, Q] per-question accuracies (``TestQuestions``
      order; the same seeds in the same order for every row).
    questions: the test questions.
  Returns: one dict per claim whose rows exist: {"claim", "row_a", "row_b",
    "question_type", "paper", **PairedDifference.to_dict(), "seeds_needed"
    (seeds to exclude 0 and the paper's value, an estimate; None: cannot be
    estimated or more than ``intervals.MAX_SEEDS``)}; against a chance row also
    "chance" (its mean, points), "ratio" (row A / chance) and "paper_ratio".
  """
  out = []
  for claim in claims:
    baselines = {CHANCE: questions.chance, ONE_IN_CHOICES: questions.one_in_choices}
    if claim.row_a not in accuracy or (claim.row_b not in baselines
                                       and claim.row_b not in accuracy):
      continue
    a = accuracy[claim.row_a]
    b = (np.broadcast_to(baselines[claim.row_b], a.shape)
         if claim.row_b in baselines else accuracy[claim.row_b])
    if claim.question_type is not None:
      keep = questions.question_types == claim.question_type
      if not keep.any():
        continue
      a, b = a[:, keep], b[:, keep]
    result = paired_difference(a, b)
    interval = intervals.seed_question_interval(100.0 * (a - b))
    targets = [0.0] + ([claim.paper] if claim.paper is not None else [])
    entry = dict(claim=claim.name, row_a=claim.row_a, row_b=claim.row_b,
                 question_type=claim.question_type, paper=claim.paper,
                 **result.to_dict(),
                 seeds_needed=intervals.seeds_needed(interval, targets))
    if claim.row_b in baselines:
      entry.update(chance=round(100.0 * float(b.mean()), 2),
                   ratio=round(float(a.mean() / b.mean()), 2),
                   paper_ratio=claim.paper_ratio)
    out.append(entry)
  return out


def _cell(d: Dict) -> str:
  if d["low"] is None:
    return f"{d['difference']:+.2f} [no interval: 1 seed]"
  return f"{d['difference']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"


def _needed(d: Dict) -> str:
  if d.get("seeds_needed") is not None:
    return f"~{d['seeds_needed']}"
  if d["seed_std"] is None:
    return "unknown (1 seed)"
  targets = [0.0] + ([d["paper"]] if d["paper"] is not None else [])
  distance = min(abs(d["difference"] - t) for t in targets)
  if distance == 0:
    return "never (the difference is 0 or the paper's value)"
  if 1.96 * d["question_se"] >= distance:
    return "more test questions (their part alone is too wide)"
  return f"> {intervals.MAX_SEEDS}"


def markdown(differences: Sequence[Dict], title: str) -> str:
  """A Markdown table of ``claim_differences``, the method and any warning.

  Columns: the paper's value, the measured difference [95% interval],
  half-width, per-seed SD, seeds x questions, and the seeds the claim would
  need to exclude both 0 and the paper's value (an estimate).  Against a chance
  row the ratio to chance follows the claim (paper's ratio in brackets).
  """
  lines = [title, "",
           "| claim | paper | measured [95% interval] | half-width | per-seed SD "
           "| seeds x questions | seeds to exclude 0 and the paper (est.) |",
           "|---|---:|---:|---:|---:|---:|---:|"]
  warnings = []
  for d in differences:
    paper = "" if d["paper"] is None else f"{d['paper']:+.1f}"
    half = "" if d["half_width"] is None else f"{d['half_width']:.2f}"
    sd = "" if d["seed_std"] is None else f"{d['seed_std']:.2f}"
    name = d["claim"]
    if d.get("ratio") is not None:
      name += f" (x{d['ratio']:.2f} chance {d['chance']:.2f}"
      name += (f"; paper x{d['paper_ratio']:.2f})" if d.get("paper_ratio")
               else ")")
    lines.append(f"| {name} | {paper} | {_cell(d)} | {half} | {sd} | "
                 f"{d['num_seeds']} x {d['num_questions']} | {_needed(d)} |")
    if d["warning"] and d["warning"] not in warnings:
      warnings.append(d["warning"])
  lines += ["", f"Interval: {METHOD}; for the expected difference over training "
            "seeds and the question population (docs/statistics.md). Seeds "
            "needed: the smallest number whose expected half-width, with the "
            "measured per-seed SD, excludes 0 and the paper's value."]
  lines += [f"**WARNING: {w}.**" for w in warnings]
  return "\n".join(lines) + "\n"
