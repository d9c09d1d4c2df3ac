"""Tests of the 64-byte-aligned batch arrays (svlr_tf/data/aligned.py)."""

import numpy as np
import pytest

from svlr_tf.data.aligned import ALIGNMENT, BufferPool, aligned_empty, aligned_zeros


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


def test_pool_reuses_a_buffer_only_when_nothing_refers_to_it():
  pool = BufferPool(max_per_size=2)
  a = pool.empty((4, 8), np.float32)
  b = pool.empty((4, 8), np.float32)
  assert is_aligned(a) and is_aligned(b) and not np.shares_memory(a, b)
  view = a[1:]  # a view of a handed-out array keeps its buffer busy too
  del a
  c = pool.empty((4, 8), np.float32)
  assert not np.shares_memory(c, view) and not np.shares_memory(c, b)
  assert len(pool) == 2  # the third one is not pooled (max_per_size)
  del view
  d = pool.empty((2, 16), np.float32)  # same size, another shape: the free buffer
  assert len(pool) == 2 and is_aligned(d) and d.shape == (2, 16)
  z = pool.zeros((4, 8), np.float32)  # (b and d busy: a new array, zero-filled)
  assert not z.any() and z.dtype == np.float32


def test_pool_arrays_adopted_by_tensorflow_are_not_overwritten():
  # tf.numpy_function wraps an aligned array without a copy: the tensor holds the
  # array, so its buffer is busy until the tensor is gone.
  import tensorflow as tf

  pool = BufferPool(max_per_size=64)

  def make(i):
    out = pool.empty((256, 64), np.float32)
    out.fill(float(i))
    return out

  ds = tf.data.Dataset.range(20).map(
      lambda i: tf.numpy_function(make, [i], tf.float32, stateful=False),
      num_parallel_calls=2, deterministic=True).prefetch(2)
  held = list(ds)
  for i, t in enumerate(held):
    assert np.all(t.numpy() == i)
  assert len(pool) == 20
  del held, t
  for i, t in enumerate(ds):  # dropped at once: a few buffers go round
    assert np.all(t.numpy() == i)
  assert len(pool) == 20
