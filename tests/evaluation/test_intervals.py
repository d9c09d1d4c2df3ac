"""Intervals of a paired difference at few seeds: hand values, edge cases, and
coverage on simulated seed + question noise with a known truth."""

import numpy as np
import pytest
from scipy import stats

from svlr_tf.evaluation import intervals


def simulate(rng, num_seeds, num_questions, mu=1.0, question_sd=30.0,
             seed_sd=1.5, rest_sd=20.0):
  """d[s, q] = mu + (m(q) - mu) + tau_s + e[s, q] (points); returns (d, m)."""
  m = mu + question_sd * rng.standard_normal(num_questions)
  tau = seed_sd * rng.standard_normal((num_seeds, 1))
  e = rest_sd * rng.standard_normal((num_seeds, num_questions))
  return m + tau + e, m


def test_t_interval_over_seeds_by_hand():
  # Every question of seed s has difference s + 1: per-seed 1, 2, 3 (sd 1), and
  # the seed-averaged questions are all 2 (no question part).
  d = np.repeat([[1.0], [2.0], [3.0]], 50, axis=1)
  out = intervals.seed_question_interval(d)
  half = stats.t.ppf(0.975, 2) / np.sqrt(3)          # 4.303 / 1.732 = 2.484
  assert out.difference == pytest.approx(2.0)
  assert (out.low, out.high) == pytest.approx((2 - half, 2 + half))
  assert out.seed_std == pytest.approx(1.0) and out.question_se == 0.0
  assert out.df == pytest.approx(2.0) and out.warning == ""


def test_seed_and_question_half_widths_add_in_quadrature():
  rng = np.random.default_rng(0)
  d, _ = simulate(rng, 3, 400)
  out = intervals.seed_question_interval(d)
  seed_part = d.mean(1).var(ddof=1) / 3
  question_part = d.mean(0).var(ddof=1) / 400
  half = np.sqrt(stats.t.ppf(0.975, 2) ** 2 * seed_part
                 + stats.norm.ppf(0.975) ** 2 * question_part)
  assert out.df == 2.0
  assert out.half_width == pytest.approx(half)
  assert out.question_se == pytest.approx(np.sqrt(question_part))
  # "this test split only": the plain t-interval over the 3 per-seed differences.
  split = intervals.seed_question_interval(d, question_part=False)
  assert split.half_width == pytest.approx(
      stats.t.ppf(0.975, 2) * np.sqrt(seed_part))


def test_one_seed_gives_no_interval_and_says_so():
  out = intervals.seed_question_interval(np.ones((1, 30)))
  assert out.low is None and out.high is None and out.half_width is None
  assert out.seed_std is None and "1 seed" in out.warning
  assert intervals.seeds_needed(out, [0.0, 2.4]) is None


def test_two_seeds_are_flagged_and_wide():
  d = np.array([[1.0] * 20, [2.0] * 20])
  out = intervals.seed_question_interval(d)
  assert "2 seeds" in out.warning
  assert out.half_width == pytest.approx(stats.t.ppf(0.975, 1) * np.std([1, 2], ddof=1)
                                         / np.sqrt(2))      # 12.7 x the SE


def test_constant_difference_and_bad_input():
  out = intervals.seed_question_interval(np.full((3, 10), 5.0))
  assert (out.low, out.high) == (5.0, 5.0)
  with pytest.raises(ValueError, match="NaN"):
    intervals.seed_question_interval(np.array([[1.0, np.nan], [0.0, 1.0]]))
  with pytest.raises(ValueError, match="no seeds"):
    intervals.seed_question_interval(np.zeros((2, 0)))


