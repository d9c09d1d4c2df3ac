"""Tests of the sharded, memory-mapped feature store."""

import os

import numpy as np
import pytest

from svlr_tf.data.feature_store import FeatureStore, FeatureStoreWriter, shard_name
from svlr_tf.runtime.errors import DataError

DIM = 6


def _features(rng, counts):
  return {10 * i + 3: rng.normal(size=(n, DIM)).astype(np.float32)
          for i, n in enumerate(counts)}


def _write(path, feats, **kwargs):
  with FeatureStoreWriter(path, DIM, **kwargs) as w:
    for image_id, f in feats.items():
      w.add(image_id, f)


@pytest.fixture
def padded_store(tmp_path):
  """7 images of 0..5 rows, K = 5, 2 images per shard (4 shards)."""
  feats = _features(np.random.default_rng(0), [3, 5, 0, 1, 4, 2, 5])
  path = str(tmp_path / "vqa")
  _write(path, feats, rows_per_image=5, shard_rows=10)
  return path, feats


@pytest.fixture
def variable_store(tmp_path):
  feats = _features(np.random.default_rng(1), [3, 7, 1, 4, 2])
  path = str(tmp_path / "genome")
  _write(path, feats, shard_rows=8)
  return path, feats


def test_padded_round_trip(padded_store):
  path, feats = padded_store
  store = FeatureStore(path)
  assert (store.dim, store.rows_per_image, len(store)) == (DIM, 5, 7)
  assert store.image_ids.tolist() == list(feats)
  assert sorted(f for f in os.listdir(path) if f.startswith("shard-")) == [
      shard_name(i) for i in range(4)]
  assert store.nbytes == 7 * 5 * DIM * 2  # 4 shards of 10, 10, 10, 5 rows
  for image_id, f in feats.items():
    assert store.count(image_id) == len(f)
    np.testing.assert_array_equal(store.regions(image_id), f.astype(np.float16))
    assert store.regions(image_id).dtype == np.float16
  store.verify()


def test_gather_images_across_shards(padded_store):
  path, feats = padded_store
  store = FeatureStore(path)
  ids = [63, 3, 23, 3, 43]  # shards 3, 0, 1, 0, 2; image 23 has no rows
  features, mask = store.gather_images(ids)
  assert features.shape == (5, 5, DIM) and features.dtype == np.float16
  assert mask.shape == (5, 5) and mask.dtype == bool
  for j, image_id in enumerate(ids):
    n = len(feats[image_id])
    assert mask[j].tolist() == [True] * n + [False] * (5 - n)
    np.testing.assert_array_equal(features[j, :n], feats[image_id].astype(np.float16))
    assert not np.any(features[j, n:])
  # One shard only: the fast path.
  features, mask = store.gather_images([13, 3])
  np.testing.assert_array_equal(features[0], feats[13].astype(np.float16))


def test_gather_rows(variable_store):
  path, feats = variable_store
  store = FeatureStore(path)
  assert store.rows_per_image is None
  ids, rows = [13, 3, 43, 13], [6, 0, 1, 2]
  out = store.gather_rows(ids, rows)
  assert out.shape == (4, DIM) and out.dtype == np.float16
  for j, (i, r) in enumerate(zip(ids, rows)):
    np.testing.assert_array_equal(out[j], feats[i][r].astype(np.float16))
  with pytest.raises(DataError, match="row 3 requested"):
    store.gather_rows([23], [3])
  with pytest.raises(DataError, match="image id 999"):
    store.gather_rows([999], [0])
  # Variable-row stores pad gather_images to the largest image.
  features, mask = store.gather_images([23, 13])
  assert features.shape == (2, 7, DIM) and mask.sum(axis=1).tolist() == [1, 7]


