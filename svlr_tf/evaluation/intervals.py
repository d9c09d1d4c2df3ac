"""Intervals for a paired row difference that stay valid at few seeds.

The model.  Rows A and B are trained with the same seeds s = 1..n and scored on
the same Q test questions; d[s, q] = acc_A(s, q) - acc_B(s, q).  Write

    d[s, q] = mu + (m(q) - mu) + tau_s + e[s, q]

  mu        the claim: the expected difference over training seeds and over the
            question population the test split is drawn from;
  m(q)      the expected (over seeds) difference on question q; the test
            split's questions are a sample of the population (variance
            sigma_q^2 over questions);
  tau_s     the training noise of seed s (initialisation, data order), common
            to all questions of that seed;
  e[s, q]   the rest (a seed's luck on a particular question).

The per-seed difference D_s = mean_q d[s, q] = mu + (mbar - mu) + tau_s + ebar_s.
Given the test split, the D_s are independent across seeds, so their sample
variance s^2_seeds estimates Var(tau) + Var(ebar): the training noise *and*
the seed x question part, but not the test split's own sampling error
(mbar - mu), which is the same for every seed.  Hence the estimator
Dbar = mean_s D_s has

    Var(Dbar - mu) = s^2_seeds / n  +  sigma_q^2 / Q
                     (seed part)      (question part)

and the interval is Dbar +- h with the half-widths of the two parts added in
quadrature,

    h^2 = (t_{n-1} * s_seeds / sqrt(n))^2 + (z * se_q)^2,

the question part's se_q^2 estimated by the variance over questions of
mean_s d[s, q] / Q (slightly too large, by Var(e) / (n Q): conservative).  The
seed part gets the t quantile of its n - 1 degrees of freedom (t(2) = 4.30 at
3 seeds), the question part, estimated from thousands of questions, the normal
one.  On simulated data (tests/evaluation/test_intervals.py) it covers the
truth 94-98% of the time at 3 and 10 seeds, whichever part dominates; a single
t(n - 1) quantile for both parts covers 99.8% (too wide) when the question part
is a third of the variance, and Welch-Satterthwaite degrees of freedom cover
only about 92% at 3 seeds.  This is the interval
for the question population (what the paper claims about VQA).  The interval for
"this test split only" drops the question part: the plain t-interval over the n
per-seed differences (``question_part=False``).

Why not the bootstrap over seeds and questions: drawing n seeds with
replacement gives a variance (n - 1) / n of the plug-in one and uses a normal
quantile where t(n - 1) is due (t(2) = 4.30 against 1.96); at 3 seeds it
undercovers badly (tests/evaluation/test_intervals.py measures it).  At one
seed no training noise can be estimated at all: no interval is given.

  seed_question_interval(d [S, Q]) -> Interval
  bootstrap_interval(d [S, Q]) -> (low, high)         (the former method)
  seeds_needed(interval, targets) -> int | None
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence, Tuple

import numpy as np
from scipy import stats

METHOD = ("t(seeds - 1) interval over the per-seed paired differences, combined "
          "in quadrature with the normal interval of the test questions' sampling")
METHOD_SHORT = "seed t + question SE"
MAX_SEEDS = 200   # seeds_needed gives up beyond this (the question part dominates)


@dataclasses.dataclass(frozen=True)
class Interval:
  """A paired difference (points) and its interval.

  Attributes:
    difference: Dbar, the mean of d over seeds and questions.
    low, high: the interval (None with one seed: training noise unknown).
    seed_std: s_seeds, SD over seeds of the per-seed difference (None at 1 seed).
    question_se: sqrt(question part), the SE from the test questions alone.
    df: the t quantile's degrees of freedom, seeds - 1, of the seed part (None at 1 seed).
    num_seeds, num_questions: n and Q.
    warning: '' or why the interval is not to be trusted (seeds < 3).
  """

  difference: float
  low: Optional[float]
  high: Optional[float]
  seed_std: Optional[float]
  question_se: float
  df: Optional[float]
  num_seeds: int
  num_questions: int
  level: float = 0.95
  question_part: bool = True
  warning: str = ""

  @property
  def half_width(self) -> Optional[float]:
    return None if self.low is None else (self.high - self.low) / 2.0

  def half_width_at(self, num_seeds: int) -> Optional[float]:
    """The half-width expected with ``num_seeds`` seeds (same SDs, same Q)."""
    if self.seed_std is None:
      return None
    return _half_width(self.seed_std, self.question_se if self.question_part else 0.0,
                       num_seeds, self.num_questions, self.level)


def _half_width(seed_std: float, question_se: float, num_seeds: int,
                num_questions: int, level: float) -> float:
  """sqrt((t_{n-1} s / sqrt(n))^2 + (z se_q)^2)."""
  del num_questions  # the question part is given as its SE
  seed_half = stats.t.ppf(0.5 + level / 2.0, num_seeds - 1) * seed_std / np.sqrt(
      num_seeds)
  question_half = stats.norm.ppf(0.5 + level / 2.0) * question_se
  return float(np.hypot(seed_half, question_half))


def clustered_se(x, clusters) -> float:
  """SE of mean(x) when the units are sampled in clusters (Fig. 5: regions by class).

  The analytical counterpart of a bootstrap over clusters and the units within
  them: se^2 = C / (C - 1) * sum_c (sum_{i in c} (x_i - mean x))^2 / N^2, with C
  clusters and N units; with one unit per cluster it is var(x, ddof=1) / N.
  """
  x = np.asarray(x, np.float64)
  clusters = np.asarray(clusters)
  if clusters.shape != x.shape:
    raise ValueError(f"{clusters.shape} cluster ids for {x.shape} units")
  _, index = np.unique(clusters, return_inverse=True)
  num_clusters = index.max() + 1 if len(index) else 0
  if num_clusters < 2:
    raise ValueError("need units from at least 2 clusters")
  sums = np.bincount(index, weights=x - x.mean(), minlength=num_clusters)
  return float(np.sqrt(num_clusters / (num_clusters - 1) * np.sum(sums ** 2))
               / len(x))


def seed_question_interval(d, level: float = 0.95,
                           question_part: bool = True,
                           clusters=None) -> Interval:
  """The interval of the model above for a [S, Q] array of paired differences.

  Args:
    d: [S, Q] per-question differences (any unit; the result is in that unit).
      A [Q] array is one seed.
    level: coverage.
    question_part: include the test split's sampling error (the interval is then
      for the question population); False: for this test split only.
    clusters: optional [Q] cluster id of each question (or region): the
      sampling part is then ``clustered_se`` (classes and the regions within).
  Returns: ``Interval``; with one seed ``low``/``high``/``seed_std`` are None
    and ``warning`` says why.
  Raises: ValueError on an empty array or NaN.
  """
  d = np.atleast_2d(np.asarray(d, np.float64))
  num_seeds, num_questions = d.shape
  if num_seeds == 0 or num_questions == 0:
    raise ValueError("no seeds or no questions to compare")
  if not np.all(np.isfinite(d)):
    raise ValueError("paired differences contain NaN or infinity")
  per_seed = d.mean(axis=1)
  if clusters is not None:
    question_se = clustered_se(d.mean(axis=0), clusters)
  else:
    question_se = (float(d.mean(axis=0).std(ddof=1) / np.sqrt(num_questions))
                   if num_questions > 1 else 0.0)
  q_se = question_se if question_part else 0.0
  difference = float(per_seed.mean())
  if num_seeds == 1:
    return Interval(difference, None, None, None, question_se, None, 1,
                    num_questions, level, question_part,
                    warning="1 seed: training noise cannot be estimated; no interval")
  seed_std = float(per_seed.std(ddof=1))
  df = float(num_seeds - 1)
  half = _half_width(seed_std, q_se, num_seeds, num_questions, level)
  warning = ("2 seeds: a t(1) interval (12.7 x its standard error), valid but very "
             "wide; use >= 3 seeds" if num_seeds < 3 else "")
  return Interval(difference, difference - half, difference + half, seed_std,
                  question_se, df, num_seeds, num_questions, level, question_part,
                  warning)


def seeds_needed(interval: Interval, targets: Sequence[float]) -> Optional[int]:
  """Seeds for the interval to exclude every value of ``targets`` (an estimate).

  Assumes the measured difference and the measured per-seed SD hold at more
  seeds (the question part stays: the same test split).  Returns the smallest n
  >= 2 whose expected half-width is below the distance from the difference to
  the nearest target; None when it cannot be estimated (one seed) or no number
  of seeds up to ``MAX_SEEDS`` suffices (the question part alone is too wide,
  or the difference sits on a target).
  """
  if interval.seed_std is None:
    return None
  distance = min(abs(interval.difference - t) for t in targets)
  for n in range(2, MAX_SEEDS + 1):
    if interval.half_width_at(n) < distance:
      return n
  return None


def bootstrap_interval(d, replicates: int = 2000, level: float = 0.95,
                       rng: Optional[np.random.Generator] = None
                       ) -> Tuple[float, float]:
  """The former interval: percentiles of a two-level bootstrap of mean(d).

  Each replicate draws the seeds with replacement and, independently, the
  questions with replacement (the same for every drawn seed), computed exactly
  over the distinct columns of d (official accuracies take few values).  Kept
  to show what it misses (tests) and for comparison; not used in the tables.
  """
  d = np.atleast_2d(np.asarray(d, np.float64))
  num_seeds, num_questions = d.shape
  rng = rng or np.random.default_rng(0)
  columns, counts = np.unique(d.T, axis=0, return_counts=True)   # [K, S], [K]
  probabilities = counts / num_questions
  means = np.empty(replicates, np.float64)
  chunk = max(1, min(replicates, 4_000_000 // len(columns)))
  for start in range(0, replicates, chunk):
    n = min(chunk, replicates - start)
    draws = rng.multinomial(num_questions, probabilities, size=n)   # [n, K]
    seeds = rng.integers(0, num_seeds, size=(n, num_seeds))         # [n, S]
    per_seed = draws @ columns / num_questions                      # [n, S]
    means[start:start + n] = np.take_along_axis(per_seed, seeds, 1).mean(1)
  tail = 100.0 * (1.0 - level) / 2.0
  low, high = np.percentile(means, [tail, 100.0 - tail])
  return float(low), float(high)
