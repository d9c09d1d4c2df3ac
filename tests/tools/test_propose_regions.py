"""tools.propose_regions: Edge Boxes on a generated picture."""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

from svlr_tf.runtime.errors import DataError
from tools import propose_regions
from tools._common import clip_boxes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _picture(path, seed=0, size=(120, 160)):
  """Coloured rectangles on a flat background, saved as JPEG."""
  rng = np.random.default_rng(seed)
  image = np.full(size + (3,), 210, np.uint8)
  for _ in range(3):
    x, y = rng.integers(5, size[1] - 50), rng.integers(5, size[0] - 50)
    image[y:y + 40, x:x + 45] = rng.integers(0, 120, 3)
  Image.fromarray(image).save(path, quality=95)
  return path


def test_edge_boxes_find_the_rectangles(tmp_path):
  image = np.full((120, 160, 3), 220, np.uint8)
  image[20:70, 15:65] = (200, 30, 30)
  proposer = propose_regions.EdgeBoxProposer(max_boxes=100)
  boxes = proposer.propose(image)
  assert 0 < len(boxes) <= 100
  for x, y, w, h in boxes:
    assert 0 <= x and 0 <= y and w >= 1 and h >= 1 and x + w <= 160 and y + h <= 120
  # Some proposal overlaps the rectangle well (IoU > 0.5).
  def iou(b):
    x1, y1 = max(b[0], 15), max(b[1], 20)
    x2, y2 = min(b[0] + b[2], 65), min(b[1] + b[3], 70)
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / (b[2] * b[3] + 50 * 50 - inter)
  assert max(iou(b) for b in boxes) > 0.5


def test_clip_and_pad():
  assert clip_boxes([[-5, -5, 20, 20], [150, 10, 30, 10], [10, 10, 0, 5]], 160, 120) == \
      [[0, 0, 15, 15], [150, 10, 10, 10]]
  assert propose_regions.pad_boxes([[1, 1, 5, 5]], 160, 120, 4, "mask") == \
      [[1, 1, 5, 5], [0, 0, 160, 120]]
  assert propose_regions.pad_boxes([[1, 1, 5, 5]], 160, 120, 4, "repeat") == \
      [[1, 1, 5, 5], [0, 0, 160, 120], [1, 1, 5, 5], [0, 0, 160, 120]]


def test_propose_regions_writes_and_resumes(tmp_path):
  images = tmp_path / "images"
  images.mkdir()
  paths = [(i, _picture(str(images / f"COCO_val2014_{i:012d}.jpg"), seed=i))
           for i in (3, 11, 42)]
  out = str(tmp_path / "boxes" / "vqa.jsonl")
  # A previous run finished image 3 and was killed mid-line.
  os.makedirs(os.path.dirname(out))
  with open(out + ".partial", "w") as f:
    f.write(json.dumps({"image_id": 3, "file": paths[0][1], "width": 160,
                        "height": 120, "boxes": [[0, 0, 160, 120]]}) + "\n")
    f.write('{"image_id": 11, "fi')
  assert propose_regions.propose_regions(paths, out, max_boxes=8) == 2
  rows = [json.loads(l) for l in open(out)]
  assert [r["image_id"] for r in rows] == [3, 11, 42]
  assert rows[0]["boxes"] == [[0, 0, 160, 120]]  # not redone
  for row in rows[1:]:
    assert 1 <= len(row["boxes"]) <= 8 and row["width"] == 160
  assert not os.path.exists(out + ".partial")
  assert propose_regions.propose_regions(paths, out) == 0


def test_unreadable_image_is_a_data_error(tmp_path):
  bad = tmp_path / "COCO_val2014_000000000007.jpg"
  bad.write_bytes(b"not a jpeg")
  with pytest.raises(DataError, match="truncated or corrupt"):
    propose_regions.propose_regions([(7, str(bad))], str(tmp_path / "b.jsonl"))
  assert not (tmp_path / "b.jsonl").exists()


def test_truncated_jpeg_is_an_error_or_skipped_and_listed(tmp_path):
  good = _picture(str(tmp_path / "COCO_val2014_000000000001.jpg"), seed=1)
  whole = _picture(str(tmp_path / "full.jpg"), seed=2)
  data = open(whole, "rb").read()
  half = tmp_path / "COCO_val2014_000000000002.jpg"
  half.write_bytes(data[:len(data) // 2])  # OpenCV decodes this with a warning
  pairs = [(1, good), (2, str(half))]
  out = str(tmp_path / "b.jsonl")
  with pytest.raises(DataError, match=r"000000000002\.jpg: truncated or corrupt"):
    propose_regions.propose_regions(pairs, out, max_boxes=4)
  assert not os.path.exists(out)
  os.remove(out + ".partial")
  assert propose_regions.propose_regions(pairs, out, max_boxes=4,
                                         skip_bad_images=True) == 1
  assert [json.loads(l)["image_id"] for l in open(out)] == [1]
  report = open(out + ".bad_images.tsv").read().splitlines()
  assert len(report) == 1 and report[0].startswith(str(half) + "\ttruncated")


def test_propose_one_picture_file(tmp_path):
  path = _picture(str(tmp_path / "p.jpg"), seed=3)
  boxes = propose_regions.propose(path, max_boxes=10)
  assert 1 <= len(boxes) <= 10 and all(len(b) == 4 for b in boxes)
  padded = propose_regions.propose(path, max_boxes=10, pad_mode="repeat")
  assert len(padded) == 10


def test_sobel_fallback_works_on_a_downscaled_picture_and_maps_boxes_back():
  image = np.full((480, 640, 3), 220, np.uint8)
  image[100:300, 200:450] = (30, 30, 200)
  boxes = propose_regions.EdgeBoxProposer(max_boxes=50).propose(image)
  def iou(b):
    x1, y1 = max(b[0], 200), max(b[1], 100)
    x2, y2 = min(b[0] + b[2], 450), min(b[1] + b[3], 300)
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / (b[2] * b[3] + 250 * 200 - inter)
  assert max(iou(b) for b in boxes) > 0.7


def test_cli_with_shards(tmp_path):
  images = tmp_path / "images"
  images.mkdir()
  for i in (1, 2, 3):
    _picture(str(images / f"{i}.jpg"), seed=i, size=(64, 80))
  out = tmp_path / "vqa.jsonl"
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  result = subprocess.run(
      [sys.executable, "-m", "tools.propose_regions", "--image_dirs", str(images),
       "--out", str(out), "--max_boxes", "5", "--pad_mode", "repeat",
       "--shard", "1", "--num_shards", "2"],
      capture_output=True, text=True, env=env, timeout=60, cwd=REPO)
  assert result.returncode == 0, result.stderr
  assert "Sobel" in result.stderr and "s/image" in result.stderr
  rows = [json.loads(l) for l in open(str(out) + "-00001-of-00002")]
  assert [r["image_id"] for r in rows] == [2]
  assert len(rows[0]["boxes"]) == 5
