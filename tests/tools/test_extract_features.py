"""tools.extract_features / tools.merge_features."""

import json
import os

import numpy as np
from PIL import Image
import pytest

from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.runtime.errors import DataError
from tools import extract_features, merge_features


class MeanColourExtractor:
  """Stands in for ResNet: feature = mean RGB of the crop and its box size."""

  dim = 4
  crop_size = 16
  batch_size = 3

  def __init__(self):
    self.crops_seen = 0

  def __call__(self, crops):
    self.crops_seen += len(crops)
    return np.concatenate([crops.astype(np.float32).mean(axis=(1, 2)),
                           np.full((len(crops), 1), 1.0)], axis=1)


def _images(tmp_path, ids):
  directory = tmp_path / "images"
  directory.mkdir(exist_ok=True)
  for i in ids:
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, :30] = (i * 10 % 256, 0, 0)  # left half red-ish
    image[:, 30:] = (0, 0, 200)           # right half blue
    Image.fromarray(image).save(directory / f"{i}.png")
  return directory


def _boxes_file(path, directory, ids, boxes):
  with open(path, "w") as f:
    for i in ids:
      f.write(json.dumps({"image_id": i, "file": f"{i}.png", "boxes": boxes}) + "\n")
  return str(path)


def test_crop_regions_clips_and_resizes():
  image = np.zeros((40, 60, 3), np.uint8)
  image[:, 30:] = (255, 0, 0)  # BGR blue on the right
  crops = extract_features.crop_regions(image, [[30, 0, 30, 40], [-10, -10, 500, 500],
                                                [0, 0, 10, 10]], crop_size=8)
  assert crops.shape == (3, 8, 8, 3) and crops.dtype == np.uint8
  np.testing.assert_allclose(crops[0, ..., 2], 255)  # RGB: blue channel
  assert crops[1, :, :3, 2].max() == 0 and crops[1, :, -3:, 2].min() == 255
  np.testing.assert_allclose(crops[2], 0)


def test_extract_resumes_and_pads(tmp_path):
  ids = [5, 1, 9, 7]
  directory = _images(tmp_path, ids)
  boxes = _boxes_file(tmp_path / "b.jsonl", directory, ids,
                      [[0, 0, 30, 40], [30, 0, 30, 40]])
  records = extract_features.read_boxes([boxes], [str(directory)])
  assert [r[0] for r in records] == [1, 5, 7, 9]
  out = str(tmp_path / "features" / "vqa")
  fake = MeanColourExtractor()
  assert extract_features.extract_features(records[:2], out, 3, extractor=fake,
                                           chunk_images=1) == 2
  # Restart with all images: only the two missing ones are computed.
  fake = MeanColourExtractor()
  assert extract_features.extract_features(records, out, 3, extractor=fake,
                                           chunk_images=1) == 2
  assert fake.crops_seen == 4
  store = FeatureStore(out)
  assert sorted(store.image_ids.tolist()) == [1, 5, 7, 9]
  assert store.rows_per_image == 3 and store.count(9) == 2
  # The boxes the features came from are in the store, row-aligned.
  assert store.has_boxes and store.image_size(9) == (60, 40)
  np.testing.assert_array_equal(store.boxes(9), [[0, 0, 30, 40], [30, 0, 30, 40]])
  regions = store.regions(9).astype(np.float32)
  np.testing.assert_allclose(regions[0, :3], [90, 0, 0], atol=0.5)
  np.testing.assert_allclose(regions[1, :3], [0, 0, 200], atol=0.5)
  features, mask = store.gather_images([9])
  assert mask.tolist() == [[True, True, False]]
  store.verify()


def test_too_many_boxes_and_bad_boxes_file(tmp_path):
  directory = _images(tmp_path, [1])
  boxes = _boxes_file(tmp_path / "b.jsonl", directory, [1], [[0, 0, 5, 5]] * 4)
  records = extract_features.read_boxes([boxes], [str(directory)])
  with pytest.raises(DataError, match="rows_per_image"):
    extract_features.extract_features(records, str(tmp_path / "s"), 3,
                                      extractor=MeanColourExtractor())
  (tmp_path / "bad.jsonl").write_text('{"image_id": 1, "boxes": [[1, 2]]}\n')
  with pytest.raises(DataError, match="bad.jsonl: line 1"):
    extract_features.read_boxes([str(tmp_path / "bad.jsonl")], [str(directory)])
  (tmp_path / "missing.jsonl").write_text('{"image_id": 2, "boxes": []}\n')
  with pytest.raises(DataError, match="image 2 not found"):
    extract_features.read_boxes([str(tmp_path / "missing.jsonl")], [str(directory)])


def test_shards_then_merge(tmp_path):
  ids = [1, 2, 3, 4, 5]
  directory = _images(tmp_path, ids)
  boxes = _boxes_file(tmp_path / "b.jsonl", directory, ids, [[0, 0, 10, 10]])
  records = extract_features.read_boxes([boxes], [str(directory)])
  out = str(tmp_path / "genome")
  for shard in range(2):
    extract_features.extract_features(
        records[shard::2], extract_features.part_path(out, shard, 2), None,
        extractor=MeanColourExtractor())
  parts = merge_features.find_parts(out)
  assert len(parts) == 2
  merge_features.merge_features(parts, out, delete_parts=True)
  store = FeatureStore(out)
  assert sorted(store.image_ids.tolist()) == ids and store.rows_per_image is None
  assert store.count(4) == 1
  assert store.boxes(4).tolist() == [[0, 0, 10, 10]] and store.image_size(4) == (60, 40)
  assert not os.path.exists(parts[0])
  with pytest.raises(DataError, match="no '.part"):
    merge_features.find_parts(out)


