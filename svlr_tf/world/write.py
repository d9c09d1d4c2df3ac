"""Writes a simulated world in the prepared format, through the data layer's
writers: meta.json ("simulated": true), vocab.json + word_vectors.npy (real
GloVe 6B 50-d vectors), classes.json, the recognition and VQA records, the
feature stores features/genome and features/vqa, and the geometry."""

from __future__ import annotations

import json
from typing import Dict, List

import numpy as np

from svlr_tf import text
from svlr_tf.world.config import WorldConfig
from svlr_tf.world.geometry import write_geometry
from svlr_tf.world.records import recognition_records, record_words, vqa_records
from svlr_tf.world.simulate import World, progress

# 2: region geometry (boxes/*.jsonl) and pictures (images/*.png); 3: object names
# drawn on top in the pictures. Features, records and questions are those of 1.
GENERATOR_VERSION = 3
WORD_VECTORS_NAME = "glove.6B.50d"


_GLOVE = None


def word_table(words: List[str]):
  """(vectors [len(words), 50], unknown words) from the real GloVe 6B 50-d vectors."""
  from svlr_tf.text import word_vectors  # pylint: disable=import-outside-toplevel
  global _GLOVE
  if _GLOVE is None:  # ~80 MB: load once per process
    _GLOVE = word_vectors.load_glove_package()
  table, unknown = word_vectors.build_table(_GLOVE, words)
  return np.asarray(table, np.float32), unknown


def world_meta(cfg: WorldConfig, seed: int) -> Dict:
  """meta.json of the world of ``cfg`` and ``seed`` (before the fields decided
  while writing: the favoured classes and the tagger)."""
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
      words |= record_words(rec)
  for name in classes.objects + classes.attributes:
    words.update(prepared.class_name_words(name))
  words = [prepared.PAD, prepared.UNK] + sorted(words - {prepared.PAD, prepared.UNK})
  vectors, unknown = word_table(words)
  if unknown:
    progress(f"words without a GloVe vector: {unknown}", verbose)
  w.write_vocab(words, vectors)
  w.write_classes(classes.objects, classes.attributes, classes.object_hypernyms)
  for split, imgs in world.genome.items():
    w.write_recognition(split, recognition_records(imgs))
  for split, recs in vqa.items():
    w.write_vqa(split, recs)
  progress(f"wrote records ({len(words)} words)", verbose)
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
  meta = world_meta(cfg, world.seed)
  meta["vqa_favoured_classes"] = classes.vqa_favoured
  # The nouns / adjectives / bins of the questions depend on the tagger in use.
  meta["pos_backend"] = text.pos_backend()
  w.write_meta(meta)
