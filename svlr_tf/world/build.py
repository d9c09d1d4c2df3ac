"""Generates the embedded (simulated) world in the prepared format.

  python -m svlr_tf.world.build --preset default --out runs/data/world-default

writes meta.json ("simulated": true), vocab.json + word_vectors.npy (real GloVe
6B 50-d vectors), classes.json, recognition/{train,val,test}.jsonl,
vqa/{train,heldout,test}.jsonl (+ official VQA v1 files) and the feature stores
features/genome and features/vqa, through svlr_tf.data.prepared.PreparedWriter,
and the geometry: boxes/{vqa,genome}.jsonl and images/<image_id>.png
(svlr_tf.world.layout, svlr_tf.world.picture).
Generation is deterministic in (preset, seed) and atomic: the world is built in
a temporary directory next to ``out_dir`` and renamed into place.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np

from svlr_tf import text
from svlr_tf.errors import DataError
from svlr_tf.files import read_json
from svlr_tf.workdir import exclusive_lock
from svlr_tf.world import layout, picture, simulate
from svlr_tf.presets import world_config
from svlr_tf.world.config import WorldConfig

# 2: region geometry (boxes/*.jsonl) and pictures (images/*.png); 3: object names
# drawn on top in the pictures. Features, records and questions are those of 1.
GENERATOR_VERSION = 3
VQA_IMAGE_ID_START = 1_000_000  # VQA (COCO) and Genome image ids never collide
WORD_VECTORS_NAME = "glove.6B.50d"


@dataclasses.dataclass
class World:
  """A simulated world in memory (what :func:`generate` writes)."""

  config: WorldConfig
  seed: int
  classes: simulate.Classes
  genome: Dict[str, List[simulate.GenomeImage]]   # train / val / test
  vqa: Dict[str, List[simulate.VQAImage]]          # train / heldout / test


def _rng(seed: int, stage: int) -> np.random.Generator:
  # One independent stream per stage: changing the number of images does not
  # change the classes or the backbone.
  return np.random.default_rng(np.random.SeedSequence([seed, stage]))


def _progress(msg: str, verbose: bool) -> None:
  if verbose:
    print(f"[world] {msg}", flush=True)


def simulate_world(cfg: WorldConfig, seed: int = 0, verbose: bool = False) -> World:
  """Simulates the whole world in memory (deterministic in cfg and seed)."""
  t0 = time.time()
  classes = simulate.build_classes(cfg, _rng(seed, 0))
  backbone = simulate.Backbone(cfg, _rng(seed, 1))
  look = simulate.Appearance(cfg, classes, _rng(seed, 2))
  rng = _rng(seed, 3)
  images = [simulate.genome_image(i + 1, cfg, classes, look, backbone, rng)
            for i in range(cfg.genome_images)]
  order = rng.permutation(len(images))
  n_train = int(round(0.85 * len(images)))
  n_val = int(round(0.05 * len(images)))
  genome = {"train": sorted([images[i] for i in order[:n_train]], key=lambda g: g.image_id),
            "val": sorted([images[i] for i in order[n_train:n_train + n_val]],
                          key=lambda g: g.image_id),
            "test": sorted([images[i] for i in order[n_train + n_val:]],
                           key=lambda g: g.image_id)}
  _progress(f"{sum(len(g.objects) for g in images)} Genome regions "
            f"({time.time() - t0:.1f}s)", verbose)
  rng = _rng(seed, 4)
  asker = simulate.QuestionMaker(cfg, classes)
  vqa, next_id = {}, VQA_IMAGE_ID_START
  for split, n in zip(("train", "heldout", "test"), cfg.vqa_images):
    imgs = []
    for _ in range(n):
      img = simulate.vqa_image(next_id, cfg, classes, look, backbone, rng)
      img.questions = [asker.ask(img, rng) for _ in range(cfg.questions_per_image)]
      imgs.append(img)
      next_id += 1
    vqa[split] = imgs
  _progress(f"{sum(cfg.vqa_images) * cfg.questions_per_image} VQA questions "
            f"({time.time() - t0:.1f}s)", verbose)
  # Geometry from its own streams, after the features: it changes no draw above.
  rng = _rng(seed, 5)
  for split in ("train", "heldout", "test"):
    for img in vqa[split]:
      img.layout = layout.vqa_layout(img, rng)
  rng = _rng(seed, 6)
  for img in images:
    img.layout = layout.genome_layout(img, rng)
  return World(cfg, seed, classes, genome, vqa)


# -- records -------------------------------------------------------------------


def recognition_records(images: List[simulate.GenomeImage]) -> List[Dict]:
  return [{"image_id": img.image_id, "region": r, "objects": names,
           "attributes": img.attributes[r]}
          for img in images for r, names in enumerate(img.objects)]


def vqa_records(images: List[simulate.VQAImage]) -> List[Dict]:
  """Prepared VQA records; text fields from svlr_tf.text (as for real data)."""
  out = []
  for img in images:
    for k, q in enumerate(img.questions):
      qt = text.analyze_question(q["question"])
      answers = [text.analyze_answer(c) for c in q["choices"]]
      out.append({
          "question_id": img.image_id * 10 + k, "image_id": img.image_id,
          "question": q["question"], "question_type": q["question_type"],
          "answer_type": q["answer_type"], "choices": list(q["choices"]),
          "answer": q["answer"], "label": int(q["label"]), "answers": list(q["answers"]),
          "question_bins": qt.bins, "question_nouns": qt.nouns,
          "question_adjectives": qt.adjectives,
          "choice_words": [a.tokens for a in answers],
          "choice_nouns": [a.nouns for a in answers],
          "choice_adjectives": [a.adjectives for a in answers]})
  return out


def picture_file(image_id: int) -> str:
  """Path of an image's picture, relative to the data dir."""
  return f"images/{image_id}.png"


