"""The input pipeline: ``SVLRTask.build_inputs`` (feature store -> tf.data ->
batches ready for the step) over a synthetic paper-format prepared directory,
and its roof, a plain NumPy gather of the same batches."""

from __future__ import annotations

import os
import time

import numpy as np

from svlr_tf.config import ExperimentConfig
from tools.benchmark.common import sig


def feature_bytes(config: ExperimentConfig) -> int:
  """Bytes of float16 region features in one training element."""
  d, dim = config.data, config.model.region_feature_dim
  total = 0
  if config.uses_vqa:
    total += d.vqa_batch_size * d.regions_per_image * dim * 2
  if config.uses_recognition:
    total += d.recognition_batch_size * dim * 2
  return total


def time_pipeline(data_dir: str, config: ExperimentConfig, batches: int,
                  warmup: int = 10) -> dict:
  """Batches/s of ``pipeline.joint_dataset`` (batches as CPU tensors).

  A finite stream read to its end, as the trainer reads one per checkpoint
  segment: dropping an iterator while a gather is in flight can deadlock on the
  GIL (TF waits for the gather, which waits for the GIL the dropping thread
  holds).
  """
  from svlr_tf.data.prepared import PreparedData
  from svlr_tf.training.task import SVLRTask
  data = PreparedData(data_dir)
  stores = {kind: data.feature_store(kind) for kind in ("vqa", "genome")}
  iterator = iter(SVLRTask(config).build_inputs(data, stores, seed=1,
                                                num_batches=warmup + batches))
  for _ in range(warmup):
    next(iterator)
  t0 = time.perf_counter()
  for _ in range(batches):
    next(iterator)
  seconds = time.perf_counter() - t0
  for _ in iterator:  # the end of the stream: nothing is in flight any more
    raise AssertionError("the stream is longer than asked")
  rate = batches / seconds
  return {"pipeline_batches_per_s": sig(rate),
          "pipeline_gb_per_s": sig(rate * feature_bytes(config) / 1e9),
          "batch_feature_mb": sig(feature_bytes(config) / 1e6)}


def time_numpy_gather(data_dir: str, config: ExperimentConfig, batches: int) -> dict:
  """The pipeline's roof: a plain NumPy gather of the same batches, one thread.

  Per batch: P random VQA images (K rows each) and M random Genome rows,
  copied from the memory-mapped float16 shards into reused buffers.
  """
  rng = np.random.default_rng(2)
  d, dim = config.data, config.model.region_feature_dim

  def shards(kind):
    path = os.path.join(data_dir, "features", kind)
    return [np.load(os.path.join(path, f), mmap_mode="r")
            for f in sorted(os.listdir(path)) if f.endswith(".npy")]

  k = d.regions_per_image
  vqa = [s.reshape(-1, k, dim) for s in shards("vqa")]
  genome = shards("genome")
  vqa_index = [(s, j) for s, a in enumerate(vqa) for j in range(len(a))]
  genome_index = [(s, j) for s, a in enumerate(genome) for j in range(len(a))]
  images = np.empty((d.vqa_batch_size, k, dim), np.float16)
  rows = np.empty((d.recognition_batch_size, dim), np.float16)

  def one_batch():
    for i, j in enumerate(rng.integers(0, len(vqa_index), d.vqa_batch_size)):
      s, slot = vqa_index[j]
      images[i] = vqa[s][slot]
    for i, j in enumerate(rng.integers(0, len(genome_index), d.recognition_batch_size)):
      s, row = genome_index[j]
      rows[i] = genome[s][row]

  for _ in range(5):
    one_batch()
  t0 = time.perf_counter()
  for _ in range(batches):
    one_batch()
  rate = batches / (time.perf_counter() - t0)
  return {"pipeline_roof_batches_per_s": sig(rate)}
