"""Tests of CSR labels and per-batch multi-hot targets (svlr_tf/data/sparse_labels.py)."""

import numpy as np
import pytest

from svlr_tf.data import sparse_labels
from svlr_tf.data.aligned import ALIGNMENT


def is_aligned(array):
  return array.ctypes.data % ALIGNMENT == 0


def _random_lists(rng, n, num_classes, max_len=4):
  return [list(rng.choice(num_classes, rng.integers(0, max_len + 1), replace=False))
          for _ in range(n)]


def _naive(lists, rows, num_classes, closure=None):
  out = np.zeros((len(rows), num_classes), np.float32)
  for j, r in enumerate(rows):
    for c in lists[r]:
      out[j, closure[c] if closure is not None else [c]] = 1.0
  return out


def test_csr_from_lists_and_counts():
  indptr, ids = sparse_labels.csr_from_lists([[3, 1], [], [2]])
  assert indptr.tolist() == [0, 2, 2, 3] and ids.tolist() == [3, 1, 2]
  assert indptr.dtype == np.int64 and ids.dtype == np.int32
  assert sparse_labels.indptr_from_counts([2, 0, 1]).tolist() == [0, 2, 2, 3]
  indptr, ids = sparse_labels.csr_from_lists([])
  assert indptr.tolist() == [0] and ids.shape == (0,)


def test_csr_select_matches_loop():
  rng = np.random.default_rng(0)
  lists = _random_lists(rng, 50, 20)
  csr = sparse_labels.csr_from_lists(lists)
  rows = rng.integers(0, 50, 30)
  owner, ids = sparse_labels.csr_select(*csr, rows)
  got = sorted(zip(owner.tolist(), ids.tolist()))
  assert got == sorted((j, c) for j, r in enumerate(rows) for c in lists[r])


def test_multi_hot_matches_naive_with_and_without_expansion():
  rng = np.random.default_rng(1)
  num_classes = 30
  lists = _random_lists(rng, 100, num_classes)
  closure = [[c] + ([c // 3] if c >= 3 else []) + ([0] if c % 5 == 0 else [])
             for c in range(num_classes)]
  csr, expand = sparse_labels.csr_from_lists(lists), sparse_labels.csr_from_lists(closure)
  rows = np.concatenate([rng.integers(0, 100, 40), [7, 7]])  # repeated rows too
  plain = sparse_labels.multi_hot(csr, rows, num_classes)
  expanded = sparse_labels.multi_hot(csr, rows, num_classes, expand=expand)
  np.testing.assert_array_equal(plain, _naive(lists, rows, num_classes))
  np.testing.assert_array_equal(expanded, _naive(lists, rows, num_classes, closure))
  assert plain.dtype == np.float32 and is_aligned(plain) and is_aligned(expanded)
  assert expanded.sum() > plain.sum()  # the expansion added classes


def test_multi_hot_empty_rows_and_batch():
  csr = sparse_labels.csr_from_lists([[], [], [1]])
  assert not sparse_labels.multi_hot(csr, [0, 1], 3).any()
  assert sparse_labels.multi_hot(csr, np.zeros(0, np.int64), 3).shape == (0, 3)


def test_dense_matches_multi_hot_of_all_rows():
  rng = np.random.default_rng(2)
  lists = _random_lists(rng, 25, 12)
  csr = sparse_labels.csr_from_lists(lists)
  expand = sparse_labels.csr_from_lists([[c, 11] for c in range(12)])
  dense = sparse_labels.dense(csr, 12, expand)
  assert dense.dtype == bool and dense.shape == (25, 12)
  np.testing.assert_array_equal(dense,
                                sparse_labels.multi_hot(csr, np.arange(25), 12, expand) > 0)


@pytest.mark.parametrize("indptr,ids,problem", [
    ([0, 1], [0], "indptr has shape"),          # 2 rows expected
    ([0, 1, 3], [0, 1], "does not span"),
    ([0, 3, 2], [0, 1], "non-decreasing"),
    ([0, 1, 2], [0, 9], "outside"),
    ([0, 1, 2], [-1, 0], "outside"),
])
def test_check_csr_errors(indptr, ids, problem):
  with pytest.raises(ValueError, match=problem):
    sparse_labels.check_csr(np.asarray(indptr, np.int64), np.asarray(ids, np.int32),
                            2, 5, "labels")
