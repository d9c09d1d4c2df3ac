"""Index streams of the input pipelines: which examples each batch holds.

Only indices flow through these streams; the feature gather comes after them
(``svlr_tf.data.pipeline`` for the host, ``svlr_tf.data.resident`` on the
device).  Training draws a seeded permutation per epoch; evaluation is one
in-order pass with the last batch padded; a :class:`Shard` is the slice of each
global batch that one worker of a multi-worker run reads.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf


def options() -> tf.data.Options:
  """Deterministic element order (the seeded streams depend on it)."""
  options = tf.data.Options()
  options.deterministic = True
  return options


def shuffled_indices(n: int, seed: int, task: int) -> tf.data.Dataset:
  """Infinite stream of indices: a fresh seeded permutation of [0, n) per epoch."""

  def epoch_permutation(epoch):
    stateless_seed = tf.stack([tf.constant(seed, tf.int64), epoch * 2 + task])
    return tf.data.Dataset.from_tensor_slices(
        tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64),
                                                 seed=stateless_seed))

  # Epochs 0, 1, 2, ... as a range, not Dataset.counter: counter is a scan whose
  # function TF adds to the global default graph, where it stays for the life of
  # the process (one per stream, i.e. per task, segment and run).
  epochs = tf.data.Dataset.range(np.iinfo(np.int64).max)
  return epochs.flat_map(epoch_permutation)


def ordered_indices(n: int, batch_size: int) -> tf.data.Dataset:
  """One in-order pass, the last batch padded: batches of (indices, valid)."""
  padded = -(-n // batch_size) * batch_size
  valid = np.arange(padded) < n
  indices = np.where(valid, np.arange(padded), 0).astype(np.int64)
  return tf.data.Dataset.from_tensor_slices((indices, valid)).batch(
      batch_size, drop_remainder=True)


@dataclasses.dataclass(frozen=True)
class Shard:
  """The part of every global training batch that one input pipeline reads.

  Attributes:
    index: this pipeline (``InputContext.input_pipeline_id``: the worker).
    count: pipelines in all (``num_input_pipelines``: the workers).
    replicas: replicas this pipeline feeds (the worker's devices).
  """

  index: int
  count: int
  replicas: int

  @classmethod
  def from_input_context(cls, context: tf.distribute.InputContext) -> "Shard":
    return cls(context.input_pipeline_id, context.num_input_pipelines,
               context.num_replicas_in_sync // context.num_input_pipelines)

  def replica_batch_size(self, global_batch_size: int) -> int:
    """Examples per replica; ValueError unless the replicas divide the batch."""
    total = self.count * self.replicas
    if global_batch_size % total:
      raise ValueError(f"the global batch size {global_batch_size} is not divisible "
                       f"by the {total} replicas of the cluster; choose a multiple")
    return global_batch_size // total

  def select(self, index_batches: tf.data.Dataset,
             global_batch_size: int) -> tf.data.Dataset:
    """Global index batches -> this pipeline's per-replica index batches.

    Replica ``r`` of pipeline ``i`` gets the ``(i * replicas + r)``-th contiguous
    slice of each global batch (the split of ``experimental_distribute_dataset``),
    one element per replica, in replica order.
    """
    per = self.replica_batch_size(global_batch_size)
    start, size = self.index * self.replicas * per, self.replicas * per
    return index_batches.map(
        lambda i: tf.reshape(i[start:start + size], [self.replicas, per])).unbatch()


def batch_size_problem(data_config, replicas: int) -> Optional[str]:
  """Why the global batch sizes of ``data_config`` (a ``DataConfig``) cannot be
  sharded over ``replicas`` (each worker of a multi-worker run reads its replicas'
  equal slices), or None."""
  for field in ("vqa_batch_size", "recognition_batch_size"):
    size = getattr(data_config, field)
    if size % replicas:
      return (f"data.{field}={size} is not divisible by the cluster's {replicas} "
              f"replicas: set --config.data.{field} to a multiple of {replicas}")
  return None