def test_add_rejects_bad_features(tmp_path):
  with FeatureStoreWriter(str(tmp_path / "s"), DIM, rows_per_image=3) as w:
    w.add(1, np.zeros((2, DIM)))
    with pytest.raises(DataError, match="duplicate image id 1"):
      w.add(1, np.zeros((2, DIM)))
    bad = np.zeros((2, DIM))
    bad[1, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
      w.add(2, bad)
    with pytest.raises(DataError, match="NaN or inf"):
      w.add(3, np.full((1, DIM), np.inf))
    with pytest.raises(DataError, match="rows_per_image"):
      w.add(4, np.zeros((4, DIM)))
    with pytest.raises(DataError, match="shape"):
      w.add(5, np.zeros((2, DIM + 1)))
  assert len(FeatureStore(str(tmp_path / "s"))) == 1


def test_crash_leaves_no_visible_store(tmp_path):
  path = str(tmp_path / "s")
  with pytest.raises(RuntimeError):
    with FeatureStoreWriter(path, DIM, shard_rows=4) as w:
      for i in range(5):
        w.add(i, np.ones((3, DIM)))
      raise RuntimeError("crash")
  assert not any(name.startswith(".") for name in os.listdir(path))  # no temp files
  with pytest.raises(DataError, match="index.npz: missing feature store index"):
    FeatureStore(path)


def test_missing_directory(tmp_path):
  with pytest.raises(DataError, match="does not exist"):
    FeatureStore(str(tmp_path / "nope"))


def test_truncated_shard_named_on_open(padded_store):
  path, _ = padded_store
  shard = os.path.join(path, shard_name(1))
  with open(shard, "r+b") as f:
    f.truncate(os.path.getsize(shard) - 10)
  with pytest.raises(DataError) as e:
    FeatureStore(path)
  assert shard in str(e.value)


def test_missing_shard(padded_store):
  path, _ = padded_store
  os.remove(os.path.join(path, shard_name(2)))
  with pytest.raises(DataError, match="shard-00002.npy: missing shard file"):
    FeatureStore(path)


def test_corrupt_shard_found_by_verify(padded_store):
  path, _ = padded_store
  shard = os.path.join(path, shard_name(3))
  with open(shard, "r+b") as f:
    f.seek(-3, os.SEEK_END)
    f.write(b"\x7f\x7f\x7f")
  store = FeatureStore(path)  # same size: only the checksum can tell
  with pytest.raises(DataError) as e:
    store.verify()
  # 7f7f is a float16 NaN: the message also says where.
  assert str(e.value) == (f"{shard}: checksum mismatch (corrupt shard); image 63 row 4 "
                          "has a non-finite (NaN or inf) feature")


def test_corrupt_index(padded_store):
  path, _ = padded_store
  with open(os.path.join(path, "index.npz"), "wb") as f:
    f.write(b"not a zip")
  with pytest.raises(DataError, match="index.npz: cannot read index"):
    FeatureStore(path)


def test_replace_and_append(tmp_path, padded_store):
  path, feats = padded_store
  # append=False replaces the old store entirely.
  _write(path, {1: np.ones((2, DIM))}, rows_per_image=5)
  store = FeatureStore(path)
  assert store.image_ids.tolist() == [1]
  assert sorted(f for f in os.listdir(path) if f.startswith("shard-")) == [shard_name(0)]
  # append=True keeps it and adds shards.
  _write(path, {2: np.full((1, DIM), 2.0)}, rows_per_image=5, append=True)
  store = FeatureStore(path)
  assert store.image_ids.tolist() == [1, 2]
  np.testing.assert_array_equal(store.regions(2), np.full((1, DIM), 2.0, np.float16))
  store.verify()
  with pytest.raises(DataError, match="duplicate image id 2"):
    with FeatureStoreWriter(path, DIM, rows_per_image=5, append=True) as w:
      w.add(2, np.ones((1, DIM)))


def _mapped_kb(path):
  """kB of ``path``'s pages mapped into this process (Linux /proc/self/smaps)."""
  total, current = 0, False
  with open("/proc/self/smaps") as f:
    for line in f:
      head = line.split()
      if "-" in head[0] and len(head) >= 5 and ":" in head[3]:  # a mapping header
        current = len(head) >= 6 and head[5] == path
      elif current and head[0] == "Rss:":
        total += int(head[1])
  return total


def test_gathers_are_aligned_fresh_and_exact_in_both_read_paths(padded_store, monkeypatch):
  from svlr_tf.data import feature_store as fs_module
  path, feats = padded_store
  ids = [63, 3, 23, 43]
  expected = np.zeros((4, 5, DIM), np.float16)
  for j, i in enumerate(ids):
    expected[j, :len(feats[i])] = feats[i]
  for has_preadv in (True, False):  # preadv, and the copy from the map without it
    monkeypatch.setattr(fs_module, "_HAS_PREADV", has_preadv)
    store = FeatureStore(path)
    features, mask = store.gather_images(ids)
    rows = store.gather_rows([13, 63], [4, 0])
    np.testing.assert_array_equal(features, expected)
    np.testing.assert_array_equal(rows, np.stack([feats[13][4], feats[63][0]]).astype(
        np.float16))
    for a in (features, mask, rows):
      assert a.ctypes.data % 64 == 0 and a.flags.c_contiguous
    again, _ = store.gather_images(ids)
    assert not np.shares_memory(features, again)  # a new array per batch
  # A caller's buffer: filled in place; non-contiguous buffers are refused.
  out = np.empty((2, 5, DIM), np.float16)
  assert store.gather_images([3, 13], out=out)[0] is out
  np.testing.assert_array_equal(out[1], feats[13].astype(np.float16))
  with pytest.raises(ValueError, match="C-contiguous"):
    store.gather_images([3, 13], out=np.empty((2, 5, 2 * DIM), np.float16)[..., ::2])


def test_variable_rows_gather_pads_with_zeros_in_place(variable_store):
  path, feats = variable_store
  store = FeatureStore(path)
  out = np.full((2, 7, DIM), 5.0, np.float16)  # stale contents must be cleared
  features, mask = store.gather_images([23, 43], out=out)
  np.testing.assert_array_equal(features[0, :1], feats[23].astype(np.float16))
  assert not features[0, 1:].any() and not features[1, 2:].any()
  assert mask.sum(axis=1).tolist() == [1, 2]


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="needs Linux smaps")
def test_gathers_map_no_pages_and_release_unmaps(tmp_path):
  path = str(tmp_path / "big")
  dim, k = 512, 8  # 8 KB per image: several pages per image
  with FeatureStoreWriter(path, dim, rows_per_image=k) as w:
    for i in range(64):
      w.add(i, np.full((k, dim), i, np.float32))
  store = FeatureStore(path)
  shard = os.path.realpath(os.path.join(path, shard_name(0)))
  features, _ = store.gather_images(np.arange(64))
  store.gather_rows(np.arange(64), np.zeros(64, np.int64))
  assert features[63, 0, 0] == 63
  assert _mapped_kb(shard) == 0  # read with preadv: nothing mapped, RSS unchanged
  assert float(store.regions(40).sum(dtype=np.float64)) == 40 * k * dim  # reads the map
  assert _mapped_kb(shard) > 0
  store.release_pages()
  assert _mapped_kb(shard) == 0
  assert store.regions(40)[0, 0] == 40  # still readable after the release
  store.verify()
  assert _mapped_kb(shard) == 0  # verify reads every page, keeps none mapped


