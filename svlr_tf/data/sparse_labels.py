"""Multi-hot labels kept sparse (CSR) and made dense one batch at a time.

A split's labels are a CSR pair: ``indptr`` int64 [n + 1] and ``ids`` int32
[nnz]; the label ids of row i are ``ids[indptr[i]:indptr[i + 1]]``.  That is
~4 bytes per label instead of a dense bool row of C bytes (C = 1000 object
classes: 1 KB per Genome region, 1.5 GB per dense matrix at the paper's 1.56M
regions).  Only the M rows of a batch become dense float32 multi-hot targets.

A class expansion (the hypernym closure of Eq. 1: class o -> o and its
hypernyms) is the same CSR layout with one row per class.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional, Sequence, Tuple

import numpy as np

from svlr_tf.data.aligned import aligned_zeros

Csr = Tuple[np.ndarray, np.ndarray]


def indptr_from_counts(counts) -> np.ndarray:
  """int64 [n + 1] CSR row pointers of rows with ``counts`` [n] entries."""
  counts = np.asarray(counts, np.int64).reshape(-1)
  indptr = np.zeros(len(counts) + 1, np.int64)
  np.cumsum(counts, out=indptr[1:])
  return indptr


def csr_from_lists(lists: Iterable[Sequence[int]]) -> Csr:
  """(indptr int64 [n + 1], ids int32 [nnz]) of a list of id lists."""
  lengths, flat = [], []
  for ids in lists:
    lengths.append(len(ids))
    flat.extend(ids)
  return indptr_from_counts(lengths), np.asarray(flat, np.int32).reshape(-1)


def check_csr(indptr: np.ndarray, ids: np.ndarray, rows: int, num_classes: int,
              name: str) -> None:
  """ValueError unless (indptr, ids) is CSR of ``rows`` rows with ids < num_classes."""
  if indptr.ndim != 1 or len(indptr) != rows + 1:
    raise ValueError(f"{name}: indptr has shape {indptr.shape}, expected [{rows + 1}]")
  if ids.ndim != 1 or indptr[0] != 0 or indptr[-1] != len(ids):
    raise ValueError(f"{name}: indptr does not span its {len(ids)} ids")
  if rows and np.any(np.diff(indptr) < 0):
    raise ValueError(f"{name}: indptr is not non-decreasing")
  if len(ids) and (ids.min() < 0 or ids.max() >= num_classes):
    raise ValueError(f"{name}: ids outside [0, {num_classes})")


def csr_select(indptr: np.ndarray, ids: np.ndarray, rows) -> Tuple[np.ndarray, np.ndarray]:
  """The entries of ``rows``, vectorized (no loop over rows).

  Returns:
    (owner int64 [k], ids [k]): entry j is id ``ids[j]`` of row ``rows[owner[j]]``.
  """
  rows = np.asarray(rows, np.int64).reshape(-1)
  starts = indptr[rows]
  lengths = indptr[rows + 1] - starts
  owner = np.repeat(np.arange(len(rows)), lengths)
  # Entry j of the result is at starts[owner[j]] + its rank within its row.
  first = np.cumsum(lengths) - lengths
  positions = starts[owner] + (np.arange(len(owner)) - first[owner])
  return owner, ids[positions]


def _entries(csr: Csr, rows, expand: Optional[Csr]) -> Tuple[np.ndarray, np.ndarray]:
  owner, labels = csr_select(csr[0], csr[1], rows)
  if expand is not None:
    sub, labels = csr_select(expand[0], expand[1], labels)
    owner = owner[sub]
  return owner, labels


def multi_hot(csr: Csr, rows, num_classes: int, expand: Optional[Csr] = None,
              zeros: Callable[..., np.ndarray] = aligned_zeros) -> np.ndarray:
  """float32 [len(rows), num_classes] multi-hot of the given rows.

  Args:
    csr: (indptr, ids) of the split.
    rows: int [M] row indices.
    num_classes: C.
    expand: optional per-class (indptr, ids): each label id c sets the ids of
      row c of ``expand`` instead (e.g. c and its hypernyms).
    zeros: makes the zero-filled result from (shape, dtype), e.g. a
      ``BufferPool.zeros``.

  Returns:
    A 64-byte-aligned array (svlr_tf/data/aligned.py), 1.0 at the labels.
  """
  rows = np.asarray(rows, np.int64).reshape(-1)
  owner, labels = _entries(csr, rows, expand)
  out = zeros((len(rows), num_classes), np.float32)
  out[owner, labels] = 1.0
  return out


def dense(csr: Csr, num_classes: int, expand: Optional[Csr] = None) -> np.ndarray:
  """bool [n, num_classes] of every row: O(n * num_classes) time and memory."""
  n = len(csr[0]) - 1
  owner, labels = _entries(csr, np.arange(n), expand)
  out = np.zeros((n, num_classes), bool)
  out[owner, labels] = True
  return out
