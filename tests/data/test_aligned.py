"""Tests of the 64-byte-aligned batch arrays (svlr_tf/data/aligned.py)."""

import numpy as np
import pytest

from svlr_tf.data.aligned import ALIGNMENT, aligned_empty, aligned_zeros


def is_aligned(array):
  return array.ctypes.data % ALIGNMENT == 0


@pytest.mark.parametrize("shape,dtype", [((50, 100, 2048), np.float16),
                                         ((200, 1000), np.float32), ((7,), bool),
                                         ((3, 5), np.int64), (9, np.int32),
                                         ((0, 4), np.float16)])
def test_aligned_shape_dtype_alignment(shape, dtype):
  for make in (aligned_empty, aligned_zeros):
    a = make(shape, dtype)
    expected = (shape,) if isinstance(shape, int) else shape
    assert a.shape == expected and a.dtype == np.dtype(dtype)
    assert a.flags.c_contiguous and a.flags.writeable
    if a.size:  # an empty array has no data to align
      assert a.ctypes.data % ALIGNMENT == 0 and is_aligned(a)


def test_aligned_zeros_are_zero():
  a = aligned_zeros((13, 17), np.float32)
  assert not a.any()


def test_each_call_is_a_fresh_buffer():
  # TF keeps using a returned batch's memory: buffers must never be shared.
  a, b = aligned_empty((4, 8), np.float32), aligned_empty((4, 8), np.float32)
  a[...] = 1.0
  b[...] = 2.0
  assert not np.shares_memory(a, b) and np.all(a == 1.0)


def test_is_aligned_detects_offsets():
  a = aligned_empty(64, np.uint8)
  assert is_aligned(a) and not is_aligned(a[1:])
