r"""Visual Genome -> the prepared format's recognition data (Sec. 3.2, Sec. 5.1).

    python -m tools.prepare_genome --genome_dir raw \
        --genome_image_dirs raw/VG_100K,raw/VG_100K_2 \
        --vqa_image_dirs raw/train2014,raw/val2014 --data_dir prepared

Reads ``image_data.json``, ``objects.json``, ``attributes.json`` and (optional)
``attribute_synsets.json`` / ``object_synsets.json`` from ``--genome_dir`` (or the
per-file flags). Both the v1.0 field names (image ``id``, object ``id``,
``object_names``/``name``, v1.0 ``attributes.json`` entries ``{"object": {...},
"attribute": [...]}``) and the v1.2 / v1.4 names (``image_id``, ``object_id``,
``names``, ``synsets``, ``attributes``) are read.

Steps (the paper's recipe, Sec. 5.1):

1. Drop Genome images that are also VQA (COCO) images: md5 of the image bytes
   (``--genome_image_dirs`` against ``--vqa_image_dirs``; digests are cached in
   ``<data_dir>/work/md5_cache.tsv`` so a restart does not reread 35 GB). Without
   image directories the ``coco_id`` field of image_data.json is used instead
   (the log says so).
2. Clean each object: box clipped to the image (``width``/``height`` from
   image_data, else the image file), zero-area boxes, objects without a box or a
   name, and repeated object ids are dropped (all counted in the log). Objects
   with the same clipped box and the same names are one region, their
   attributes united (v1.0 repeats boxes; counted in the log), and an
   attributes.json entry whose id matches no object goes to the object with its
   box and names. Names
   and attributes are tokenized (lowercase, punctuation dropped) and their last
   word lemmatized (noun / adjective, WordNet lemmatizer): "Tennis Rackets" ->
   "tennis racket".
3. Classes: the ``--num_objects`` most frequent object names and
   ``--num_attributes`` most frequent attribute names (paper: 1000 + 1000),
   counted once per object over the kept images, ties by name.
4. Hypernyms of each object class (the H_j of Eq. 1): the synset of the name is
   its most frequent ``synsets`` entry in the annotations (then
   ``object_synsets.json``), else the first WordNet noun synset; its hypernym
   closure's lemma names that are object classes. ``attribute_synsets``: the
   most frequent synset of each attribute class from attribute_synsets.json.
5. Regions: an object is a region when at least one of its names is an object
   class (attributes outside the classes are dropped; a region may have none).
   Images without regions are dropped.
6. Split by image, deterministically: images are ordered by
   ``md5(str(image_id))`` and the first 85 % are train, the next 5 % val, the
   rest test (counts rounded).

Writes ``classes.json``, ``recognition/{train,val,test}.jsonl`` (via
``PreparedWriter``) and ``boxes/genome.jsonl``: one line per image, ``{"image_id",
"file", "width", "height", "boxes": [[x, y, w, h], ...]}``, boxes in the order of
the records' ``region`` field; ``tools.extract_features`` turns it into
``features/genome``. Outputs that exist are kept unless ``--overwrite``.
"""

from __future__ import annotations

import collections
import hashlib
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from absl import flags, logging

from svlr_tf.data.prepared import RECOGNITION_SPLITS, PreparedWriter
from svlr_tf.runtime.errors import DataError
from svlr_tf import text
from tools._common import (Progress, atomic_write_lines, clip_boxes,
                            list_images, read_json, run_main)

FLAGS = flags.FLAGS
SPLIT_FRACTIONS = (0.85, 0.05, 0.10)


# -- names -----------------------------------------------------------------------


def normalize_name(name: Any, pos: str = "n") -> str:
  """Tokenized, lowercased name with its last word lemmatized ("" if none)."""
  if not isinstance(name, str):
    return ""
  tokens = text.tokenize(name)
  if not tokens:
    return ""
  tokens[-1] = text.lemmatize(tokens[-1], pos)
  return " ".join(tokens)


# -- reading the Genome files ----------------------------------------------------


class Counts(collections.Counter):
  """Named counters of what was dropped, logged at the end."""

  def log(self) -> None:
    for key in sorted(self):
      logging.info("  %s: %d", key, self[key])


