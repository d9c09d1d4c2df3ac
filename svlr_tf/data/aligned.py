"""64-byte-aligned numpy arrays for batches handed to ``tf.numpy_function``.

TensorFlow wraps an array returned by ``numpy_function`` as a tensor without a
copy only if its data is aligned to 64 bytes (``EIGEN_MAX_ALIGN_BYTES``);
``np.empty`` gives 16, so every batch would be copied once more (a 20 MB VQA
batch: 108 -> 551 batches/s measured when aligned).  TF then uses the memory
directly, so an array handed to TF must not be written again while TF (a
prefetched batch, a step) may still read it.

:class:`BufferPool` reuses a batch's memory once nothing refers to it any
more, instead of allocating a new array per batch: a new 20 MB array costs the
kernel ~5000 page faults (each page zeroed) whenever the allocator has given the
previous one back to the system, which it does often when batches are freed on
other threads (measured: 36 ms per fresh 20 MB array, against 2-4 ms for the
gather itself).
"""

from __future__ import annotations

import sys
import threading
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

ALIGNMENT = 64
Shape = Union[int, Sequence[int]]


def _shape_bytes(shape: Shape, dtype) -> Tuple[Tuple[int, ...], np.dtype, int]:
  shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
  dtype = np.dtype(dtype)
  return shape, dtype, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


def _aligned_view(raw: np.ndarray, nbytes: int, shape, dtype) -> np.ndarray:
  start = (-raw.ctypes.data) % ALIGNMENT
  return raw[start:start + nbytes].view(dtype).reshape(shape)


def _aligned(shape: Shape, dtype, zero: bool) -> np.ndarray:
  shape, dtype, nbytes = _shape_bytes(shape, dtype)
  # np.zeros of the raw bytes: large blocks come from calloc (pages zeroed lazily).
  raw = (np.zeros if zero else np.empty)(nbytes + ALIGNMENT, np.uint8)
  return _aligned_view(raw, nbytes, shape, dtype)


def aligned_empty(shape: Shape, dtype) -> np.ndarray:
  """A new uninitialized C-contiguous array whose data is 64-byte aligned."""
  return _aligned(shape, dtype, zero=False)


def aligned_zeros(shape: Shape, dtype) -> np.ndarray:
  """A new zero-filled C-contiguous array whose data is 64-byte aligned."""
  return _aligned(shape, dtype, zero=True)


class BufferPool:
  """64-byte-aligned batch arrays whose memory is reused once nothing refers to it.

  The pool keeps raw buffers per size (at most ``max_per_size``; beyond that
  :meth:`empty` allocates a new array, as :func:`aligned_empty`).  A buffer is
  handed out again only when the pool's own reference is its only one: every
  array made from it (the view :meth:`empty` returns, any view of that view,
  and the tensor TF wraps around it without a copy, which holds the array until
  the tensor is freed) refers to the raw buffer, so memory a batch still uses
  is never written.  Thread-safe (gathers run on several tf.data threads).

  One pool per dataset (it holds its buffers for as long as it lives).
  """

  def __init__(self, max_per_size: int = 16):
    self._lock = threading.Lock()
    self._buffers: Dict[int, List[np.ndarray]] = {}
    self._max = int(max_per_size)
    # The reference count of a buffer that only the pool holds, measured the
    # way :meth:`_unused` measures it (the count is an interpreter detail).
    self._idle_count = self._count([np.empty(1, np.uint8)], 0)

  @staticmethod
  def _count(buffers: List[np.ndarray], i: int) -> int:
    return sys.getrefcount(buffers[i])

  def _unused(self, buffers: List[np.ndarray], i: int) -> bool:
    return self._count(buffers, i) == self._idle_count

  def empty(self, shape: Shape, dtype) -> np.ndarray:
    """An uninitialized C-contiguous aligned array (as :func:`aligned_empty`)."""
    shape, dtype, nbytes = _shape_bytes(shape, dtype)
    with self._lock:  # the view is made before the lock is released
      buffers = self._buffers.setdefault(nbytes, [])
      for i in range(len(buffers)):
        if self._unused(buffers, i):
          return _aligned_view(buffers[i], nbytes, shape, dtype)
      raw = np.empty(nbytes + ALIGNMENT, np.uint8)
      if len(buffers) < self._max:
        buffers.append(raw)
      return _aligned_view(raw, nbytes, shape, dtype)

  def zeros(self, shape: Shape, dtype) -> np.ndarray:
    """A zero-filled C-contiguous aligned array (as :func:`aligned_zeros`)."""
    out = self.empty(shape, dtype)
    out.fill(0)
    return out

  def __len__(self) -> int:
    """Raw buffers held (busy or not)."""
    with self._lock:
      return sum(len(b) for b in self._buffers.values())