def test_resnet50_features_with_random_weights(tmp_path):
  directory = _images(tmp_path, [1, 2])
  boxes = _boxes_file(tmp_path / "b.jsonl", directory, [1, 2],
                      [[0, 0, 30, 40], [30, 0, 30, 40]])
  records = extract_features.read_boxes([boxes], [str(directory)])
  extractor = extract_features.RegionFeatureExtractor("resnet50", weights="none",
                                                      batch_size=3, crop_size=32)
  assert extractor.dim == 2048
  out = str(tmp_path / "vqa")
  extract_features.extract_features(records, out, 100, extractor=extractor)
  store = FeatureStore(out)
  features, mask = store.gather_images([1, 2])
  assert features.shape == (2, 100, 2048) and mask.sum() == 4
  regions = store.regions(1).astype(np.float32)
  assert np.all(np.isfinite(regions)) and np.all(regions >= 0)  # post-ReLU pool
  assert not np.allclose(regions[0], regions[1])  # different crops differ
  # Random weights are seeded: another extractor gives the same features.
  again = extract_features.RegionFeatureExtractor("resnet50", weights="none",
                                                  crop_size=32)
  np.testing.assert_allclose(
      again(extract_features.crop_regions(np.asarray(Image.open(
          directory / "1.png"))[:, :, ::-1], [[0, 0, 30, 40]], 32))[0],
      regions[0], rtol=1e-2, atol=1e-2)


@pytest.mark.slow
def test_resnet152_builds_offline():
  model = extract_features.build_backbone("resnet152", None, 224)
  assert model.output.shape[-1] == 2048


@pytest.mark.slow
def test_cli_two_shards_and_merge(tmp_path):
  import subprocess
  import sys
  repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  directory = _images(tmp_path, [1, 2])
  boxes = _boxes_file(tmp_path / "b.jsonl", directory, [1, 2], [[0, 0, 30, 40]])
  out = str(tmp_path / "vqa")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  for shard in ("0", "1"):
    result = subprocess.run(
        [sys.executable, "-m", "tools.extract_features", "--boxes", boxes,
         "--image_dirs", str(directory), "--out", out, "--rows_per_image", "4",
         "--weights", "none", "--crop_size", "64", "--shard", shard,
         "--num_shards", "2"],
        capture_output=True, text=True, env=env, timeout=300, cwd=repo)
    assert result.returncode == 0, result.stderr
  result = subprocess.run([sys.executable, "-m", "tools.merge_features", "--out", out],
                          capture_output=True, text=True, env=env, timeout=120,
                          cwd=repo)
  assert result.returncode == 0, result.stderr
  store = FeatureStore(out)
  assert sorted(store.image_ids.tolist()) == [1, 2] and store.dim == 2048


def test_truncated_picture_is_an_error_or_skipped_and_listed(tmp_path):
  directory = _images(tmp_path, [1, 2])
  whole = tmp_path / "whole.jpg"
  Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), np.uint8)
                  ).save(whole, quality=90)
  data = whole.read_bytes()
  (directory / "3.jpg").write_bytes(data[:len(data) // 2])
  records = [(1, str(directory / "1.png"), [[0, 0, 10, 10]]),
             (3, str(directory / "3.jpg"), [[0, 0, 10, 10]])]
  out = str(tmp_path / "vqa")
  with pytest.raises(DataError, match=r"3\.jpg: truncated or corrupt"):
    extract_features.extract_features(records, out, 2, extractor=MeanColourExtractor())
  assert extract_features.extract_features(records, out, 2,
                                           extractor=MeanColourExtractor(),
                                           skip_bad_images=True) == 1
  assert FeatureStore(out).image_ids.tolist() == [1]
  report = open(out + ".bad_images.tsv").read()
  assert "3.jpg\ttruncated or corrupt" in report


def test_extract_one_picture(tmp_path):
  directory = _images(tmp_path, [4])
  features = extract_features.extract(str(directory / "4.png"),
                                      [[0, 0, 30, 40], [30, 0, 30, 40]],
                                      MeanColourExtractor())
  assert features.shape == (2, 4) and features.dtype == np.float32
  np.testing.assert_allclose(features[1, :3], [0, 0, 200], atol=0.5)


def test_offline_imagenet_weights_are_a_one_line_error(monkeypatch):
  from keras.src.utils import file_utils

  def offline(*args, **kwargs):
    raise Exception("URL fetch failure on https://storage.googleapis.com/x.h5: "
                    "None -- [Errno -3] Temporary failure in name resolution")
  monkeypatch.setattr(file_utils, "get_file", offline)
  with pytest.raises(DataError, match="could not download the ImageNet weights.*"
                     "--weights PATH.h5.*--weights none") as err:
    extract_features.build_backbone("resnet50", "imagenet", crop_size=32)
  assert "\n" not in str(err.value)