def _region_entry(lay: layout.Layout, r: int, classes: simulate.Classes,
                  object_classes: List[int], object_attributes: List[List[int]]) -> Dict:
  own, partner = int(lay.region_objects[r]), int(lay.region_partners[r])
  entry = {"shows": lay.shows(r), "object": own if own >= 0 else None,
           "mixed_with": partner if partner >= 0 else None,
           "mix": round(float(lay.region_mixes[r]), 3)}
  if own >= 0:
    entry["class"] = classes.objects[object_classes[own]]
    entry["attributes"] = [classes.attributes[t] for t in object_attributes[own]]
  return entry


def boxes_line(image_id: int, lay: layout.Layout, classes: simulate.Classes,
               object_classes: List[int], object_attributes: List[List[int]]) -> Dict:
  """One line of boxes/{vqa,genome}.jsonl (docs/architecture.md "Region boxes")."""
  return {
      "image_id": int(image_id), "file": picture_file(image_id),
      "width": int(lay.width), "height": int(lay.height),
      "boxes": [[float(v) for v in b] for b in lay.region_boxes],
      "objects": [{"class": classes.objects[c],
                   "attributes": [classes.attributes[t] for t in a],
                   "box": [float(v) for v in b]}
                  for c, a, b in zip(object_classes, object_attributes, lay.object_boxes)],
      "regions": [_region_entry(lay, r, classes, object_classes, object_attributes)
                  for r in range(len(lay.region_boxes))]}


def _image_objects(img) -> tuple:
  """(classes, true attributes) of an image's object instances."""
  if isinstance(img, simulate.VQAImage):
    return ([i.cls for i in img.instances], [list(i.attributes) for i in img.instances])
  return list(img.classes), [list(a) for a in img.true_attributes]


def write_geometry(world: World, data_dir: str, pictures: bool = True,
                   verbose: bool = False) -> None:
  """boxes/vqa.jsonl, boxes/genome.jsonl, vqa/<split>_grounding.jsonl and
  images/<image_id>.png."""
  from svlr_tf.files import atomic_path  # pylint: disable=import-outside-toplevel
  classes = world.classes
  colors = [a for a, g in zip(classes.attributes, classes.attribute_groups) if g == "color"]
  t0 = time.time()
  if pictures:
    os.makedirs(os.path.join(data_dir, "images"), exist_ok=True)
  groups = {"vqa": [img for s in ("train", "heldout", "test") for img in world.vqa[s]],
            "genome": sorted((img for imgs in world.genome.values() for img in imgs),
                             key=lambda g: g.image_id)}
  for split in ("train", "heldout", "test"):
    path = os.path.join(data_dir, "vqa", f"{split}_grounding.jsonl")
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
      for line in grounding_records(world.vqa[split], classes):
        f.write(json.dumps(line) + "\n")
  for name, images in groups.items():
    path = os.path.join(data_dir, "boxes", f"{name}.jsonl")
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
      for img in images:
        object_classes, object_attributes = _image_objects(img)
        line = boxes_line(img.image_id, img.layout, classes, object_classes,
                          object_attributes)
        f.write(json.dumps(line) + "\n")
        if pictures:
          array = picture.draw_layout(
              line["width"], line["height"], img.layout.object_boxes,
              [o["class"] for o in line["objects"]],
              [o["attributes"] for o in line["objects"]], colors, img.image_id)
          picture.save_picture(array, os.path.join(data_dir, picture_file(img.image_id)))
  _progress(f"wrote boxes{' and pictures' if pictures else ''} "
            f"({time.time() - t0:.1f}s)", verbose)