def test_seeds_needed():
  # Per-seed differences 1, 2, 3 (sd 1), no question part: the half-width at n
  # seeds is t(n-1) / sqrt(n); to exclude 0 (distance 2) and a paper value 3.5
  # (distance 1.5) it must be < 1.5.
  d = np.repeat([[1.0], [2.0], [3.0]], 50, axis=1)
  out = intervals.seed_question_interval(d)
  need = intervals.seeds_needed(out, [0.0, 3.5])
  assert stats.t.ppf(0.975, need - 1) / np.sqrt(need) < 1.5
  assert stats.t.ppf(0.975, need - 2) / np.sqrt(need - 1) >= 1.5
  assert need == 5
  assert intervals.seeds_needed(out, [0.0]) == 4          # t(3)/2 = 1.59 < 2
  assert intervals.seeds_needed(out, [2.0]) is None       # sits on the target
  # A question part too wide for any number of seeds.
  wide = intervals.Interval(0.5, 0, 1, 0.1, 1.0, 10.0, 3, 100)
  assert intervals.seeds_needed(wide, [0.0]) is None


# The README's regime: per-seed SD of a row difference about 0.5 points, the
# question part's SE about 0.2 (seed noise dominates).
SEED_NOISE = dict(question_sd=3.0, seed_sd=0.5, rest_sd=3.0)
MIXED_NOISE = dict(question_sd=2.0, seed_sd=0.5, rest_sd=2.0)
ONLY_SEED_NOISE = dict(question_sd=0.0, seed_sd=0.5, rest_sd=0.0)
# The test split's sampling dominates.
QUESTION_NOISE = dict(question_sd=30.0, seed_sd=1.5, rest_sd=20.0)


def coverage(method, num_seeds, sims, rng, noise, num_questions=300,
             target="population"):
  hits = 0
  for _ in range(sims):
    d, m = simulate(rng, num_seeds, num_questions, **noise)
    truth = 1.0 if target == "population" else m.mean()
    low, high = method(d)
    hits += low <= truth <= high
  return hits / sims


def test_the_interval_covers_the_truth_95_percent_of_the_time_at_3_seeds():
  rng = np.random.default_rng(1)
  method = lambda d: (lambda i: (i.low, i.high))(intervals.seed_question_interval(d))
  # Measured with 3,000 simulations: 0.97, 0.96, 0.94, 0.98 at 3 seeds.
  for noise in (SEED_NOISE, MIXED_NOISE, ONLY_SEED_NOISE, QUESTION_NOISE):
    assert 0.93 <= coverage(method, 3, 1000, rng, noise) <= 0.99
  assert 0.93 <= coverage(method, 10, 600, rng, SEED_NOISE) <= 0.99
  split = lambda d: (lambda i: (i.low, i.high))(
      intervals.seed_question_interval(d, question_part=False))
  assert 0.93 <= coverage(split, 3, 1000, rng, SEED_NOISE, target="test split") <= 0.975


def test_the_bootstrap_over_seeds_and_questions_undercovers_at_3_seeds():
  rng = np.random.default_rng(2)
  method = lambda d: intervals.bootstrap_interval(d, replicates=400, rng=rng)
  # About 0.91, 0.83 and 0.74 in the three regimes (400 simulations each).
  assert coverage(method, 3, 300, rng, MIXED_NOISE) < 0.9
  assert coverage(method, 3, 300, rng, ONLY_SEED_NOISE) < 0.82


def test_clustered_se():
  rng = np.random.default_rng(3)
  x = rng.standard_normal(50)
  # One unit per cluster: the plain standard error.
  assert intervals.clustered_se(x, np.arange(50)) == pytest.approx(
      x.std(ddof=1) / np.sqrt(50))
  # Units identical within each of 5 clusters: 5 independent values, not 50.
  values = rng.standard_normal(5)
  x = np.repeat(values, 10)
  clusters = np.repeat(np.arange(5), 10)
  assert intervals.clustered_se(x, clusters) == pytest.approx(
      values.std(ddof=1) / np.sqrt(5))
  out = intervals.seed_question_interval(np.stack([x, x + 1, x + 2]), clusters=clusters)
  assert out.question_se == pytest.approx(values.std(ddof=1) / np.sqrt(5))
  with pytest.raises(ValueError, match="2 clusters"):
    intervals.clustered_se(x, np.zeros(50))
