"""tools.import_features on small files in the bottom-up-attention layouts."""

import base64
import json
import os
import pickle
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from svlr_tf.data.check import check_prepared
from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.runtime.errors import DataError
from tools import import_features

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _b64(array):
  return base64.b64encode(np.ascontiguousarray(array, np.float32).tobytes()).decode()


def _images(rng, ids, counts, dim):
  out = []
  for image_id, n in zip(ids, counts):
    xy = rng.uniform(0, 100, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 50, (n, 2))], 1).astype(np.float32)
    out.append((image_id, 640, 480, boxes, rng.normal(size=(n, dim)).astype(np.float32)))
  return out


def write_tsv(path, images):
  """The release's layout: no header, tab-separated, base64 float32 fields."""
  with open(path, "w") as f:
    for image_id, w, h, boxes, features in images:
      f.write("\t".join([str(image_id), str(w), str(h), str(len(boxes)), _b64(boxes),
                         _b64(features)]) + "\n")
  return str(path)


def _check_store(out, images, k):
  store = FeatureStore(out)
  assert store.rows_per_image == k and store.has_boxes
  assert sorted(store.image_ids.tolist()) == sorted(i[0] for i in images)
  for image_id, w, h, boxes, features in images:
    np.testing.assert_allclose(store.regions(image_id), features.astype(np.float16))
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1)
    np.testing.assert_allclose(store.boxes(image_id), xywh, rtol=1e-6)
  return store


def test_tsv_with_rows_beyond_csvs_field_limit(tmp_path):
  rng = np.random.default_rng(0)
  images = _images(rng, [9, 3, 42], [20, 4, 1], 2048)  # 20 x 2048: a ~220 KB field
  path = write_tsv(tmp_path / "trainval.tsv", images)
  assert max(len(l) for l in open(path)) > 131072  # csv's default field_size_limit
  assert import_features.tsv_max_boxes([path]) == 20
  out = str(tmp_path / "vqa")
  n = import_features.import_features(import_features.read_tsv([path]), out, 20)
  assert n == 3
  store = _check_store(out, images, 20)
  assert store.count(3) == 4 and store.image_size(42) == (640, 480)
  _, mask = store.gather_images([9, 3])
  assert mask.sum(1).tolist() == [20, 4]


def test_tsv_problems_are_one_line_errors(tmp_path):
  rng = np.random.default_rng(1)
  (image_id, w, h, boxes, features), = _images(rng, [5], [3], 8)
  bad_count = tmp_path / "a.tsv"
  bad_count.write_text("\t".join(["5", "10", "10", "4", _b64(boxes), _b64(features)]))
  with pytest.raises(DataError, match=r"a.tsv: row 1: field 'boxes' has 12 float32"):
    list(import_features.read_tsv([str(bad_count)]))
  truncated = tmp_path / "b.tsv"
  truncated.write_text("\t".join(["5", "10", "10", "3", _b64(boxes)]))
  with pytest.raises(DataError, match=r"b.tsv: row 1: 5 tab-separated fields"):
    list(import_features.read_tsv([str(truncated)]))
  out = str(tmp_path / "vqa")
  with pytest.raises(DataError, match="3 boxes > --rows_per_image 2"):
    import_features.import_features(import_features.read_tsv(
        [write_tsv(tmp_path / "c.tsv", [(5, 10, 10, boxes, features)])]), out, 2)
  assert not os.path.exists(out) and not os.path.exists(out + ".importing")


def test_hdf5_fixed_layout_with_imgid2idx_pickle(tmp_path):
  rng = np.random.default_rng(2)
  images = _images(rng, [7, 8, 11], [4, 4, 4], 16)
  path = str(tmp_path / "trainval36.hdf5")
  with h5py.File(path, "w") as h5:
    h5["image_features"] = np.stack([i[4] for i in images])
    h5["image_bb"] = np.stack([i[3] for i in images])
    h5["spatial_features"] = np.zeros((3, 4, 6), np.float32)
  with open(str(tmp_path / "trainval36_imgid2idx.pkl"), "wb") as f:
    pickle.dump({7: 0, 8: 1, 11: 2}, f)
  k, stream = import_features.read_hdf5(path)
  assert k == 4
  import_features.import_features(stream, str(tmp_path / "vqa"), k)
  _check_store(str(tmp_path / "vqa"), images, 4)


