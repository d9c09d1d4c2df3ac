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

This module is the tool (the steps in order, the flags); the jobs are in
``tools/genome/``: ``annotations`` (reading the files, names), ``cleaning``
(step 2), ``overlap`` (step 1), ``classes`` (steps 3-4 and the split).  Their
names stay importable from here.
"""

from __future__ import annotations

import collections
import os
from typing import Dict, List, Optional, Sequence, Tuple

from absl import flags, logging

from svlr_tf.data.prepared import RECOGNITION_SPLITS, PreparedWriter
from svlr_tf.runtime.errors import DataError
from tools._common import Progress, atomic_write_lines, list_images, run_main
from tools.genome.annotations import (Counts, merge_attributes,
                                      merge_attributes_file, normalize_name,
                                      read_annotations, read_image_data,
                                      read_synset_map)
from tools.genome.classes import (MIN_IMAGES, SPLIT_FRACTIONS, most_frequent,
                                  object_hypernyms, split_images)
from tools.genome.cleaning import clean_objects, image_size
from tools.genome.overlap import file_md5s, vqa_overlap

__all__ = ["Counts", "MIN_IMAGES", "SPLIT_FRACTIONS", "clean_objects", "file_md5s",
           "image_size", "merge_attributes", "merge_attributes_file",
           "most_frequent", "normalize_name", "object_hypernyms", "prepare_genome",
           "read_annotations",
           "read_image_data", "read_synset_map", "split_images", "vqa_overlap"]

FLAGS = flags.FLAGS


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
    objects = merge_attributes_file(objects, attributes_path, counts)
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
    # pop: each image's raw objects are dropped once cleaned (issue 25).
    cleaned[image_id] = (size, clean_objects(objects.pop(image_id), size, counts))
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
    cleaned[image_id] = (size, [])  # only the size is used from here on
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
