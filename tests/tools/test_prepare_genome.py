"""tools.prepare_genome on small Visual Genome files (v1.0 and v1.2 shapes)."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

from svlr_tf.runtime.errors import DataError
from tools import prepare_genome

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _jpeg(path, seed, size=(40, 50)):
  rng = np.random.default_rng(seed)
  Image.fromarray(rng.integers(0, 255, size + (3,), dtype=np.uint8)).save(path)


def _obj(object_id, x, y, w, h, names, synsets=None, attributes=None, v10=False):
  if v10:
    o = {"id": object_id, "x": x, "y": y, "w": w, "h": h, "object_names": names}
  else:
    o = {"object_id": object_id, "x": x, "y": y, "w": w, "h": h, "names": names}
    if synsets is not None:
      o["synsets"] = synsets
  if attributes is not None:
    o["attributes"] = attributes
  return o


# image -> objects: (id, box, names, synsets, attributes)
_ANNOTATIONS = {
    1: [(11, (2, 2, 20, 30), ["Man"], ["man.n.01"], ["standing", "Tall"]),
        (12, (30, 10, 40, 40), ["trees"], ["tree.n.01"], ["green"]),  # clipped
        (13, (5, 5, 0, 10), ["man"], ["man.n.01"], None),             # zero area
        (11, (2, 2, 20, 30), ["man"], ["man.n.01"], None),            # duplicate
        (14, (1, 1, 5, 5), [], [], ["red"])],                          # no name
    2: [(21, (0, 0, 10, 10), ["dog"], ["dog.n.01"], ["white"]),
        (22, (10, 0, 10, 10), ["café"], [], None),
        (23, (0, 20, 10, 10), ["person"], ["person.n.01"], ["happy"])],
    3: [(31, (0, 0, 49, 39), ["man"], ["man.n.01"], ["tall"]),
        (32, (5, 5, 5, 5), ["Dogs"], ["dog.n.01"], ["white", "small"])],
    4: [(41, (1, 1, 8, 8), ["man"], ["man.n.01"], ["standing"]),
        (42, (1, 1, 8, 8), ["zebra"], ["zebra.n.01"], None)],
    5: [(51, (3, 3, 9, 9), ["dog"], ["dog.n.01"], ["white"])],  # size from file
    6: [(61, (0, 0, 10, 10), ["man"], ["man.n.01"], ["tall"])],  # = a COCO image
}


def write_genome(root, v10=False):
  """Writes images and Genome JSONs; returns (genome_dir, genome_images, coco)."""
  images, coco = root / "VG_100K", root / "train2014"
  images.mkdir(parents=True)
  coco.mkdir()
  for i in _ANNOTATIONS:
    _jpeg(images / f"{i}.jpg", seed=i)
  shutil.copy(images / "6.jpg", coco / "COCO_train2014_000000000099.jpg")
  _jpeg(coco / "COCO_train2014_000000000100.jpg", seed=100)
  id_key = "id" if v10 else "image_id"
  image_data = [{id_key: i, "width": 50, "height": 40, "coco_id": None,
                 "url": f"https://x/VG_100K/{i}.jpg"} for i in _ANNOTATIONS if i != 5]
  image_data.append({id_key: 5, "width": None, "coco_id": None})
  image_data.append({id_key: None})
  objects, attributes = [], []
  for i, objs in _ANNOTATIONS.items():
    objects.append({id_key: i, "objects": [
        _obj(o, *box, names, synsets, v10=v10) for o, box, names, synsets, _ in objs]})
    if v10:
      attributes.append({"id": i, "attributes": [
          {"object": {"id": o, "x": box[0], "y": box[1], "w": box[2], "h": box[3],
                      "name": names[0] if names else None}, "attribute": attrs}
          for o, box, names, _, attrs in objs if attrs]})
    else:
      attributes.append({"image_id": i, "attributes": [
          _obj(o, *box, names, synsets, attrs) for o, box, names, synsets, attrs in objs]})
  for name, data in (("image_data.json", image_data), ("objects.json", objects),
                     ("attributes.json", attributes),
                     ("attribute_synsets.json", {"white": "white.a.01",
                                                 "tall": "tall.a.01"})):
    (root / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
  return root, images, coco


def _run(root, data_dir, images, coco, **kwargs):
  return prepare_genome.prepare_genome(
      str(data_dir), str(root / "objects.json"), str(root / "attributes.json"),
      str(root / "image_data.json"), str(root / "attribute_synsets.json"),
      genome_image_dirs=[str(images)], vqa_image_dirs=[str(coco)], **kwargs)


def _read(path):
  return [json.loads(l) for l in open(path, encoding="utf-8")]


@pytest.mark.parametrize("v10", [False, True])
def test_prepare_genome(tmp_path, v10):
  root, images, coco = write_genome(tmp_path / "raw", v10=v10)
  data_dir = tmp_path / "prepared"
  sizes = _run(root, data_dir, images, coco, num_objects=4, num_attributes=3)
  classes = json.load(open(data_dir / "classes.json", encoding="utf-8"))
  # dog: 3, man: 3 (images 1, 3, 4; not 6: dropped by md5); ties by name.
  assert classes["objects"] == ["dog", "man", "café", "person"]
  assert classes["attributes"] == ["white", "standing", "tall"]
  assert classes["object_hypernyms"]["man"] == ["person"]
  assert "dog" not in classes["object_hypernyms"]
  assert classes["attribute_synsets"] == {"white": "white.a.01", "tall": "tall.a.01"}

  records = sum((_read(data_dir / "recognition" / f"{s}.jsonl")
                 for s in ("train", "val", "test")), [])
  assert sum(sizes.values()) == len(records) == 8
  boxes = {r["image_id"]: r for r in _read(data_dir / "boxes" / "genome.jsonl")}
  assert sorted(boxes) == [1, 2, 3, 4, 5]  # 6 is a VQA image
  assert boxes[1]["boxes"] == [[2, 2, 20, 30]]  # trees: not a class; zero/dup/no name dropped
  assert boxes[1]["file"].endswith("1.jpg") and boxes[5]["width"] == 50
  by_key = {(r["image_id"], r["region"]): r for r in records}
  assert set(by_key) == {(i, k) for i, b in boxes.items() for k in range(len(b["boxes"]))}
  assert by_key[(1, 0)]["objects"] == ["man"]
  assert by_key[(1, 0)]["attributes"] == ["standing", "tall"]
  assert by_key[(2, 1)]["objects"] == ["café"] and by_key[(2, 1)]["attributes"] == []
  assert by_key[(3, 1)] == {"image_id": 3, "region": 1, "objects": ["dog"],
                            "attributes": ["white"]}
  assert boxes[3]["boxes"][0] == [0, 0, 49, 39]
  # A second run keeps the outputs (restartable) and reuses the md5 cache.
  assert _run(root, data_dir, images, coco) == {}
  assert os.path.getsize(data_dir / "work" / "md5_cache.tsv") > 0


def test_clipping_outside_boxes():
  counts = prepare_genome.Counts()
  objs = [{"id": 1, "box": (40.0, 30.0, 30.0, 30.0), "names": ["Cup"], "synsets": [],
           "attributes": []},
          {"id": 2, "box": (60.0, 5.0, 5.0, 5.0), "names": ["cup"], "synsets": [],
           "attributes": []}]
  out = prepare_genome.clean_objects(objs, (50, 40), counts)
  assert [o["box"] for o in out] == [[40, 30, 10, 10]]
  assert counts["zero-area boxes (after clipping)"] == 1


def test_split_is_85_5_10_and_deterministic():
  splits = prepare_genome.split_images(range(1000))
  assert [len(splits[s]) for s in ("train", "val", "test")] == [850, 50, 100]
  assert prepare_genome.split_images(reversed(range(1000))) == splits
  assert set(splits["train"]).isdisjoint(splits["test"])


def test_malformed_file_leaves_no_output(tmp_path):
  root, images, coco = write_genome(tmp_path / "raw")
  (root / "objects.json").write_text('[{"image_id": 1, "objects": [', encoding="utf-8")
  data_dir = tmp_path / "prepared"
  with pytest.raises(DataError, match="objects.json: malformed JSON"):
    _run(root, data_dir, images, coco)
  assert not (data_dir / "classes.json").exists()
  assert not (data_dir / "recognition").exists()

  (root / "objects.json").write_text('{"image_id": 1}', encoding="utf-8")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  result = subprocess.run(
      [sys.executable, "-m", "tools.prepare_genome", "--genome_dir", str(root),
       "--data_dir", str(data_dir)],
      capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1] == (
      f"error: {root / 'objects.json'}: expected a JSON list of images")


class _MeanColour:
  """Stands in for ResNet (dim 3): the mean RGB of each crop."""

  dim, crop_size, batch_size = 3, 8, 4

  def __call__(self, crops):
    return crops.astype(np.float32).mean(axis=(1, 2))


def test_genome_boxes_to_features_to_loadable_recognition(tmp_path):
  from svlr_tf.data.prepared import PreparedData
  from tools import extract_features, prepare_vocab
  root, images, coco = write_genome(tmp_path / "raw")
  data_dir = tmp_path / "prepared"
  _run(root, data_dir, images, coco, num_objects=4, num_attributes=3)
  records = extract_features.read_boxes([str(data_dir / "boxes" / "genome.jsonl")])
  extract_features.extract_features(records, str(data_dir / "features" / "genome"),
                                    None, extractor=_MeanColour())
  glove = tmp_path / "glove.txt"
  glove.write_text("man 1 0\ndog 0 1\n", encoding="utf-8")
  prepare_vocab.prepare_vocab(str(data_dir), str(glove), regions_per_image=100)
  data = PreparedData(str(data_dir))
  assert data.feature_dim == 3 and data.meta["word_vectors"]
  store = data.feature_store("genome")
  total = 0
  for split in ("train", "val", "test"):
    recognition = data.load_recognition(split)
    total += len(recognition)
    if len(recognition):
      rows = store.gather_rows(recognition.image_ids, recognition.rows)
      assert rows.shape == (len(recognition), 3)
  assert total == 8
  assert store.count(2) == 3 and store.count(1) == 1


def _write_v10(root, annotations, attribute_entries):
  """Visual Genome v1.0 layout: image ``id``, object ``id`` / ``object_names``,
  attributes.json entries ``{"object": {...}, "attribute": [...]}``."""
  root.mkdir(parents=True, exist_ok=True)
  image_data = [{"id": i, "width": 100, "height": 80, "coco_id": None}
                for i in annotations]
  objects = [{"id": i, "objects": [
      {"id": o, "x": b[0], "y": b[1], "w": b[2], "h": b[3], "object_names": names}
      for o, b, names in objs]} for i, objs in annotations.items()]
  attributes = [{"id": i, "attributes": [
      {"object": {"id": o, "x": b[0], "y": b[1], "w": b[2], "h": b[3], "name": name},
       "attribute": attrs} for o, b, name, attrs in entries]}
      for i, entries in attribute_entries.items()]
  for name, data in (("image_data.json", image_data), ("objects.json", objects),
                     ("attributes.json", attributes)):
    (root / name).write_text(json.dumps(data), encoding="utf-8")
  return [str(root / n) for n in ("objects.json", "attributes.json", "image_data.json")]


def test_v10_repeated_boxes_are_one_region_with_merged_attributes(tmp_path):
  box, car = (10, 10, 30, 40), (50, 20, 20, 20)
  annotations = {
      1: [(71, box, ["tree"]), (72, box, ["tree"]), (73, box, ["tree"]),
          (74, car, ["car"])],
      2: [(81, box, ["tree"])], 3: [(91, car, ["car"])]}
  attribute_entries = {
      1: [(71, box, "tree", ["green"]), (72, box, "tree", ["green"]),
          (73, box, "tree", ["tall"]),
          (999, car, "car", ["red"])],  # an id of no object, the box + name of 74
      2: [(81, box, "tree", ["tall"])], 3: [(91, car, "car", ["blue"])]}
  paths = _write_v10(tmp_path / "raw", annotations, attribute_entries)
  data_dir = tmp_path / "prepared"
  prepare_genome.prepare_genome(str(data_dir), *paths, num_objects=5,
                                num_attributes=5)
  records = {(r["image_id"], r["region"]): r for s in ("train", "val", "test")
             for r in _read(data_dir / "recognition" / f"{s}.jsonl")}
  boxes = {r["image_id"]: r["boxes"] for r in _read(data_dir / "boxes" / "genome.jsonl")}
  assert boxes[1] == [list(box), list(car)]  # one region per box
  assert records[(1, 0)]["objects"] == ["tree"]
  assert records[(1, 0)]["attributes"] == ["green", "tall"]
  assert records[(1, 1)]["objects"] == ["car"] and records[(1, 1)]["attributes"] == ["red"]
  assert len(records) == 4


@pytest.mark.parametrize("n_images", [3, 4, 5, 7])
def test_small_genome_sets_get_every_split(tmp_path, n_images):
  annotations = {i: [(10 * i, (1, 1, 20, 20), ["dog"])] for i in range(1, n_images + 1)}
  paths = _write_v10(tmp_path / "raw", annotations, {})
  data_dir = tmp_path / "prepared"
  sizes = prepare_genome.prepare_genome(str(data_dir), *paths)
  assert all(sizes[s] >= 1 for s in ("train", "val", "test")), sizes
  assert sum(sizes.values()) == n_images


def test_too_few_genome_images_is_an_error_naming_the_minimum(tmp_path):
  paths = _write_v10(tmp_path / "raw", {1: [(1, (1, 1, 9, 9), ["dog"])],
                                        2: [(2, (1, 1, 9, 9), ["cat"])]}, {})
  with pytest.raises(DataError, match=r"objects.json: 2 Genome images .* at least 3"):
    prepare_genome.prepare_genome(str(tmp_path / "p"), *paths)
  assert not os.path.exists(tmp_path / "p" / "recognition")


def test_streamed_annotations_are_those_of_a_whole_file_load(tmp_path):
  """objects.json / attributes.json are read one image at a time (issue 25): the
  parsed objects are those of the whole-file json.load, in order."""
  from tools.genome import annotations
  root, _, _ = write_genome(tmp_path / "raw")
  for name in ("objects.json", "attributes.json"):
    path = str(root / name)
    whole = {}
    for entry in json.load(open(path)):
      items = entry.get("objects", entry.get("attributes")) or []
      whole.setdefault(annotations._image_id(entry), []).extend(
          p for p in map(annotations._parse_object, items) if p is not None)
    assert annotations.read_annotations(path, annotations.Counts()) == whole
  (root / "objects.json").write_text('[{"image_id": 1, "objects": []}\n {"image_id": 2}]')
  with pytest.raises(DataError, match=r"objects.json: malformed JSON at byte 33: "
                     r"expected ',' or '\]'"):
    annotations.read_annotations(str(root / "objects.json"), annotations.Counts())


def test_merging_attributes_json_as_it_is_read_is_merging_it_whole(tmp_path):
  """merge_attributes_file (in place, one image entry at a time) gives what
  merge_attributes of the whole file gives, an image listed twice included."""
  from tools.genome import annotations
  for v10 in (False, True):
    root, _, _ = write_genome(tmp_path / f"raw{v10}", v10=v10)
    entries = json.load(open(root / "attributes.json"))
    entries.append(dict(entries[0]))  # the first image again: merged after the rest
    (root / "attributes.json").write_text(json.dumps(entries))
    objects_path = str(root / "objects.json")
    counts_whole, counts_streamed = annotations.Counts(), annotations.Counts()
    whole = annotations.merge_attributes(
        annotations.read_annotations(objects_path, counts_whole),
        annotations.read_annotations(str(root / "attributes.json"), counts_whole),
        counts_whole)
    streamed = annotations.merge_attributes_file(
        annotations.read_annotations(objects_path, counts_streamed),
        str(root / "attributes.json"), counts_streamed)
    assert streamed == whole and list(streamed) == list(whole)
    assert counts_streamed == counts_whole
    assert any(len(o["attributes"]) > 0 for objs in whole.values() for o in objs)
