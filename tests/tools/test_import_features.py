"""tools.import_features on small files in the bottom-up-attention layouts."""

import base64
import json
import os
import pickle
import re
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
  with pytest.raises(DataError, match=r"a.tsv: line 1: field 'boxes' has 12 float32"):
    list(import_features.read_tsv([str(bad_count)]))
  truncated = tmp_path / "b.tsv"
  truncated.write_text("\t".join(["5", "10", "10", "3", _b64(boxes)]))
  with pytest.raises(DataError, match=r"b.tsv: line 1: 5 tab-separated fields"):
    list(import_features.read_tsv([str(truncated)]))
  out = str(tmp_path / "vqa")
  with pytest.raises(DataError, match="3 boxes > --rows_per_image 2"):
    import_features.import_features(import_features.read_tsv(
        [write_tsv(tmp_path / "c.tsv", [(5, 10, 10, boxes, features)])]), out, 2)
  assert not os.path.exists(out) and not os.path.exists(out + ".importing")


def _tsv_line(image_id, boxes, features, n=None):
  n = len(boxes) if n is None else n
  return "\t".join([str(image_id), "640", "480", str(n), _b64(boxes), _b64(features)])


def _cut(line, fraction):
  return line[:int(len(line) * fraction)]


@pytest.mark.parametrize("case, problem", [
    ("cut at 60%", r"line 3: (field 'features' (holds \d+ bytes|is not base64)|"
                   r"\d+ feature values do not split)"),
    ("cut at 99%", r"line 3: (field 'features' (holds \d+ bytes|is not base64)|"
                   r"\d+ feature values do not split)"),
    ("cut in the boxes", r"line 3: \d+ tab-separated fields, expected 6"),
    ("bad base64", r"line 3: field 'features' is not base64"),
    ("wrong box count", r"line 3: field 'boxes' has 12 float32 values"),
    ("NaN", r"line 3: field 'features' holds 1 NaN or infinite values"),
    ("inf", r"line 3: field 'features' holds 2 NaN or infinite values"),
    ("beyond float16", r"line 3: features beyond float16's range"),
    ("duplicate id", r"line 3: image 7 again \(first at line 1\)"),
])
def test_a_malformed_tsv_line_names_file_and_line_and_writes_nothing(
    tmp_path, case, problem):
  rng = np.random.default_rng(3)
  images = _images(rng, [7, 8, 9], [3, 3, 3], 16)
  lines = [_tsv_line(i, b, f) for i, _, _, b, f in images]
  _, _, _, boxes, features = images[2]
  if case.startswith("cut at"):
    lines[2] = _cut(lines[2], float(case.split()[-1][:-1]) / 100)
  elif case == "cut in the boxes":
    parts = lines[2].split("\t")
    lines[2] = "\t".join(parts[:4] + [parts[4][:len(parts[4]) // 2]])
  elif case == "bad base64":
    parts = lines[2].split("\t")
    parts[5] = parts[5][:10] + "!*" + parts[5][12:]
    lines[2] = "\t".join(parts)
  elif case == "wrong box count":
    lines[2] = _tsv_line(9, boxes, features, n=4)
  elif case == "NaN":
    features = features.copy()
    features[1, 2] = np.nan
    lines[2] = _tsv_line(9, boxes, features)
  elif case == "inf":
    features = features.copy()
    features[0, 0], features[2, 5] = np.inf, -np.inf
    lines[2] = _tsv_line(9, boxes, features)
  elif case == "beyond float16":
    features = features.copy()
    features[0, 0] = 1e6
    lines[2] = _tsv_line(9, boxes, features)
  elif case == "duplicate id":
    lines[2] = _tsv_line(7, boxes, features)
  path = tmp_path / "trainval.tsv"
  path.write_text("\n".join(lines) + ("\n" if not case.startswith("cut") else ""))
  out = tmp_path / "data" / "features" / "vqa"
  out.parent.mkdir(parents=True)
  paths = [str(path)]
  with pytest.raises(DataError) as err:
    import_features.import_features(
        import_features.read_tsv(paths), str(out),
        import_features.tsv_max_boxes(paths) or None,
        boxes_out=import_features.default_boxes_out(str(out)))
  assert re.fullmatch(re.escape(str(path)) + ": " + problem + ".*", str(err.value)), \
      str(err.value)
  assert os.listdir(out.parent) == []          # no store, no .importing
  assert not (tmp_path / "data" / "boxes").exists()


def test_a_cut_tsv_is_one_line_from_the_command_line(tmp_path):
  rng = np.random.default_rng(4)
  images = _images(rng, [7, 8], [3, 3], 16)
  text = "\n".join(_tsv_line(i, b, f) for i, _, _, b, f in images)
  path = tmp_path / "trainval.tsv"
  path.write_text(text[:len(text) - 7])  # the last line cut
  out = tmp_path / "features" / "vqa"
  proc = subprocess.run(
      [sys.executable, "-m", "tools.import_features", "--tsv", str(path),
       "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300,
      env=dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3"))
  assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1 and f"{path}: line 2: " in errors[0], proc.stderr[-2000:]
  assert not out.exists() and not (tmp_path / "features" / "vqa.importing").exists()


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


def _box_records(images):
  return [import_features._box_line(i, import_features.xyxy_to_xywh(b), (w, h))
          for i, w, h, b, _ in images]


def test_streamed_boxes_file_is_byte_identical_to_the_whole_list_written_at_once(tmp_path):
  """The boxes file is written line by line as images are read (issue 25); its
  bytes are those of the earlier all-in-memory write (atomic_write_lines)."""
  from tools._common import atomic_write_lines
  rng = np.random.default_rng(11)
  images = _images(rng, [9, 3, 42, 5], [20, 4, 1, 7], 8)
  path = write_tsv(tmp_path / "trainval.tsv", images)
  out = tmp_path / "data" / "features" / "vqa"
  boxes_out = import_features.default_boxes_out(str(out))
  import_features.import_features(import_features.read_tsv([path]), str(out), 20,
                                  boxes_out=boxes_out)
  atomic_write_lines(str(tmp_path / "reference.jsonl"), _box_records(images))
  assert open(boxes_out, "rb").read() == (tmp_path / "reference.jsonl").read_bytes()
  assert os.listdir(os.path.dirname(boxes_out)) == ["vqa.jsonl"]  # no temporary left


def test_a_failed_import_leaves_an_earlier_boxes_file_as_it_was(tmp_path):
  rng = np.random.default_rng(12)
  images = _images(rng, [9, 3], [2, 4], 8)
  path = write_tsv(tmp_path / "a.tsv", images)
  out = tmp_path / "data" / "features" / "vqa"
  boxes_out = import_features.default_boxes_out(str(out))
  import_features.import_features(import_features.read_tsv([path]), str(out), 4,
                                  boxes_out=boxes_out)
  before = open(boxes_out, "rb").read()
  bad = write_tsv(tmp_path / "b.tsv", images + [(3, 640, 480) + images[0][3:]])
  with pytest.raises(DataError, match="image 3 again"):
    import_features.import_features(import_features.read_tsv([bad]), str(out), 4,
                                    boxes_out=boxes_out)
  assert open(boxes_out, "rb").read() == before
  assert os.listdir(os.path.dirname(boxes_out)) == ["vqa.jsonl"]