def _image_id(entry: Dict[str, Any]) -> Optional[int]:
  for key in ("image_id", "id"):
    value = entry.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
      return int(value)
    if isinstance(value, str) and value.strip().isdigit():
      return int(value)
  return None


def _str_list(value: Any) -> List[str]:
  """A name / attribute field: a string, list of strings, or dicts with names."""
  if value is None:
    return []
  if isinstance(value, str):
    return [value]
  out = []
  if isinstance(value, list):
    for item in value:
      if isinstance(item, str):
        out.append(item)
      elif isinstance(item, dict):  # e.g. {"attribute": "red"} / {"name": ...}
        for key in ("attribute", "attributes", "name", "names"):
          out.extend(_str_list(item.get(key)))
  return out


def _parse_object(item: Any) -> Optional[Dict[str, Any]]:
  """One annotation (v1.0 or v1.2 fields) -> {id, box, names, synsets, attributes}."""
  if not isinstance(item, dict):
    return None
  attributes = _str_list(item.get("attributes"))
  if isinstance(item.get("object"), dict):  # v1.0 attributes.json entry
    attributes += _str_list(item.get("attribute"))
    item = dict(item["object"], attributes=attributes)
  else:
    attributes += _str_list(item.get("attribute"))
  object_id = item.get("object_id", item.get("id"))
  if not isinstance(object_id, (int, float)) or isinstance(object_id, bool):
    object_id = None
  names = (_str_list(item.get("names")) or _str_list(item.get("object_names"))
           or _str_list(item.get("name")))
  box = None
  try:
    box = tuple(float(item[k]) for k in ("x", "y", "w", "h"))
  except (KeyError, TypeError, ValueError):
    pass
  return {"id": None if object_id is None else int(object_id), "box": box,
          "names": names, "synsets": _str_list(item.get("synsets")),
          "attributes": attributes}


def read_annotations(path: str, counts: Counts) -> Dict[int, List[Dict[str, Any]]]:
  """objects.json / attributes.json -> {image_id: [parsed objects]}."""
  data = read_json(path)
  if not isinstance(data, list):
    raise DataError(path, "expected a JSON list of images")
  images: Dict[int, List[Dict[str, Any]]] = {}
  for i, entry in enumerate(data):
    if not isinstance(entry, dict):
      raise DataError(path, f"entry {i} is not a JSON object")
    image_id = _image_id(entry)
    if image_id is None:
      counts["images without id"] += 1
      continue
    items = entry.get("objects")
    if items is None:
      items = entry.get("attributes")
    if items is None:
      items = []
    if not isinstance(items, list):
      raise DataError(path, f"image {image_id}: 'objects' is not a list")
    parsed = [p for p in (_parse_object(item) for item in items) if p is not None]
    images.setdefault(image_id, []).extend(parsed)
  return images


def merge_attributes(objects: Dict[int, List[dict]],
                     attributes: Dict[int, List[dict]],
                     counts: Optional[Counts] = None) -> Dict[int, List[dict]]:
  """Adds attributes.json's attributes to objects.json's objects.

  An attribute entry goes to the object with its id; when its id matches no
  object (most unmatched v1.0 entries), to the object with the same box and
  names; attribute-file objects matching neither are added as objects.
  """
  counts = counts if counts is not None else Counts()
  merged = {i: [dict(o) for o in objs] for i, objs in objects.items()}
  for image_id, items in attributes.items():
    targets = merged.setdefault(image_id, [])
    by_id, by_box = {}, {}
    for obj in targets:
      if obj["id"] is not None:
        by_id.setdefault(obj["id"], obj)
      by_box.setdefault(_box_names_key(obj), obj)
    for item in items:
      target = by_id.get(item["id"]) if item["id"] is not None else None
      if target is None:
        target = by_box.get(_box_names_key(item))
        if target is not None and item["id"] is not None:
          counts["attribute entries matched by box and names (id matched no object)"] += 1
      if target is None:
        target = dict(item, attributes=[])
        targets.append(target)
        if item["id"] is not None:
          by_id[item["id"]] = target
        by_box.setdefault(_box_names_key(item), target)
      target["attributes"] = list(target["attributes"]) + list(item["attributes"])
      if not target["synsets"]:
        target["synsets"] = item["synsets"]
  return merged