def grounding_records(images: List[simulate.VQAImage],
                      classes: simulate.Classes) -> List[Dict]:
  """vqa/<split>_grounding.jsonl: the object each question asks about.

  One line per question: {"question_id", "image_id", "template", "asks_about":
  class name or null (about no object of the image, e.g. "is there a X" with X
  absent), "objects": indices into the boxes line's "objects" of that class (all
  its instances)}.
  """
  out = []
  for img in images:
    for k, q in enumerate(img.questions):
      name = q["asks_about"]
      objects = [i for i, inst in enumerate(img.instances)
                 if name is not None and classes.objects[inst.cls] == name]
      out.append({"question_id": img.image_id * 10 + k, "image_id": img.image_id,
                  "template": q["template"], "asks_about": name, "objects": objects})
  return out


def _record_words(rec: Dict) -> set:
  words = set()
  for b in rec["question_bins"]:
    words.update(b)
  words.update(rec["question_nouns"])
  words.update(rec["question_adjectives"])
  for field in ("choice_words", "choice_nouns", "choice_adjectives"):
    for ws in rec[field]:
      words.update(ws)
  return words


_GLOVE = None


def word_table(words: List[str]):
  """(vectors [len(words), 50], unknown words) from the real GloVe 6B 50-d vectors."""
  from svlr_tf import word_vectors  # pylint: disable=import-outside-toplevel
  global _GLOVE
  if _GLOVE is None:  # ~80 MB: load once per process
    _GLOVE = word_vectors.load_glove_package()
  table, unknown = word_vectors.build_table(_GLOVE, words)
  return np.asarray(table, np.float32), unknown


def _meta(cfg: WorldConfig, seed: int) -> Dict:
  return {"source": "embedded", "simulated": True, "preset": cfg.preset,
          "description": ("Simulated Visual Genome + VQA v1 world (svlr_tf.world): "
                          "real words, WordNet hypernyms and GloVe vectors; region "
                          "features from a simulated backbone, not from images. "
                          "See docs/world.md."),
          "word_vectors": WORD_VECTORS_NAME, "feature_dim": cfg.feature_dim,
          "regions_per_image": cfg.regions_per_image, "seed": int(seed),
          "generator_version": GENERATOR_VERSION,
          "world_config": json.loads(json.dumps(cfg.to_dict()))}


def write_world(world: World, data_dir: str, verbose: bool = False,
                pictures: bool = True) -> None:
  """Writes a simulated world through the data layer's writers (and its geometry)."""
  from svlr_tf.data import prepared  # pylint: disable=import-outside-toplevel
  cfg, classes = world.config, world.classes
  w = prepared.PreparedWriter(data_dir)
  vqa = {split: vqa_records(imgs) for split, imgs in world.vqa.items()}
  words = set()
  for recs in vqa.values():
    for rec in recs:
      words |= _record_words(rec)
  for name in classes.objects + classes.attributes:
    words.update(prepared.class_name_words(name))
  words = [prepared.PAD, prepared.UNK] + sorted(words - {prepared.PAD, prepared.UNK})
  vectors, unknown = word_table(words)
  if unknown:
    _progress(f"words without a GloVe vector: {unknown}", verbose)
  w.write_vocab(words, vectors)
  w.write_classes(classes.objects, classes.attributes, classes.object_hypernyms)
  for split, imgs in world.genome.items():
    w.write_recognition(split, recognition_records(imgs))
  for split, recs in vqa.items():
    w.write_vqa(split, recs)
  _progress(f"wrote records ({len(words)} words)", verbose)
  genome = sorted((img for imgs in world.genome.values() for img in imgs),
                  key=lambda g: g.image_id)
  with w.feature_store("genome", dim=cfg.feature_dim) as fs:
    for img in genome:
      fs.add(img.image_id, img.features)
  with w.feature_store("vqa", dim=cfg.feature_dim,
                       rows_per_image=cfg.regions_per_image) as fs:
    for split in ("train", "heldout", "test"):
      for img in world.vqa[split]:
        fs.add(img.image_id, img.features)
  write_geometry(world, data_dir, pictures=pictures, verbose=verbose)
  # meta.json last: its presence (with a matching config) marks a complete world.
  meta = _meta(cfg, world.seed)
  meta["vqa_favoured_classes"] = classes.vqa_favoured
  # The nouns / adjectives / bins of the questions depend on the tagger in use.
  meta["pos_backend"] = text.pos_backend()
  w.write_meta(meta)