def test_hdf5_adaptive_layout_with_pos_boxes(tmp_path):
  rng = np.random.default_rng(3)
  images = _images(rng, [70, 80], [2, 5], 16)
  path = str(tmp_path / "adaptive.hdf5")
  with h5py.File(path, "w") as h5:
    h5["image_features"] = np.concatenate([i[4] for i in images])
    h5["image_bb"] = np.concatenate([i[3] for i in images])
    h5["pos_boxes"] = np.array([[0, 2], [2, 7]])
    h5["image_ids"] = np.array([70, 80])
  k, stream = import_features.read_hdf5(path)
  assert k == 5
  import_features.import_features(stream, str(tmp_path / "vqa"), k)
  _check_store(str(tmp_path / "vqa"), images, 5)
  # A pickle that is more than ids and indices is refused.
  with open(str(tmp_path / "evil_imgid2idx.pkl"), "wb") as f:
    pickle.dump({1: np.int64(0)}, f)
  with pytest.raises(DataError, match="not a {image_id: index} pickle"):
    import_features.read_imgid2idx(str(tmp_path / "evil_imgid2idx.pkl"))


def _world_with_imported_vqa(tiny_world, tmp_path):
  """The tiny world with its VQA store replaced by an imported TSV: K varies."""
  data_dir = str(tmp_path / "data")
  shutil.copytree(tiny_world, data_dir, ignore=shutil.ignore_patterns("*.cache.npz"))
  store = FeatureStore(os.path.join(data_dir, "features", "vqa"))
  rng = np.random.default_rng(4)
  images = []
  for image_id in store.image_ids.tolist():
    regions = store.regions(image_id).astype(np.float32)
    n = int(rng.integers(1, len(regions) + 3))  # up to 2 more boxes than the world
    extra = rng.normal(size=(max(0, n - len(regions)), store.dim)).astype(np.float32)
    features = np.concatenate([regions, extra])[:n]
    xy = rng.uniform(0, 50, (n, 2)).astype(np.float32)
    images.append((image_id, 100, 80, np.concatenate([xy, xy + 10], 1), features))
  k = max(len(i[3]) for i in images)
  store.close()
  tsv = write_tsv(tmp_path / "butd.tsv", images)
  env = dict(os.environ, PYTHONPATH=REPO)
  proc = subprocess.run([sys.executable, "-m", "tools.import_features", "--tsv", tsv,
                         "--out", os.path.join(data_dir, "features", "vqa")],
                        capture_output=True, text=True, env=env, timeout=120)
  assert proc.returncode == 0, proc.stderr
  meta_path = os.path.join(data_dir, "meta.json")
  meta = json.load(open(meta_path))
  meta["regions_per_image"] = k  # as tools.prepare_vocab writes it from the store
  json.dump(meta, open(meta_path, "w"))
  return data_dir, k


def test_imported_store_passes_the_data_check(tiny_world, tmp_path):
  data_dir, k = _world_with_imported_vqa(tiny_world, tmp_path)
  store = FeatureStore(os.path.join(data_dir, "features", "vqa"))
  assert store.rows_per_image == k
  assert check_prepared(data_dir) == []
  # The boxes file the rest of the code reads is written beside the store.
  from svlr_tf.data.boxes import load_boxes
  boxes = load_boxes(data_dir, "vqa")
  image_id = int(store.image_ids[0])
  np.testing.assert_allclose(boxes[image_id].boxes, store.boxes(image_id), atol=0.01)
  assert (boxes[image_id].width, boxes[image_id].height) == (100, 80)


@pytest.mark.slow
def test_table1_trains_on_imported_features(tiny_world, tmp_path):
  data_dir, _ = _world_with_imported_vqa(tiny_world, tmp_path)
  workdir = str(tmp_path / "run")
  proc = subprocess.run([sys.executable, "-m", "reproduce.table1", "--data_dir",
                         data_dir, "--preset", "tiny", "--seeds", "1", "--steps", "2",
                         "--workdir", workdir], capture_output=True, text=True,
                        env=dict(os.environ, PYTHONPATH=REPO), timeout=900)
  assert proc.returncode == 0, proc.stderr[-2000:]
  table = json.load(open(os.path.join(workdir, "table1.json")))
  assert set(table["rows"]) >= {"VQA Only", "Joint SVLR"}
