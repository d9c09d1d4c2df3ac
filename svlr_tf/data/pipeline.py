"""tf.data pipelines: recognition, VQA and mixed-task batches (docs/architecture.md, "Batches").

Order, as in big_vision: shuffle indices, repeat, batch the indices
(``drop_remainder=True``: static shapes), one parallel map that gathers the
whole batch from the memory-mapped feature store and the split's arrays, and a
single ``prefetch`` at the very end.  Only indices flow through the shuffle, so
it is a full per-epoch permutation (``stateless_shuffle`` seeded by
(seed, epoch, task)); no shuffle buffer is needed.

Features stay float16 on the host (the model casts on the device): a paper-scale
VQA batch is 50 x 100 x 2048 float16 = 20 MB.  The gathers read straight into
64-byte-aligned arrays that TF adopts without a copy, taken from a
``BufferPool`` per dataset, so a batch's memory is reused once TF has let go of
it instead of being allocated (and page-faulted in) anew.  Batch sizes are
global; the trainer splits them with ``strategy.experimental_distribute_dataset``,
except under MultiWorkerMirroredStrategy, where each worker reads only its own
part (a :class:`Shard`): every worker draws the same seeded global index
batches, keeps the slice of its replicas and gathers only those rows, so the
replicas of all workers together see exactly the global batch of a one-device
run.
"""

from __future__ import annotations

import weakref
from typing import Dict, Mapping, Optional

import numpy as np
import tensorflow as tf

from svlr_tf.config import DataConfig, ExperimentConfig
from svlr_tf.data.aligned import BufferPool
from svlr_tf.data.check import store_problems
from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.data.indices import Shard, options, ordered_indices, shuffled_indices  # noqa: F401 (Shard: public here too)
from svlr_tf.data.prepared import PreparedData, RecognitionSplit, VQASplit, VQA_TEXT_KEYS
from svlr_tf.runtime.errors import DataError, note_pipeline_error

_RECOGNITION_TASK, _VQA_TASK = 0, 1


def _numpy_batches(gather, spec: Dict[str, tuple]):
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