def generate(preset: str, out_dir, seed: int = 0, overwrite: bool = False,
             verbose: bool = True, pictures: bool = True, **overrides) -> str:
  """Generates the world of ``preset`` into ``out_dir`` atomically; returns out_dir.

  Raises FileExistsError if ``out_dir`` exists and ``overwrite`` is False.
  ``pictures=False`` skips images/*.png (the boxes are always written).
  ``overrides`` replace WorldConfig fields (e.g. ``vqa_images`` for the paper
  preset's benchmarks).
  """
  cfg = world_config(preset, **overrides)
  out_dir = os.path.abspath(os.fspath(out_dir))
  with world_lock(out_dir):
    return _generate_locked(cfg, preset, out_dir, seed, overwrite, verbose, pictures)


def _generate_locked(cfg, preset: str, out_dir: str, seed: int, overwrite: bool,
                     verbose: bool, pictures: bool) -> str:
  if os.path.exists(out_dir) and not overwrite:
    raise FileExistsError(f"{out_dir} exists (use overwrite=True).")
  parent = os.path.dirname(out_dir)
  t0 = time.time()
  world = simulate_world(cfg, seed, verbose)
  tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.tmp", dir=parent)
  try:
    write_world(world, tmp, verbose, pictures=pictures)
    if os.path.exists(out_dir):
      old = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.old", dir=parent)
      os.rename(out_dir, os.path.join(old, "w"))
      os.rename(tmp, out_dir)
      shutil.rmtree(old, ignore_errors=True)
    else:
      os.rename(tmp, out_dir)
  finally:
    if os.path.isdir(tmp):
      shutil.rmtree(tmp, ignore_errors=True)
  _progress(f"world {preset!r} (seed {seed}) in {out_dir} ({time.time() - t0:.1f}s)",
            verbose)
  return out_dir


@contextlib.contextmanager
def world_lock(out_dir: str):
  """One process generates a world at a time: an exclusive lock beside ``out_dir``
  (``.<name>.lock``; the directory itself is replaced by a rename).  With the lock
  held, the partial directories of a generation that was killed are removed."""
  parent, name = os.path.split(os.path.abspath(out_dir))
  os.makedirs(parent, exist_ok=True)
  with exclusive_lock(os.path.join(parent, f".{name}.lock"), f"world {out_dir}"):
    for entry in os.listdir(parent):
      if entry.startswith((f".{name}.tmp", f".{name}.old")):
        shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
    yield


def default_root(preset: str) -> str:
  return os.path.join("runs", "data", f"world-{preset}")


def world_is_current(data_dir: str, preset: str, seed: int = 0, **overrides) -> bool:
  """True if ``data_dir`` holds a complete world generated with this config."""
  try:
    meta = read_json(os.path.join(data_dir, "meta.json"))
  except DataError:
    return False
  if not isinstance(meta, dict):
    return False
  cfg = world_config(preset, **overrides)
  expected = _meta(cfg, seed)
  return all(meta.get(k) == expected[k] for k in
             ("preset", "seed", "generator_version", "world_config", "feature_dim",
              "regions_per_image", "simulated")) and (
                  meta.get("pos_backend") == text.pos_backend())


def ensure_world(preset: str, root: Optional[str] = None, seed: int = 0,
                 verbose: bool = True) -> str:
  """Returns a data dir holding the world of ``preset``, generating it if needed.

  Default ``root``: runs/data/world-<preset>.  An existing complete world with
  matching meta is reused; anything else there is regenerated.
  """
  data_dir = os.path.abspath(root or default_root(preset))
  if world_is_current(data_dir, preset, seed):
    return data_dir
  with world_lock(data_dir):  # another process may have generated it meanwhile
    if world_is_current(data_dir, preset, seed):
      return data_dir
    return generate(preset, data_dir, seed=seed, overwrite=True, verbose=verbose)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--preset", default="default", choices=["tiny", "default", "paper"])
  parser.add_argument("--out", default=None, help="output dir (default runs/data/world-<preset>)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--overwrite", action="store_true")
  parser.add_argument("--vqa-images", type=int, nargs=3, default=None,
                      metavar=("TRAIN", "HELDOUT", "TEST"))
  parser.add_argument("--genome-images", type=int, default=None)
  parser.add_argument("--pos-backend", default=None, choices=text.BACKENDS,
                      help="part-of-speech backend (default "
                      f"{text.taggers.DEFAULT_BACKEND}; docs/interpretations.md 15)")
  args = parser.parse_args(argv)
  overrides = {}
  if args.vqa_images:
    overrides["vqa_images"] = tuple(args.vqa_images)
  if args.genome_images:
    overrides["genome_images"] = args.genome_images
  try:
    text.use_backend(args.pos_backend)
    generate(args.preset, args.out or default_root(args.preset), seed=args.seed,
             overwrite=args.overwrite, **overrides)
  except (DataError, FileExistsError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())
