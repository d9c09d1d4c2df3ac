"""Tests of the tf.data pipelines: shapes, dtypes, values, mixing, determinism."""

import hashlib
import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

from svlr_tf.config import DataConfig, experiment_config
from svlr_tf.data import pipeline
from svlr_tf.data.prepared import PreparedData, PreparedWriter
from svlr_tf.runtime.errors import DataError

sys.path.insert(0, os.path.dirname(__file__))
from test_prepared import make_prepared, vqa_records  # noqa: E402  (tiny fixture builder)

M, P, K, D, LQ, LA, C = 5, 4, 4, 8, 3, 2, 18
DATA_CONFIG = DataConfig(recognition_batch_size=M, vqa_batch_size=P, regions_per_image=K,
                         num_choices=C, max_question_words=LQ, max_answer_words=LA)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("pipeline") / "prepared")
  records = make_prepared(root, num_images=8, dim=D, k=K, questions_per_image=3)
  data = PreparedData(root)
  return data, records


def _experiment(name):
  return experiment_config(name).replace(data=DATA_CONFIG.__dict__, train={"seed": 3})


def _numpy(batch):
  return tf.nest.map_structure(lambda t: t.numpy(), batch)


def _take(ds, n):
  return [_numpy(b) for b in ds.take(n)]


def test_recognition_batches(prepared):
  data, records = prepared
  store = data.feature_store("genome")
  ds = pipeline.recognition_dataset(data, store, "train", DATA_CONFIG, training=True,
                                    seed=0)
  spec = ds.element_spec
  assert spec["region_features"].shape == (M, D)
  assert spec["region_features"].dtype == tf.float16
  assert spec["object_targets"].shape == (M, 4) and spec["object_labels"].shape == (M, 4)
  assert spec["attribute_targets"].shape == (M, 3)
  assert spec["object_targets"].dtype == tf.float32
  # Every row is a real region, with its own targets.
  split = data.load_recognition("train")
  by_row = {}
  for i, (image_id, row) in enumerate(zip(split.image_ids, split.rows)):
    f = records["genome_features"][int(image_id)][row].astype(np.float16)
    by_row[f.tobytes()] = i
  for batch in _take(ds, 6):  # more than one epoch of 6 images' regions
    for j in range(M):
      i = by_row[batch["region_features"][j].tobytes()]
      np.testing.assert_array_equal(batch["object_targets"][j], split.object_targets[i])
      np.testing.assert_array_equal(batch["object_labels"][j], split.object_labels[i])
      np.testing.assert_array_equal(batch["attribute_targets"][j],
                                    split.attribute_targets[i])


def test_vqa_batches(prepared):
  data, records = prepared
  store = data.feature_store("vqa")
  ds = pipeline.vqa_dataset(data, store, "train", DATA_CONFIG, training=True, seed=0)
  expected_shapes = {
      "image_features": ((P, K, D), tf.float16), "region_mask": ((P, K), tf.bool),
      "question_bins": ((P, 4, LQ), tf.int32), "question_nouns": ((P, LQ), tf.int32),
      "question_adjectives": ((P, LQ), tf.int32), "choice_words": ((P, C, LA), tf.int32),
      "choice_nouns": ((P, C, LA), tf.int32), "choice_adjectives": ((P, C, LA), tf.int32),
      "label": ((P,), tf.int32), "question_id": ((P,), tf.int64),
      "question_type": ((P,), tf.int32)}
  spec = ds.element_spec
  assert set(spec) == set(expected_shapes)
  for key, (shape, dtype) in expected_shapes.items():
    assert spec[key].shape == shape and spec[key].dtype == dtype, key
  split = data.load_vqa("train", LQ, LA, C)
  row_of = {int(q): i for i, q in enumerate(split.question_ids)}
  by_id = {r["question_id"]: r for r in records["vqa"]["train"]}
  for batch in _take(ds, 3):
    for j, qid in enumerate(batch["question_id"]):
      rec, i = by_id[int(qid)], row_of[int(qid)]
      f = records["vqa_features"][rec["image_id"]]
      n = len(f)
      assert batch["region_mask"][j].tolist() == [True] * n + [False] * (K - n)
      np.testing.assert_array_equal(batch["image_features"][j, :n], f.astype(np.float16))
      assert not batch["image_features"][j, n:].any()
      assert batch["label"][j] == rec["label"]
      np.testing.assert_array_equal(batch["question_bins"][j], split.question_bins[i])
      np.testing.assert_array_equal(batch["choice_words"][j], split.choice_words[i])
      assert split.question_type_names[batch["question_type"][j]] == rec["question_type"]


