"""Training features resident in device memory (``train.input_mode`` "resident").

The region features the training splits use are loaded once into each replica
device's memory, one non-trainable variable per store:

* "vqa":    float16 [I, K, D], the I distinct images of VQA train, in store order;
* "genome": float16 [R, D], the R distinct (image, row) regions of Genome train.

Each step the host then ships only indices (``image_slots`` [P] int32 into the
VQA variable, ``region_rows`` [M] int32 into the Genome one), the Genome labels as
padded id lists (``*_ids`` [M, L] int32, -1 = none; the dense float32 multi-hot
targets would be 2.4 MB per paper-scale step) and the same text and mask arrays
as the host pipeline, from the same shuffled index stream
(``svlr_tf.data.batching.index_batches``): ~0.1 MB per paper-scale step instead
of ~24 MB.  :meth:`ResidentFeatures.device_batch`, inside the compiled step,
replaces the indices with the features (``tf.gather`` on the replica's own copy)
and the id lists with the multi-hot targets.  So a batch is the host pipeline's
batch, value for value.

The variables belong to a :class:`ResidentFeatures`, never to the model: no
checkpoint or export holds them (they would be ~40 GB on the paper's data).
They are freed with it (the trainer drops it when training ends); the input
datasets hold only the small host-side index tables.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np
import tensorflow as tf

from svlr_tf.config import ExperimentConfig
from svlr_tf.data import indices, sparse_labels
from svlr_tf.data.batching import RECOGNITION_TASK, VQA_TASK, index_batches, numpy_batches
from svlr_tf.data.check import check_recognition_split, check_vqa_split
from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.data.prepared import PreparedData, VQA_TEXT_KEYS
from svlr_tf.data.vqa_batch import vqa_text_spec

# Bytes of features read from a store per copy into the variables.
_CHUNK_BYTES = 256 << 20


# The Genome targets (keys of the host pipeline's "recognition" batch): their
# CSR labels, hypernym-expanded or not, and their classes.
LABEL_KEYS = {"object_targets": ("object", True), "object_labels": ("object", False),
              "attribute_targets": ("attribute", False)}


def _label_csr(rec, key):
  """((indptr, ids), expansion or None, class kind) of target ``key``
  (``RecognitionSplit.batch``'s multi-hot arrays, label for label)."""
  kind, expanded = LABEL_KEYS[key]
  csr = ((rec.object_indptr, rec.object_ids) if kind == "object"
         else (rec.attribute_indptr, rec.attribute_ids))
  return csr, ((rec.hypernym_indptr, rec.hypernym_ids) if expanded else None), kind


def _label_counts(rec, key) -> np.ndarray:
  """int64 [n]: label ids of each region in target ``key`` (with repeats)."""
  (indptr, ids), expand, _ = _label_csr(rec, key)
  per_label = np.ones(len(ids), np.int64) if expand is None else np.diff(expand[0])[ids]
  owner = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
  return np.bincount(owner, weights=per_label, minlength=len(indptr) - 1).astype(np.int64)


def padded_label_ids(rec, key: str, rows: np.ndarray, width: int) -> np.ndarray:
  """int32 [len(rows), width]: the label ids of target ``key`` of each region
  (the ones of ``RecognitionSplit.batch``'s multi-hot row), -1 after them."""
  csr, expand, _ = _label_csr(rec, key)
  owner, labels = sparse_labels.csr_select(csr[0], csr[1], rows)
  if expand is not None:
    sub, labels = sparse_labels.csr_select(expand[0], expand[1], labels)
    owner = owner[sub]
  out = np.full((len(rows), width), -1, np.int32)
  # owner is sorted: an entry's place in its row is its distance to the row's first.
  out[owner, np.arange(len(owner)) - np.searchsorted(owner, owner)] = labels
  return out


def _multi_hot(ids: tf.Tensor, depth: int) -> tf.Tensor:
  """float32 [m, depth]: 1.0 at the ids >= 0 of each row of ``ids`` [m, L]."""
  shape = tf.shape(ids)
  rows = tf.broadcast_to(tf.range(shape[0])[:, None], shape)
  indices = tf.stack([rows, tf.maximum(ids, 0)], axis=-1)
  return tf.tensor_scatter_nd_max(tf.zeros([shape[0], depth], tf.float32), indices,
                                  tf.cast(ids >= 0, tf.float32))


class ResidentIndex:
  """Host side: which store rows the training splits use, and each example's
  index into the resident arrays.  Small (a few bytes per example).

  Attributes (for the tasks the experiment trains):
    vqa_image_ids: int64 [I], the distinct images of VQA train (store order).
    vqa_slot: int32 [n_questions], the slot of each question's image.
    vqa_count: int32 [n_questions], the valid regions of each question's image.
    genome_image_ids, genome_rows: int64 [R], the distinct regions of Genome train.
    genome_row: int32 [n_regions], each record's row in the resident array.
  """

  def __init__(self, data: PreparedData, stores: Mapping[str, FeatureStore],
               config: ExperimentConfig):
    d = config.data
    self.feature_dim = int(data.feature_dim)
    self.regions_per_image = int(data.regions_per_image)  # meta.json (= the store's K)
    self.stores = {}
    if config.uses_vqa:
      store = stores["vqa"]
      vqa = data.load_vqa("train", d.max_question_words, d.max_answer_words,
                          d.num_choices)
      check_vqa_split(vqa, store, data, "train")
      positions = store.positions(vqa.image_ids)
      unique, slot = np.unique(positions, return_inverse=True)
      self.vqa_image_ids = store.image_ids[unique]
      self.vqa_slot = slot.astype(np.int32).reshape(-1)
      self.vqa_count = store.counts(vqa.image_ids).astype(np.int32)
      self.stores["vqa"] = store
    if config.uses_recognition:
      store = stores["genome"]
      rec = data.load_recognition("train")
      check_recognition_split(rec, store, data, "train")
      width = int(rec.rows.max()) + 1
      keys = store.positions(rec.image_ids) * width + rec.rows.astype(np.int64)
      unique, row = np.unique(keys, return_inverse=True)
      self.genome_image_ids = store.image_ids[unique // width]
      self.genome_rows = unique % width
      self.genome_row = row.astype(np.int32).reshape(-1)
      self.stores["genome"] = store
      self.num_classes = {"object": rec.num_objects, "attribute": rec.num_attributes}
      self.label_width = {key: max(1, int(np.max(_label_counts(rec, key), initial=0)))
                          for key in LABEL_KEYS}

  def shapes(self) -> Dict[str, tuple]:
    """{store: shape of its resident array}."""
    out = {}
    if "vqa" in self.stores:
      out["vqa"] = (len(self.vqa_image_ids), self.regions_per_image, self.feature_dim)
    if "genome" in self.stores:
      out["genome"] = (len(self.genome_image_ids), self.feature_dim)
    return out

  @property
  def num_classes_or_none(self) -> Optional[Dict[str, int]]:
    """{"object": O, "attribute": T} when Genome is resident, else None."""
    return getattr(self, "num_classes", None)

  @property
  def nbytes(self) -> int:
    """Bytes of one copy of the resident arrays (float16)."""
    return sum(2 * int(np.prod(shape)) for shape in self.shapes().values())

  def chunks(self, kind: str):
    """(start, float16 features) pieces of the resident array of ``kind``, read
    from the store with its own gathers (the host pipeline's values)."""
    store = self.stores[kind]
    if kind == "vqa":
      ids = self.vqa_image_ids
      step = max(1, _CHUNK_BYTES // (2 * self.regions_per_image * self.feature_dim))
      for a in range(0, len(ids), step):
        yield a, store.gather_images(ids[a:a + step])[0]
    else:
      ids, rows = self.genome_image_ids, self.genome_rows
      step = max(1, _CHUNK_BYTES // (2 * self.feature_dim))
      for a in range(0, len(ids), step):
        yield a, store.gather_rows(ids[a:a + step], rows[a:a + step])


class ResidentFeatures:
  """The resident arrays, one copy per replica device (variables created under
  ``strategy.scope()``), and their host-side :class:`ResidentIndex`.

  Args:
    index: what to load.
    strategy: the training strategy (default: the current one).
  """

  def __init__(self, index: ResidentIndex,
               strategy: Optional[tf.distribute.Strategy] = None):
    strategy = strategy or tf.distribute.get_strategy()
    self.index = index
    self.variables: Dict[str, tf.Variable] = {}
    for kind, shape in index.shapes().items():
      with strategy.scope():
        variable = tf.Variable(lambda s=shape: tf.zeros(s, tf.float16), trainable=False,
                               name=f"resident_{kind}_features",
                               synchronization=tf.VariableSynchronization.ON_WRITE,
                               aggregation=tf.VariableAggregation.NONE)
      copies = strategy.experimental_local_results(variable)
      for start, features in index.chunks(kind):
        for copy in copies:  # each replica's copy on its own device
          copy[start:start + len(features)].assign(features)
      self.variables[kind] = variable

  @property
  def nbytes(self) -> int:
    return self.index.nbytes

  def device_batch(self, batch: Mapping[str, Mapping[str, tf.Tensor]]
                   ) -> Dict[str, dict]:
    """:func:`device_batch` with these variables."""
    return device_batch(batch, self.variables, self.index.num_classes_or_none)


def device_batch(batch: Mapping[str, Mapping[str, tf.Tensor]],
                 variables: Mapping[str, tf.Variable],
                 num_classes: Optional[Mapping[str, int]]) -> Dict[str, dict]:
  """The host pipeline's batch from a resident batch, on the device.

  "vqa": ``image_slots`` [P] -> ``image_features`` [P, K, D] float16;
  "recognition": ``region_rows`` [M] -> ``region_features`` [M, D] float16
  (``tf.gather`` of this replica's copy: only the batch's rows are read) and
  each ``<target>_ids`` [M, L] -> ``<target>`` [M, C] float32 multi-hot
  (C = ``num_classes["object" or "attribute"]``).
  """
  out = {}
  for task, part in batch.items():
    part = dict(part)
    if "image_slots" in part:
      part["image_features"] = tf.gather(variables["vqa"], part.pop("image_slots"))
    if "region_rows" in part:
      part["region_features"] = tf.gather(variables["genome"], part.pop("region_rows"))
      for key, (kind, _) in LABEL_KEYS.items():
        part[key] = _multi_hot(part.pop(f"{key}_ids"), num_classes[kind])
    out[task] = part
  return out


# -- the index datasets ------------------------------------------------------------


def _recognition_batches(data: PreparedData, index: ResidentIndex,
                         config: ExperimentConfig, seed: int,
                         num_batches: Optional[int]) -> tf.data.Dataset:
  rec = data.load_recognition("train")
  m = config.data.recognition_batch_size
  row_of, width = index.genome_row, index.label_width

  def gather(indices):
    return (row_of[indices],) + tuple(padded_label_ids(rec, key, indices, width[key])
                                      for key in LABEL_KEYS)

  spec = {"region_rows": (tf.int32, [m])}
  spec.update({f"{key}_ids": (tf.int32, [m, width[key]]) for key in LABEL_KEYS})
  to_batch = numpy_batches(gather, spec)
  return index_batches(len(rec), m, to_batch, True, seed, RECOGNITION_TASK,
                       num_batches)


def _vqa_batches(data: PreparedData, index: ResidentIndex, config: ExperimentConfig,
                 seed: int, num_batches: Optional[int]) -> tf.data.Dataset:
  d = config.data
  vqa = data.load_vqa("train", d.max_question_words, d.max_answer_words, d.num_choices)
  p, k, c = d.vqa_batch_size, index.regions_per_image, d.num_choices
  lq, la, nb = d.max_question_words, d.max_answer_words, vqa.question_bins.shape[1]
  slot_of, count_of = index.vqa_slot, index.vqa_count
  spec = {"image_slots": (tf.int32, [p]), **vqa_text_spec(p, k, nb, lq, c, la)}

  def gather(indices):
    text = vqa.batch(indices)
    mask = np.arange(k)[None, :] < count_of[indices][:, None]
    return (slot_of[indices], mask) + tuple(text[key] for key in VQA_TEXT_KEYS)

  to_batch = numpy_batches(gather, spec)
  return index_batches(len(vqa), p, to_batch, True, seed, VQA_TASK, num_batches)


def joint_index_dataset(data: PreparedData, index: ResidentIndex,
                        config: ExperimentConfig, seed: Optional[int] = None,
                        num_batches: Optional[int] = None) -> tf.data.Dataset:
  """``pipeline.joint_dataset``'s batches with indices in place of the features
  ("vqa": ``image_slots`` [P] for ``image_features``; "recognition":
  ``region_rows`` [M] for ``region_features``, ``<target>_ids`` [M, L] for the
  multi-hot targets); :meth:`ResidentFeatures.device_batch` restores them on the
  device."""
  seed = config.train.seed if seed is None else seed
  tasks = {}
  if config.uses_recognition:
    tasks["recognition"] = _recognition_batches(data, index, config, seed, num_batches)
  if config.uses_vqa:
    tasks["vqa"] = _vqa_batches(data, index, config, seed, num_batches)
  if not tasks:
    raise ValueError(f"Experiment {config.name!r} uses no task (all alphas are zero).")
  ds = tf.data.Dataset.zip(tasks).with_options(indices.options())
  return ds.prefetch(tf.data.AUTOTUNE)
