"""Region geometry of the embedded world: boxes files, what regions show, pictures."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from svlr_tf.data.boxes import load_boxes
from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.runtime.errors import DataError
from svlr_tf.world import layout, picture


def _inside(box, width, height):
  x, y, w, h = box
  return w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= width + 1e-6 and (
      y + h <= height + 1e-6)


def test_boxes_files_match_the_feature_stores(tiny_world):
  for name in ("vqa", "genome"):
    boxes = load_boxes(tiny_world, name)
    store = FeatureStore(os.path.join(tiny_world, "features", name))
    assert sorted(boxes) == sorted(int(i) for i in store.image_ids)
    for image_id, entry in boxes.items():
      assert len(entry.boxes) == store.count(image_id)
      assert len(entry.regions) == len(entry.boxes)
      assert all(_inside(b, entry.width, entry.height) for b in entry.boxes)
      assert all(_inside(o["box"], entry.width, entry.height) for o in entry.objects)


def _covered(region_box, object_box):
  """Fraction of the object's box inside the region's box."""
  w = min(region_box[0] + region_box[2], object_box[0] + object_box[2]) - max(
      region_box[0], object_box[0])
  h = min(region_box[1] + region_box[3], object_box[1] + object_box[3]) - max(
      region_box[1], object_box[1])
  return max(w, 0) * max(h, 0) / (object_box[2] * object_box[3])


def test_regions_show_what_their_features_show(tiny_world):
  shows = {"object": 0, "background": 0, "mix": 0}
  for entry in load_boxes(tiny_world, "vqa").values():
    for box, region in zip(entry.boxes, entry.regions):
      shows[region["shows"]] += 1
      if region["object"] is not None:
        obj = entry.objects[region["object"]]
        assert region["class"] == obj["class"]
        assert region["attributes"] == obj["attributes"]
        assert _covered(box, obj["box"]) > 0.5  # the region holds its object
      else:
        assert "class" not in region
  assert min(shows.values()) > 0, shows


def test_genome_regions_are_their_objects(tiny_world):
  records = {}
  for split in ("train", "val", "test"):
    with open(os.path.join(tiny_world, "recognition", f"{split}.jsonl")) as f:
      for line in f:
        r = json.loads(line)
        records[(r["image_id"], r["region"])] = r
  for entry in load_boxes(tiny_world, "genome").values():
    for r, region in enumerate(entry.regions):
      assert region["object"] == r and region["shows"] in ("object", "mix")
      rec = records[(entry.image_id, r)]
      assert set(rec["attributes"]) <= set(region["attributes"])


def test_pictures_have_the_layout_and_the_colours(tiny_world):
  entries = load_boxes(tiny_world, "vqa")
  checked = 0
  for entry in list(entries.values())[:20]:
    assert entry.file is not None and entry.file.endswith(f"{entry.image_id}.png")
    with Image.open(entry.file) as im:
      assert im.format == "PNG" and im.size == (entry.width, entry.height)
      pixels = np.asarray(im.convert("RGB"))
    # The smallest object is drawn last (names aside): most of its box has its colour.
    obj = min(entry.objects, key=lambda o: o["box"][2] * o["box"][3])
    colors = [a for a in obj["attributes"] if a in picture.COLOR_RGB]
    x, y, w, h = (int(round(v)) for v in obj["box"])
    if colors and w > 10 and h > 10:
      inside = pixels[y + 2:y + h - 2, x + 2:x + w - 2].reshape(-1, 3)
      share = np.mean(np.all(inside == picture.COLOR_RGB[colors[0]], axis=1))
      assert share > 0.4, (entry.image_id, obj, share)
      checked += 1
  assert checked > 0


def test_layout_boxes_follow_the_mix():
  rng = np.random.default_rng(0)
  objects = np.array([[10.0, 10.0, 40.0, 40.0], [200.0, 150.0, 60.0, 50.0]])
  pure = layout.region_boxes([0], [-1], [0.0], objects, rng, 320, 240)[0]
  mixed = layout.region_boxes([0], [1], [0.9], objects, rng, 320, 240)[0]
  assert _covered(pure, objects[0]) > 0.8 and _covered(pure, objects[1]) == 0
  assert _covered(mixed, objects[1]) > 0.3  # stretched over the partner
  lay = layout.Layout(320, 240, objects, np.stack([pure, mixed]), np.array([0, 0]),
                      np.array([-1, 1]), np.array([0.0, 0.9]))
  assert [lay.shows(0), lay.shows(1)] == ["object", "mix"]


def test_load_boxes_errors(tmp_path):
  with pytest.raises(DataError, match="boxes file not found"):
    load_boxes(str(tmp_path), "vqa")
  (tmp_path / "boxes").mkdir()
  path = tmp_path / "boxes" / "vqa.jsonl-00000-of-00001"
  path.write_text('{"image_id": 1, "width": 10, "height": 10, "boxes": [[0, 0, 0, 5]]}\n')
  with pytest.raises(DataError, match="vqa.jsonl-00000-of-00001: line 1: a box has no area"):
    load_boxes(str(tmp_path), "vqa")
  path.write_text('{"image_id": 1, "width": 10, "height": 10, "boxes": [[0, 0, 5, 5]]}\n')
  assert load_boxes(str(tmp_path), "vqa")[1].file is None
  with pytest.raises(DataError, match=r"no boxes for 1 image\(s\), e.g. \[2\]"):
    load_boxes(str(tmp_path), "vqa", image_ids=[1, 2])


def test_grounding_records_name_the_asked_objects(tiny_world):
  boxes = load_boxes(tiny_world, "vqa")
  questions = {}
  with open(os.path.join(tiny_world, "vqa", "test.jsonl")) as f:
    for line in f:
      q = json.loads(line)
      questions[q["question_id"]] = q
  templates = set()
  with open(os.path.join(tiny_world, "vqa", "test_grounding.jsonl")) as f:
    lines = [json.loads(line) for line in f]
  assert sorted(g["question_id"] for g in lines) == sorted(questions)
  for g in lines:
    q, entry = questions[g["question_id"]], boxes[g["image_id"]]
    templates.add(g["template"])
    if g["asks_about"] is None:
      assert g["template"] in ("exists", "is_this") and g["objects"] == []
      continue
    assert g["objects"] and all(
        entry.objects[i]["class"] == g["asks_about"] for i in g["objects"])
    assert g["objects"] == [i for i, o in enumerate(entry.objects)
                            if o["class"] == g["asks_about"]]
    if g["template"] == "this":
      assert 0 in g["objects"] and q["answer"] in (g["asks_about"], *q["answers"])
    elif g["template"] in ("color", "material", "doing", "on", "attribute"):
      assert g["asks_about"] in q["question"]
  assert len(templates) > 4