def _batches(n: int, batch_size: int, to_batch, training: bool, seed: int, task: int,
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


# -- recognition -------------------------------------------------------------------


def _check_store(data: PreparedData, kind: str, store: FeatureStore) -> None:
  """The store against meta.json (svlr_tf/data/check.py): the sizes of a batch
  come from the data, so a disagreement is found before any step."""
  problems = store_problems(data, kind, store)
  if problems:
    raise problems[0]


def _check_recognition(split: RecognitionSplit, store: FeatureStore, data: PreparedData,
                       name: str) -> None:
  path = data.path("recognition", f"{name}.jsonl")
  _check_store(data, "genome", store)
  if len(split) == 0:
    raise DataError(path, "split is empty")
  present = store.has_images(split.image_ids)
  if not np.all(present):
    missing = split.image_ids[~present]
    raise DataError(path, f"{len(missing)} regions refer to images not in the feature "
                    f"store {store.path} (e.g. image {int(missing[0])})")
  counts = store.counts(split.image_ids)
  bad = split.rows >= counts
  if np.any(bad):
    j = int(np.nonzero(bad)[0][0])
    raise DataError(path, f"region {int(split.rows[j])} of image "
                    f"{int(split.image_ids[j])} is beyond its {int(counts[j])} rows in "
                    f"the feature store {store.path}")


def _recognition_batches(data: PreparedData, store: FeatureStore, split: str,
                         data_config: DataConfig, training: bool, seed: int,
                         batch_size: Optional[int],
                         num_batches: Optional[int] = None,
                         shard: Optional[Shard] = None) -> tf.data.Dataset:
  rec = data.load_recognition(split)
  _check_recognition(rec, store, data, split)
  global_m = batch_size or data_config.recognition_batch_size
  m = shard.replica_batch_size(global_m) if shard else global_m
  num_o, num_t, dim = rec.num_objects, rec.num_attributes, store.dim
  pool = BufferPool()  # a batch's memory is reused once TF has let go of it

  def gather(indices):
    features = store.gather_rows(rec.image_ids[indices], rec.rows[indices],
                                 out=pool.empty((len(indices), dim), np.float16))
    targets = rec.batch(indices, zeros=pool.zeros)
    return (features, targets["object_targets"], targets["object_labels"],
            targets["attribute_targets"])

  to_batch = _numpy_batches(gather, {
      "region_features": (tf.float16, [m, dim]),
      "object_targets": (tf.float32, [m, num_o]),
      "object_labels": (tf.float32, [m, num_o]),
      "attribute_targets": (tf.float32, [m, num_t])})

  return _batches(len(rec), global_m, to_batch, training, seed, _RECOGNITION_TASK,
                  num_batches, shard)


def recognition_dataset(data: PreparedData, store: FeatureStore, split: str,
                        data_config: DataConfig, *, training: bool, seed: int = 0,
                        batch_size: Optional[int] = None) -> tf.data.Dataset:
  """Batches of Genome regions for Eq. 1-2.

  Args:
    data: the prepared directory.
    store: the "genome" feature store.
    split: "train", "val" or "test".
    data_config: M = ``recognition_batch_size`` unless ``batch_size`` is given.
    training: True: infinite, shuffled (seeded) batches; False: one in-order
      pass with the last batch padded and a ``"valid"`` [M] bool.
    seed: shuffling seed.

  Returns:
    Dataset of {"region_features": [M, D] float16, "object_targets": [M, O],
    "object_labels": [M, O], "attribute_targets": [M, T] float32 (+ "valid")}.
  """
  return _recognition_batches(data, store, split, data_config, training, seed,
                              batch_size).prefetch(tf.data.AUTOTUNE)


# -- VQA ---------------------------------------------------------------------------------


def _check_vqa(split: VQASplit, store: FeatureStore, data: PreparedData,
               name: str) -> None:
  path = data.path("vqa", f"{name}.jsonl")
  _check_store(data, "vqa", store)
  if len(split) == 0:
    raise DataError(path, "split is empty")
  present = store.has_images(split.image_ids)
  if not np.all(present):
    missing = split.image_ids[~present]
    raise DataError(path, f"{len(missing)} questions refer to images not in the "
                    f"feature store {store.path} (e.g. image {int(missing[0])})")


def vqa_text_spec(p: int, k: int, nb: int, lq: int, c: int,
                  la: int) -> Dict[str, tuple]:
  """(dtype, static shape) of a batch of ``p`` questions' "region_mask" and
  ``VQA_TEXT_KEYS`` arrays, in that order (what follows the features, or the
  resident input's image slots, in a VQA gather's output)."""
  spec = {"region_mask": (tf.bool, [p, k]),
          "question_bins": (tf.int32, [p, nb, lq]),
          "question_nouns": (tf.int32, [p, lq]),
          "question_adjectives": (tf.int32, [p, lq]),
          "choice_words": (tf.int32, [p, c, la]), "choice_nouns": (tf.int32, [p, c, la]),
          "choice_adjectives": (tf.int32, [p, c, la]), "label": (tf.int32, [p]),
          "question_id": (tf.int64, [p]), "question_type": (tf.int32, [p])}
  return {key: spec[key] for key in ("region_mask",) + VQA_TEXT_KEYS}


def _vqa_batches(data: PreparedData, store: FeatureStore, split: str,
                 data_config: DataConfig, training: bool, seed: int,
                 batch_size: Optional[int],
                 num_batches: Optional[int] = None,
                 shard: Optional[Shard] = None) -> tf.data.Dataset:
  c, lq, la = (data_config.num_choices, data_config.max_question_words,
               data_config.max_answer_words)
  vqa = data.load_vqa(split, lq, la, c)
  _check_vqa(vqa, store, data, split)
  global_p, k, dim = (batch_size or data_config.vqa_batch_size, store.image_rows,
                      store.dim)
  p = shard.replica_batch_size(global_p) if shard else global_p
  nb = vqa.question_bins.shape[1]
  spec = {"image_features": (tf.float16, [p, k, dim]),
          **vqa_text_spec(p, k, nb, lq, c, la)}

  pool = BufferPool()  # a batch's memory is reused once TF has let go of it

  def gather(indices):
    features, mask = store.gather_images(
        vqa.image_ids[indices], out=pool.empty((len(indices), k, dim), np.float16))
    text = vqa.batch(indices)
    return (features, mask) + tuple(text[key] for key in VQA_TEXT_KEYS)

  to_batch = _numpy_batches(gather, spec)

  return _batches(len(vqa), global_p, to_batch, training, seed, _VQA_TASK, num_batches,
                  shard)


def vqa_dataset(data: PreparedData, store: FeatureStore, split: str,
                data_config: DataConfig, *, training: bool, seed: int = 0,
                batch_size: Optional[int] = None) -> tf.data.Dataset:
  """Batches of VQA questions for Eq. 3-8 (the "vqa" batch of docs/architecture.md).

  Args:
    data: the prepared directory.
    store: the "vqa" feature store; K is its rows per image (checked against
      meta.json).
    split: "train", "heldout" or "test".
    data_config: P, C, Lq, La.
    training: True: infinite, shuffled (seeded) batches; False: one in-order
      pass with the last batch padded and a ``"valid"`` [P] bool.
    seed: shuffling seed.

  Returns:
    Dataset of {"image_features": [P, K, D] float16, "region_mask": [P, K] bool,
    "question_bins": [P, 4, Lq], "question_nouns" / "question_adjectives":
    [P, Lq], "choice_words" / "choice_nouns" / "choice_adjectives": [P, C, La],
    "label": [P], "question_type": [P] int32, "question_id": [P] int64
    (+ "valid")}.
  """
  return _vqa_batches(data, store, split, data_config, training, seed,
                      batch_size).prefetch(tf.data.AUTOTUNE)


def vqa_eval_dataset(data: PreparedData, store: FeatureStore, split: str,
                     data_config: DataConfig,
                     batch_size: Optional[int] = None) -> tf.data.Dataset:
  """One in-order pass over a VQA split; last batch padded, with "valid" [P]."""
  return vqa_dataset(data, store, split, data_config, training=False,
                     batch_size=batch_size)


def recognition_eval_dataset(data: PreparedData, store: FeatureStore, split: str,
                             data_config: DataConfig,
                             batch_size: Optional[int] = None) -> tf.data.Dataset:
  """One in-order pass over a Genome split; last batch padded, with "valid" [M]."""
  return recognition_dataset(data, store, split, data_config, training=False,
                             batch_size=batch_size)


# -- both tasks --------------------------------------------------------------------------


def joint_dataset(data: PreparedData,
                  stores: Optional[Mapping[str, FeatureStore]],
                  experiment_config: ExperimentConfig,
                  seed: Optional[int] = None,
                  num_batches: Optional[int] = None,
                  shard: Optional[Shard] = None) -> tf.data.Dataset:
  """Training batches of every task the experiment uses (Eq. 10).

  Each element is {"recognition": <M regions of Genome train>, "vqa": <P
  questions of VQA train>}, holding only the tasks with a non-zero alpha
  (``uses_recognition`` / ``uses_vqa``): every step sees both tasks (a zip of
  the two infinite streams), as in the paper's joint training.

  Args:
    data: the prepared directory.
    stores: {"genome": FeatureStore, "vqa": FeatureStore}; None opens them from
      ``data``.
    experiment_config: batch sizes, regions and which tasks are used.
    seed: shuffling seed (default ``experiment_config.train.seed``).
    num_batches: stop after this many elements (default: infinite). The trainer
      reads one finite stream per checkpoint segment, so no gather is in flight
      when a stream is dropped.
    shard: read only this input pipeline's part of each global batch (one
      element per replica of the pipeline; ``num_batches`` counts global batches).
  """
  seed = experiment_config.train.seed if seed is None else seed
  stores = dict(stores or {})
  data_config = experiment_config.data
  tasks: Dict[str, tf.data.Dataset] = {}
  if experiment_config.uses_recognition:
    store = stores.get("genome") or data.feature_store("genome")
    tasks["recognition"] = _recognition_batches(data, store, "train", data_config,
                                                True, seed, None, num_batches, shard)
  if experiment_config.uses_vqa:
    store = stores.get("vqa") or data.feature_store("vqa")
    tasks["vqa"] = _vqa_batches(data, store, "train", data_config, True, seed, None,
                                num_batches, shard)
  if not tasks:
    raise ValueError(f"Experiment {experiment_config.name!r} uses no task "
                     "(all alphas are zero).")
  ds = tf.data.Dataset.zip(tasks).with_options(options())
  return ds.prefetch(tf.data.AUTOTUNE)