def test_close_and_shard_truncated_while_open(padded_store):
  path, _ = padded_store
  with FeatureStore(path) as store:
    store.gather_images([3])
  with pytest.raises(ValueError, match="closed"):
    store.gather_images([3])
  store.close()  # idempotent
  store = FeatureStore(path)
  shard = os.path.join(path, shard_name(3))
  with open(shard, "r+b") as f:
    f.truncate(os.path.getsize(shard) - 10)
  with pytest.raises(DataError, match="shard-00003.npy: shard ends at byte"):
    store.gather_images([63])


def test_boxes_are_row_aligned_across_shards_and_appends(tmp_path):
  path = str(tmp_path / "store")
  rng = np.random.default_rng(0)
  feats = {i: rng.normal(size=(i % 3 + 1, 4)).astype(np.float32) for i in range(1, 8)}
  boxes = {i: rng.uniform(0, 50, size=(len(f), 4)).astype(np.float32)
           for i, f in feats.items()}
  with FeatureStoreWriter(path, dim=4, rows_per_image=3, shard_rows=6,
                          with_boxes=True) as w:
    for i in range(1, 5):
      w.add(i, feats[i], boxes[i], image_size=(64, 48))
  with FeatureStoreWriter(path, dim=4, rows_per_image=3, shard_rows=6,
                          with_boxes=True, append=True) as w:
    for i in range(5, 8):
      w.add(i, feats[i], boxes[i])
  store = FeatureStore(path)
  assert store.has_boxes and len(store._shard_rows) > 2
  for i in feats:
    np.testing.assert_array_equal(store.boxes(i), boxes[i])
    np.testing.assert_allclose(store.regions(i), feats[i].astype(np.float16))
  assert store.image_size(2) == (64, 48) and store.image_size(6) == (0, 0)


def test_store_with_boxes_refuses_missing_boxes_and_boxes_file(tmp_path):
  path = str(tmp_path / "store")
  with pytest.raises(DataError, match="no boxes"):
    with FeatureStoreWriter(path, dim=2, with_boxes=True) as w:
      w.add(1, np.ones((2, 2)))
  with pytest.raises(DataError, match=r"expected \[2, 4\]"):
    with FeatureStoreWriter(path, dim=2, with_boxes=True) as w:
      w.add(1, np.ones((2, 2)), np.ones((3, 4)))
  with FeatureStoreWriter(path, dim=2, with_boxes=True) as w:
    w.add(1, np.ones((2, 2)), np.ones((2, 4)))
  os.remove(os.path.join(path, "shard-00000.boxes.npy"))
  with pytest.raises(DataError, match="missing boxes file"):
    FeatureStore(path)
  with FeatureStoreWriter(path, dim=2) as w:
    w.add(1, np.ones((2, 2)))
  with pytest.raises(DataError, match="no boxes"):
    FeatureStore(path).boxes(1)