def _box_names_key(obj: dict):
  return (obj["box"], tuple(sorted(str(n).strip().lower() for n in obj["names"])))


def read_image_data(path: Optional[str], counts: Counts) -> Dict[int, dict]:
  """image_data.json -> {image_id: entry} (first entry wins)."""
  if not path:
    return {}
  data = read_json(path)
  if not isinstance(data, list):
    raise DataError(path, "expected a JSON list of images")
  out = {}
  for i, entry in enumerate(data):
    if not isinstance(entry, dict):
      raise DataError(path, f"entry {i} is not a JSON object")
    image_id = _image_id(entry)
    if image_id is None:
      counts["image_data entries without id"] += 1
    elif image_id in out:
      counts["duplicate image_data ids"] += 1
    else:
      out[image_id] = entry
  return out


def read_synset_map(path: Optional[str]) -> Dict[str, str]:
  """attribute_synsets.json / object_synsets.json: {string: synset}."""
  if not path:
    return {}
  data = read_json(path)
  if not isinstance(data, dict):
    raise DataError(path, "expected a JSON object mapping strings to synsets")
  return {str(k).strip().lower(): v for k, v in data.items() if isinstance(v, str)}


# -- cleaning --------------------------------------------------------------------


def _positive_int(value) -> Optional[int]:
  return int(value) if isinstance(value, (int, float)) and value > 0 else None


def image_size(image_id: int, image_data: Dict[int, dict],
               image_paths: Dict[int, str]) -> Optional[Tuple[int, int]]:
  """(width, height) from image_data, else from the image file's header."""
  entry = image_data.get(image_id, {})
  width, height = _positive_int(entry.get("width")), _positive_int(entry.get("height"))
  if width and height:
    return width, height
  path = image_paths.get(image_id)
  if path:
    from PIL import Image
    try:
      with Image.open(path) as image:
        return image.size
    except OSError:
      raise DataError(path, "cannot read the image size") from None
  return None


def clean_objects(objects: List[dict], size: Optional[Tuple[int, int]],
                  counts: Counts) -> List[dict]:
  """Clipped boxes, normalized names / attributes; drops unusable objects.

  Objects with the same (clipped) box and the same names are one region
  (Visual Genome v1.0 repeats a box as several objects, often with different
  attribute lists): they are merged, their attributes united.
  """
  out, seen, by_region = [], set(), {}
  for obj in objects:
    if obj["id"] is not None:
      if obj["id"] in seen:
        counts["duplicate object ids"] += 1
        continue
      seen.add(obj["id"])
    if obj["box"] is None:
      counts["objects without a box"] += 1
      continue
    x, y, w, h = obj["box"]
    width, height = size if size else (x + max(w, 0), y + max(h, 0))
    boxes = clip_boxes([[x, y, w, h]], width, height)
    if not boxes:
      counts["zero-area boxes (after clipping)"] += 1
      continue
    names = _unique(normalize_name(n, "n") for n in obj["names"])
    if not names:
      counts["objects without a name"] += 1
      continue
    attributes = _unique(normalize_name(a, "a") for a in obj["attributes"])
    key = (tuple(boxes[0]), tuple(sorted(names)))
    region = by_region.get(key)
    if region is not None:
      counts["objects merged into a region with the same box and names"] += 1
      region["attributes"] = _unique(region["attributes"] + attributes)
      region["raw_attributes"] = region["raw_attributes"] + list(obj["attributes"])
      continue
    region = {"box": boxes[0], "names": names,
              "raw_names": obj["names"], "synsets": obj["synsets"],
              "attributes": attributes, "raw_attributes": list(obj["attributes"])}
    by_region[key] = region
    out.append(region)
  return out


def _unique(items: Iterable[str]) -> List[str]:
  out = []
  for item in items:
    if item and item not in out:
      out.append(item)
  return out


# -- md5 overlap -----------------------------------------------------------------