def test_training_epochs_are_permutations(prepared):
  data, _ = prepared
  n = len(data.load_vqa("train", LQ, LA, C))  # 18 questions: 4.5 batches per epoch
  ds = pipeline.vqa_dataset(data, data.feature_store("vqa"), "train", DATA_CONFIG,
                            training=True, seed=1)
  ids = np.concatenate([b["question_id"] for b in _take(ds, 9)])  # 2 epochs
  assert len(set(ids[:n].tolist())) == n and len(set(ids[n:2 * n].tolist())) == n
  assert ids[:n].tolist() != ids[n:2 * n].tolist()  # reshuffled each epoch


def test_eval_is_one_ordered_padded_pass(prepared):
  data, records = prepared
  expected = [r["question_id"] for r in records["vqa"]["train"]]
  batches = _take(pipeline.vqa_eval_dataset(data, data.feature_store("vqa"), "train",
                                            DATA_CONFIG), 100)
  assert len(batches) == -(-len(expected) // P)
  valid = np.concatenate([b["valid"] for b in batches])
  ids = np.concatenate([b["question_id"] for b in batches])
  assert valid.dtype == bool and valid.sum() == len(expected) and not valid[-1]
  assert ids[valid].tolist() == expected
  assert all(b["image_features"].shape == (P, K, D) for b in batches)
  rec = _take(pipeline.recognition_eval_dataset(data, data.feature_store("genome"),
                                                "val", DATA_CONFIG), 100)
  assert sum(b["valid"].sum() for b in rec) == len(records["recognition"]["val"])
  assert all(b["region_features"].shape == (M, D) for b in rec)


def test_joint_batches_mix_both_tasks(prepared):
  data, _ = prepared
  stores = {"genome": data.feature_store("genome"), "vqa": data.feature_store("vqa")}
  for batch in _take(pipeline.joint_dataset(data, stores, _experiment("joint_svlr")), 4):
    assert set(batch) == {"recognition", "vqa"}
    assert batch["recognition"]["region_features"].shape == (M, D)
    assert batch["vqa"]["image_features"].shape == (P, K, D)
    assert batch["vqa"]["label"].shape == (P,)
  vqa_only = pipeline.joint_dataset(data, stores, _experiment("vqa_only"))
  assert set(vqa_only.element_spec) == {"vqa"}
  genome_only = pipeline.joint_dataset(data, None, _experiment("genome_only"))
  assert set(genome_only.element_spec) == {"recognition"}
  assert set(_take(genome_only, 1)[0]) == {"recognition"}


def test_same_seed_same_batches(prepared):
  data, _ = prepared
  cfg = _experiment("joint_svlr")

  def run(seed):
    return _take(pipeline.joint_dataset(data, None, cfg, seed=seed), 5)

  first, again, other = run(7), run(7), run(8)
  for a, b in zip(first, again):
    tf.nest.map_structure(np.testing.assert_array_equal, a, b)
  ids = lambda batches: [b["vqa"]["question_id"].tolist() for b in batches]
  feats = lambda batches: np.stack([b["recognition"]["region_features"] for b in batches])
  assert ids(first) != ids(other)
  assert not np.array_equal(feats(first), feats(other))


def _digest(batches):
  """sha256 over every array of every batch, in order (key, dtype, shape, bytes)."""
  digest = hashlib.sha256()
  for batch in batches:
    flat = {"/".join(path): a for path, a in _flat(batch)}
    for key in sorted(flat):
      a = np.asarray(flat[key])
      digest.update(f"{key} {a.dtype} {a.shape}".encode())
      digest.update(np.ascontiguousarray(a).tobytes())
  return digest.hexdigest()


def _flat(tree, path=()):
  if isinstance(tree, dict):
    for key, value in tree.items():
      yield from _flat(value, path + (key,))
  else:
    yield path, tree.numpy() if hasattr(tree, "numpy") else tree


# Recorded with the pipeline as it was before its buffers were pooled
# (main at f65b57b): the joint stream (9 steps: past the end of a VQA epoch)
# and the padded evaluation passes.  Any change to the order or the values of a
# batch changes them.
JOINT_DIGEST = "da4dbbd67153ece1762dc14e660bd23c88c8553525c393107f11de782d18657c"
EVAL_DIGEST = "5b599cca922fc243eebd37757bfb99f3e3f14c30833248cde821e27b0b634a4a"


def test_joint_stream_and_eval_passes_are_unchanged(prepared):
  data, _ = prepared
  config = _experiment("joint_svlr")
  # Held all at once: a batch still referenced is never overwritten by a later one.
  held = [_numpy(b) for b in list(pipeline.joint_dataset(data, None, config, seed=5,
                                                         num_batches=9))]
  assert _digest(held) == JOINT_DIGEST
  # Consumed one by one (buffers free again as soon as a batch is dropped).
  assert _digest(pipeline.joint_dataset(data, None, config, seed=5,
                                        num_batches=9)) == JOINT_DIGEST
  store_v, store_g = data.feature_store("vqa"), data.feature_store("genome")
  passes = [pipeline.vqa_eval_dataset(data, store_v, split, DATA_CONFIG)
            for split in ("train", "heldout")]
  passes += [pipeline.recognition_eval_dataset(data, store_g, split, DATA_CONFIG)
             for split in ("train", "val")]
  assert _digest(b for ds in passes for b in ds) == EVAL_DIGEST


def test_store_mismatch_and_missing_images(tmp_path, prepared):
  data, _ = prepared
  # K comes from the data: the config's regions_per_image is not read.
  ds = pipeline.vqa_dataset(data, data.feature_store("vqa"), "train",
                            DataConfig(regions_per_image=5), training=True, seed=0)
  assert ds.element_spec["image_features"].shape == (DataConfig().vqa_batch_size, K, D)
  # A store whose rows per image disagree with meta.json: one line naming meta.json.
  root = str(tmp_path / "k")
  make_prepared(root, k=K)
  meta_path = os.path.join(root, "meta.json")
  with open(meta_path) as f:
    meta = json.load(f)
  meta["regions_per_image"] = K + 1
  with open(meta_path, "w") as f:
    json.dump(meta, f)
  mismatched = PreparedData(root)
  with pytest.raises(DataError) as err:
    pipeline.vqa_dataset(mismatched, mismatched.feature_store("vqa"), "train",
                         DATA_CONFIG, training=True, seed=0)
  assert str(err.value) == (f"{meta_path}: regions_per_image is {K + 1} but "
                            f"{mismatched.feature_store('vqa').path} has {K} rows "
                            "per image")
  # A question whose image has no features.
  root = str(tmp_path / "p")
  make_prepared(root)
  PreparedWriter(root).write_vqa(
      "heldout", vqa_records(np.random.default_rng(0), [999], 1))
  other = PreparedData(root)
  with pytest.raises(DataError, match=r"heldout.jsonl: 1 questions refer to images not "
                     r"in the feature store .* \(e.g. image 999\)"):
    pipeline.vqa_eval_dataset(other, other.feature_store("vqa"), "heldout", DATA_CONFIG)


def test_feature_width_must_match_meta(tiny_world, tmp_path):
  import json as _json
  import shutil
  data_dir = str(tmp_path / "w")
  shutil.copytree(tiny_world, data_dir)
  meta_path = os.path.join(data_dir, "meta.json")
  with open(meta_path) as f:
    meta = _json.load(f)
  meta["feature_dim"] += 1
  with open(meta_path, "w") as f:
    _json.dump(meta, f)
  data = PreparedData(data_dir)
  cfg = DataConfig(regions_per_image=data.regions_per_image, vqa_batch_size=4,
                   max_question_words=8, max_answer_words=4)
  with pytest.raises(DataError, match="feature_dim"):
    pipeline.vqa_dataset(data, data.feature_store("vqa"), "train", cfg, training=True)


def test_a_dropped_dataset_releases_its_split_and_store(prepared, monkeypatch):
  # tf.numpy_function keeps the function it gets for the life of the process; the
  # gather must not take the split and the feature store with it (the memory of
  # every training segment and evaluation of every run).
  import gc
  import weakref
  data, _ = prepared
  loaded = []
  load_vqa = PreparedData.load_vqa

  def recording_load_vqa(self, *args, **kwargs):
    split = load_vqa(self, *args, **kwargs)
    loaded.append(weakref.ref(split))
    return split

  monkeypatch.setattr(PreparedData, "load_vqa", recording_load_vqa)
  store = data.feature_store("vqa")
  store_ref = weakref.ref(store)
  for training in (True, False):
    ds = pipeline.vqa_dataset(data, store, "train", DATA_CONFIG, training=training)
    assert _take(ds, 1)[0]["image_features"].shape == (P, K, D)
    del ds
  del store
  gc.collect()
  assert len(loaded) == 2
  assert all(ref() is None for ref in loaded), "a dropped dataset kept its split"
  assert store_ref() is None, "a dropped dataset kept its feature store"
