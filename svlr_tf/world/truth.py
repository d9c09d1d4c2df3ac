"""The embedded world's ground truth of visual similarity (Sec. 5.5, Table 4).

Each object class's latent centre (``svlr_tf.world.classes``: a decayed sum of
random prototypes of the class's WordNet synset and its hypernyms, from which
every region's appearance is drawn), rebuilt from ``meta.json``.
``svlr_tf.evaluation.visual_similarity`` compares word vectors against it.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from svlr_tf.runtime.errors import DataError
from svlr_tf.world.classes import build_classes, unit
from svlr_tf.world.config import WorldConfig
from svlr_tf.world.simulate import stage_rng


def _tuples(value):
  """JSON lists back to the tuples of ``WorldConfig``'s fields."""
  if isinstance(value, list):
    return tuple(_tuples(v) for v in value)
  return value


def latent_class_similarity(meta: dict, objects: Sequence[str]) -> np.ndarray:
  """[O, O] cosine similarity of the world's latent class centres.

  Rebuilds the classes from ``meta.json``'s ``world_config`` and ``seed``
  (deterministic: ``svlr_tf.world.simulate.stage_rng(seed, 0)``) and checks
  they are the data's (names and the VQA-favoured classes).

  Raises: DataError when the data is not a simulated world or the rebuilt
  classes differ (a world written by another generator version).
  """
  if "world_config" not in meta or "seed" not in meta:
    raise DataError("meta.json", "no world_config / seed: not a simulated world, "
                    "so there is no true visual similarity")
  known = {f.name for f in dataclasses.fields(WorldConfig)}
  unknown = sorted(set(meta["world_config"]) - known)
  if unknown:
    raise DataError("meta.json", f"world_config has fields {unknown} this version "
                    "of the world does not know; regenerate the world")
  cfg = WorldConfig(**{k: _tuples(v) for k, v in meta["world_config"].items()})
  classes = build_classes(cfg, stage_rng(int(meta["seed"]), 0))
  if list(classes.objects) != list(objects) or (
      "vqa_favoured_classes" in meta
      and list(classes.vqa_favoured) != list(meta["vqa_favoured_classes"])):
    raise DataError("meta.json", "the world's classes rebuilt from world_config and "
                    "seed differ from the data's (another generator version); "
                    "regenerate the world")
  centres = unit(classes.centers)
  return centres @ centres.T