def file_md5s(paths: Sequence[str], cache_path: Optional[str] = None) -> Dict[str, str]:
  """md5 of each file; reuses ``cache_path`` (path, size, mtime -> md5) rows."""
  cache = {}
  if cache_path and os.path.exists(cache_path):
    with open(cache_path, encoding="utf-8") as f:
      for line in f:
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 4:
          cache[(parts[0], parts[1], parts[2])] = parts[3]
  out = {}
  progress = Progress("md5", total=len(paths), unit="images")
  new_rows = []
  for path in paths:
    stat = os.stat(path)
    key = (os.path.abspath(path), str(stat.st_size), str(int(stat.st_mtime)))
    digest = cache.get(key)
    if digest is None:
      with open(path, "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()
      new_rows.append("\t".join(key + (digest,)))
      if cache_path and len(new_rows) >= 5000:
        _append_lines(cache_path, new_rows)
    out[path] = digest
    progress.update()
  if cache_path:
    _append_lines(cache_path, new_rows)
  progress.done()
  return out


def _append_lines(path: str, rows: List[str]) -> None:
  if rows:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
      f.write("".join(row + "\n" for row in rows))
    rows.clear()


def vqa_overlap(genome_paths: Dict[int, str], vqa_image_dirs: Sequence[str],
                cache_path: Optional[str]) -> set:
  """Genome image ids whose bytes (md5) equal those of a VQA image."""
  vqa_paths = sorted(list_images(vqa_image_dirs).values())
  vqa = set(file_md5s(vqa_paths, cache_path).values())
  genome = file_md5s(sorted(genome_paths.values()), cache_path)
  return {i for i, p in genome_paths.items() if genome[p] in vqa}


# -- classes ---------------------------------------------------------------------


def most_frequent(counter: collections.Counter, n: int) -> List[str]:
  """The n most frequent keys, ties broken by name (deterministic)."""
  return [k for k, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def object_hypernyms(classes: Sequence[str],
                     synset_votes: Dict[str, collections.Counter]) -> Dict[str, List[str]]:
  """{class: [hypernym names that are classes]} from WordNet (H_j of Eq. 1)."""
  wn = text.wordnet()
  if wn is None:
    logging.warning("WordNet unavailable: classes.json gets no hypernyms")
    return {}
  known = set(classes)
  out = {}
  for name in classes:
    synset = None
    for synset_name, _ in synset_votes.get(name, collections.Counter()).most_common():
      try:
        synset = wn.synset(synset_name)
        break
      except Exception:  # unknown / malformed synset name in the annotations
        continue
    if synset is None:
      candidates = wn.synsets(name.replace(" ", "_"), "n")
      synset = candidates[0] if candidates else None
    if synset is None:
      continue
    closure = synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())
    hypernyms = []
    for hypernym in closure:
      for lemma in hypernym.lemma_names():
        word = lemma.replace("_", " ").lower()
        if word in known and word != name and word not in hypernyms:
          hypernyms.append(word)
    if hypernyms:
      out[name] = hypernyms
  return out


# -- split -----------------------------------------------------------------------


MIN_IMAGES = len(RECOGNITION_SPLITS)


def split_images(image_ids: Iterable[int],
                 fractions: Sequence[float] = SPLIT_FRACTIONS) -> Dict[str, List[int]]:
  """85 / 5 / 10 by image: order by md5(str(id)), cut at rounded counts.

  Every split gets at least one image (taken from train when rounding leaves
  val or test empty); fewer than MIN_IMAGES (3) images is a DataError.
  """
  ordered = sorted(image_ids, key=lambda i: (hashlib.md5(str(i).encode()).hexdigest(), i))
  n = len(ordered)
  if n < MIN_IMAGES:
    raise DataError(None, f"{n} Genome images with regions: the train / val / test "
                    f"split needs at least {MIN_IMAGES}")
  n_train = int(round(fractions[0] * n))
  n_val = int(round((fractions[0] + fractions[1]) * n)) - n_train
  n_test = n - n_train - n_val
  n_val, n_test = max(n_val, 1), max(n_test, 1)
  n_train = n - n_val - n_test
  return {"train": sorted(ordered[:n_train]),
          "val": sorted(ordered[n_train:n_train + n_val]),
          "test": sorted(ordered[n_train + n_val:])}


# -- the whole tool --------------------------------------------------------------


def prepare_genome(data_dir: str, objects_path: Optional[str],
                   attributes_path: Optional[str], image_data_path: Optional[str],
                   attribute_synsets_path: Optional[str] = None,
                   object_synsets_path: Optional[str] = None,
                   genome_image_dirs: Sequence[str] = (),
                   vqa_image_dirs: Sequence[str] = (),
                   num_objects: int = 1000, num_attributes: int = 1000,
                   overwrite: bool = False) -> Dict[str, int]:
  """Writes classes.json, recognition/*.jsonl and boxes/genome.jsonl.

  Returns region counts per split.
  """
  outputs = [os.path.join(data_dir, "classes.json"),
             os.path.join(data_dir, "boxes", "genome.jsonl")] + [
                 os.path.join(data_dir, "recognition", f"{s}.jsonl")
                 for s in RECOGNITION_SPLITS]
  if not overwrite and all(os.path.exists(p) for p in outputs):
    logging.info("Genome outputs exist in %s (use --overwrite to redo)", data_dir)
    return {}
  if not objects_path and not attributes_path:
    raise DataError(None, "need objects.json and/or attributes.json")
  counts = Counts()
  image_data = read_image_data(image_data_path, counts)
  objects = read_annotations(objects_path, counts) if objects_path else {}
  if attributes_path:
    objects = merge_attributes(objects, read_annotations(attributes_path, counts),
                               counts)
  attribute_synsets = read_synset_map(attribute_synsets_path)
  name_synsets = read_synset_map(object_synsets_path)
  logging.info("%d annotated images", len(objects))

  image_paths = list_images(genome_image_dirs) if genome_image_dirs else {}
  if genome_image_dirs:
    missing = [i for i in objects if i not in image_paths]
    if missing:
      counts["images without an image file (dropped)"] += len(missing)
      for i in missing:
        del objects[i]
  if vqa_image_dirs:
    if not genome_image_dirs:
      raise DataError(None, "--vqa_image_dirs needs --genome_image_dirs (md5 overlap)")
    cache = os.path.join(data_dir, "work", "md5_cache.tsv")
    overlap = vqa_overlap({i: image_paths[i] for i in objects}, vqa_image_dirs, cache)
    logging.info("md5 overlap with VQA images: %d Genome images dropped", len(overlap))
  else:
    overlap = {i for i in objects
               if image_data.get(i, {}).get("coco_id") not in (None, 0, "")}
    logging.info("No --vqa_image_dirs: dropping %d Genome images with a coco_id "
                 "(image_data.json) instead of the paper's md5 test", len(overlap))
  for i in overlap:
    objects.pop(i, None)

  cleaned: Dict[int, Tuple[Optional[Tuple[int, int]], List[dict]]] = {}
  progress = Progress("clean images", total=len(objects), unit="images")
  for image_id in sorted(objects):
    size = image_size(image_id, image_data, image_paths)
    cleaned[image_id] = (size, clean_objects(objects[image_id], size, counts))
    progress.update()
  progress.done()

  object_counts, attribute_counts = collections.Counter(), collections.Counter()
  synset_votes: Dict[str, collections.Counter] = collections.defaultdict(
      collections.Counter)
  attribute_votes: Dict[str, collections.Counter] = collections.defaultdict(
      collections.Counter)
  for _, objs in cleaned.values():
    for obj in objs:
      object_counts.update(obj["names"])
      attribute_counts.update(obj["attributes"])
      if len(obj["synsets"]) == len(obj["raw_names"]):  # v1.2: aligned lists
        pairs = zip(obj["raw_names"], obj["synsets"])
      elif len(obj["names"]) == 1 and obj["synsets"]:
        pairs = [(obj["raw_names"][0], obj["synsets"][0])]
      else:
        pairs = [(n, name_synsets.get(n.strip().lower())) for n in obj["raw_names"]]
      for raw, synset in pairs:
        if synset:
          synset_votes[normalize_name(raw, "n")][synset] += 1
      for raw in obj["raw_attributes"]:
        synset = attribute_synsets.get(str(raw).strip().lower())
        if synset:
          attribute_votes[normalize_name(raw, "a")][synset] += 1
  object_classes = most_frequent(object_counts, num_objects)
  attribute_classes = most_frequent(attribute_counts, num_attributes)
  if not object_classes:
    raise DataError(objects_path or attributes_path, "no usable objects")
  hypernyms = object_hypernyms(object_classes, synset_votes)
  class_synsets = {a: attribute_votes[a].most_common(1)[0][0]
                   for a in attribute_classes if attribute_votes.get(a)}

  object_set, attribute_set = set(object_classes), set(attribute_classes)
  regions: Dict[int, List[dict]] = {}
  for image_id, (size, objs) in cleaned.items():
    kept = []
    for obj in objs:
      names = [n for n in obj["names"] if n in object_set]
      if names:
        kept.append({"box": obj["box"], "objects": names,
                     "attributes": [a for a in obj["attributes"] if a in attribute_set]})
      else:
        counts["objects with no name among the classes"] += 1
    if kept:
      regions[image_id] = kept
  try:
    splits = split_images(regions)
  except DataError as err:
    raise DataError(objects_path or attributes_path, err.problem) from None

  writer = PreparedWriter(data_dir)
  sizes = {}
  for split in RECOGNITION_SPLITS:
    sizes[split] = writer.write_recognition(split, (
        {"image_id": image_id, "region": row, "objects": region["objects"],
         "attributes": region["attributes"]}
        for image_id in splits[split]
        for row, region in enumerate(regions[image_id])))

  def box_lines():
    for image_id in sorted(regions):
      size = cleaned[image_id][0]
      yield {"image_id": image_id, "file": image_paths.get(image_id),
             "width": size[0] if size else None, "height": size[1] if size else None,
             "boxes": [r["box"] for r in regions[image_id]]}

  atomic_write_lines(os.path.join(data_dir, "boxes", "genome.jsonl"), box_lines())
  writer.write_classes(object_classes, attribute_classes, hypernyms, class_synsets)
  logging.info("Genome: %d images, regions train/val/test = %d / %d / %d; "
               "%d object and %d attribute classes", len(regions), sizes["train"],
               sizes["val"], sizes["test"], len(object_classes),
               len(attribute_classes))
  logging.info("Dropped / skipped:")
  counts.log()
  return sizes


def main(argv):
  del argv
  if not FLAGS.data_dir:
    raise DataError(None, "--data_dir is required")

  def path(flag_value, name, required=False):
    if flag_value:
      return flag_value
    if FLAGS.genome_dir:
      candidate = os.path.join(FLAGS.genome_dir, name)
      if os.path.exists(candidate) or required:
        return candidate
    return None

  prepare_genome(
      FLAGS.data_dir,
      objects_path=path(FLAGS.objects, "objects.json"),
      attributes_path=path(FLAGS.attributes, "attributes.json"),
      image_data_path=path(FLAGS.image_data, "image_data.json"),
      attribute_synsets_path=path(FLAGS.attribute_synsets, "attribute_synsets.json"),
      object_synsets_path=path(FLAGS.object_synsets, "object_synsets.json"),
      genome_image_dirs=FLAGS.genome_image_dirs or (),
      vqa_image_dirs=FLAGS.vqa_image_dirs or (),
      num_objects=FLAGS.num_objects, num_attributes=FLAGS.num_attributes,
      overwrite=FLAGS.overwrite)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_string("data_dir", None, "Prepared data directory to write.")
  flags.DEFINE_string("genome_dir", None,
                      "Directory holding the Genome JSON files (default names).")
  flags.DEFINE_string("objects", None, "objects.json (overrides --genome_dir).")
  flags.DEFINE_string("attributes", None, "attributes.json (overrides --genome_dir).")
  flags.DEFINE_string("image_data", None, "image_data.json (overrides --genome_dir).")
  flags.DEFINE_string("attribute_synsets", None, "attribute_synsets.json (optional).")
  flags.DEFINE_string("object_synsets", None, "object_synsets.json (optional).")
  flags.DEFINE_list("genome_image_dirs", None, "Visual Genome image directories.")
  flags.DEFINE_list("vqa_image_dirs", None,
                    "COCO train2014 / val2014 directories (md5 overlap test).")
  flags.DEFINE_integer("num_objects", 1000, "Object classes |O| (paper: 1000).")
  flags.DEFINE_integer("num_attributes", 1000, "Attribute classes |T| (paper: 1000).")
  flags.DEFINE_boolean("overwrite", False, "Redo outputs that already exist.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
