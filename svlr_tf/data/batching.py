"""Batching shared by the host and the resident training input (and evaluation).

``numpy_batches``: indices -> a dict of static-shape tensors made by a NumPy
gather (``tf.numpy_function``; the gather lives exactly as long as the dataset).
``index_batches``: seeded shuffled (training) or in-order padded (evaluation)
index batches mapped through such a ``to_batch``. ``RECOGNITION_TASK`` /
``VQA_TASK``: the task numbers that seed the shuffles.
"""

from __future__ import annotations

import weakref
from typing import Dict, Optional

import tensorflow as tf

from svlr_tf.data.indices import Shard, options, ordered_indices, shuffled_indices
from svlr_tf.runtime.errors import note_pipeline_error

RECOGNITION_TASK, VQA_TASK = 0, 1  # the shuffle's task seeds


def numpy_batches(gather, spec: Dict[str, tuple]):
  """``to_batch``: indices -> dict of static-shape tensors made by a NumPy ``gather``.

  ``spec`` maps each key, in the order ``gather`` returns its arrays, to
  (dtype, static shape).

  Lifetime: in eager mode ``tf.numpy_function`` keeps the function it is given
  until the process ends (tied to the global default graph), and with it all
  that its closure holds: a run's loaded splits and open feature stores, about
  450 MB per training run of the default preset. So it gets only a weak
  reference to ``gather``; ``to_batch`` holds ``gather`` itself, and the dataset
  (held by each of its iterators) holds ``to_batch``, so ``gather`` lives exactly
  as long as the dataset.
  """
  keys = tuple(spec)
  gather_ref = weakref.ref(gather)

  def call_gather(indices):
    live = gather_ref()
    if live is None:
      raise RuntimeError("a tf.data iterator outlived the dataset that made it")
    try:
      return live(indices)
    except Exception as e:  # reaches the caller as a TF error: keep the original
      note_pipeline_error(e)
      raise

  def to_batch(indices):
    out = tf.numpy_function(call_gather, [indices], [spec[k][0] for k in keys],
                            stateful=False)
    for t, key in zip(out, keys):
      t.set_shape(spec[key][1])
    return dict(zip(keys, out))

  to_batch.gather = gather  # the strong reference (see above)
  return to_batch


def index_batches(n: int, batch_size: int, to_batch, training: bool, seed: int, task: int,
             num_batches: Optional[int], shard: Optional[Shard] = None
             ) -> tf.data.Dataset:
  """Index batches mapped to example batches by ``to_batch`` (the feature gather).

  Training: seeded shuffled batches, infinite unless ``num_batches`` is given; the
  limit is applied to the indices, before the gather, so a finite stream ends with
  no ``numpy_function`` call in flight (dropping an iterator while one runs can
  deadlock on the GIL).  With a ``shard`` only its slice of each global batch is
  gathered (``to_batch`` then makes per-replica batches).  Evaluation: one
  in-order pass, last batch padded, with ``valid``.
  """
  if training:
    ds = shuffled_indices(n, seed, task).batch(batch_size, drop_remainder=True)
    if num_batches is not None:
      ds = ds.take(num_batches)
    if shard is not None:
      ds = shard.select(ds, batch_size)
    ds = ds.map(to_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  else:
    ds = ordered_indices(n, batch_size).map(
        lambda i, v: dict(to_batch(i), valid=v), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True)
  return ds.with_options(options())
