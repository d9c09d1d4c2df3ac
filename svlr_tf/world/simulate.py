"""The simulated world in memory: classes, appearance, images and raw questions.

Everything here is numpy and seeded; :mod:`svlr_tf.world.build` turns the
result into the prepared format.  See docs/world.md for the model.

Simulated backbone (what stands in for ResNet-50 on Edge Boxes)::

  latent(instance) = object_scale * unit(sum_s decay^dist(s) * P[s])   s: the class's
                                                   WordNet synset and its hypernyms
                   + attribute_scale * sum_{t in true attributes} A[t]
                   + nuisance_scale * noise
  region           = (1 - m) * latent(object) + m * latent(neighbour or background)
                   + scene(image)                 m ~ Beta (imperfect boxes)
  feature          = relu(W2 relu(W1 region + b1) + b2)    fixed random network, [D] >= 0

Word vectors are never used here: whatever the word embedding g gains from
GloVe comes from the natural agreement of GloVe and WordNet, as with real data.

The parts, one job each: ``classes`` (which classes, their centres, priors and
frequencies), ``appearance`` (instances, scenes, regions, the backbone),
``images`` (Genome and VQA images as features), ``questions`` (VQA v1-style
questions and answers) and ``layout`` (geometry, drawn after the features).
This module draws them in order from one seeded stream per stage
(:func:`simulate_world`); their names stay importable from here.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Dict, List, Optional

import numpy as np

from svlr_tf.world import layout
from svlr_tf.world.appearance import (NUM_BACKGROUNDS, NUM_SCENES, Appearance,
                                      Backbone, Instance)
from svlr_tf.world.classes import (GROUP_PROBABILITY, OTHER_GROUP_PROBABILITY,
                                   POSE_VALUES, SECOND_COLOR_PROBABILITY,
                                   STATE_VALUES, Classes, build_classes)
from svlr_tf.world.config import WorldConfig
from svlr_tf.world.images import (COUNT_PROBABILITIES, MULTI_INSTANCE_PROBABILITY,
                                  GenomeImage, VQAImage, genome_image, vqa_image)
from svlr_tf.world.questions import (COUNT_MULTI_PREFERENCE, POPULAR_ANSWERS,
                                     QUESTION_TYPES_PATH, QuestionMaker, article,
                                     load_question_types, plural, question_type_of)

__all__ = [
    "COUNT_MULTI_PREFERENCE", "COUNT_PROBABILITIES", "GROUP_PROBABILITY",
    "MULTI_INSTANCE_PROBABILITY", "NUM_BACKGROUNDS", "NUM_SCENES",
    "OTHER_GROUP_PROBABILITY", "POPULAR_ANSWERS", "POSE_VALUES",
    "QUESTION_TYPES_PATH", "SECOND_COLOR_PROBABILITY", "STATE_VALUES",
    "VQA_IMAGE_ID_START", "Appearance", "Backbone", "Classes", "GenomeImage",
    "Instance", "QuestionMaker", "VQAImage", "World", "article", "build_classes",
    "genome_image", "load_question_types", "plural", "progress",
    "question_type_of", "simulate_world", "stage_rng", "vqa_image",
]

VQA_IMAGE_ID_START = 1_000_000  # VQA (COCO) and Genome image ids never collide


@dataclasses.dataclass
class World:
  """A simulated world in memory (what :func:`svlr_tf.world.build.generate` writes)."""

  config: WorldConfig
  seed: int
  classes: Classes
  genome: Dict[str, List[GenomeImage]]   # train / val / test
  vqa: Dict[str, List[VQAImage]]          # train / heldout / test


def stage_rng(seed: int, stage: int) -> np.random.Generator:
  """The random stream of one stage of the simulation.

  One independent stream per stage: changing the number of images does not
  change the classes or the backbone.
  """
  return np.random.default_rng(np.random.SeedSequence([seed, stage]))


def progress(msg: str, verbose: bool) -> None:
  """A progress line of the world generator (when ``verbose``)."""
  if verbose:
    print(f"[world] {msg}", flush=True)


TICK_SECONDS = 10.0  # at most one progress line per loop in this time


class Ticker:
  """Progress inside a long loop: "[world] <what> i/total (s)" at most every
  ``every`` seconds (the default world's loops run for a minute without it)."""

  def __init__(self, what: str, total: int, verbose: bool,
               every: Optional[float] = None):
    self.what, self.total, self.verbose = what, total, verbose
    self.every = TICK_SECONDS if every is None else every
    self.start = self.last = time.time()

  def __call__(self, done: int) -> None:
    now = time.time()
    if self.verbose and now - self.last >= self.every:
      self.last = now
      progress(f"{self.what} {done}/{self.total} ({now - self.start:.0f}s)", True)


def simulate_world(cfg: WorldConfig, seed: int = 0, verbose: bool = False) -> World:
  """Simulates the whole world in memory (deterministic in cfg and seed)."""
  t0 = time.time()
  classes = build_classes(cfg, stage_rng(seed, 0))
  backbone = Backbone(cfg, stage_rng(seed, 1))
  look = Appearance(cfg, classes, stage_rng(seed, 2))
  rng = stage_rng(seed, 3)
  tick = Ticker("Genome images", cfg.genome_images, verbose)
  images = []
  for i in range(cfg.genome_images):
    images.append(genome_image(i + 1, cfg, classes, look, backbone, rng))
    tick(i + 1)
  order = rng.permutation(len(images))
  n_train = int(round(0.85 * len(images)))
  n_val = int(round(0.05 * len(images)))
  genome = {"train": sorted([images[i] for i in order[:n_train]], key=lambda g: g.image_id),
            "val": sorted([images[i] for i in order[n_train:n_train + n_val]],
                          key=lambda g: g.image_id),
            "test": sorted([images[i] for i in order[n_train + n_val:]],
                           key=lambda g: g.image_id)}
  progress(f"{sum(len(g.objects) for g in images)} Genome regions "
           f"({time.time() - t0:.1f}s)", verbose)
  rng = stage_rng(seed, 4)
  asker = QuestionMaker(cfg, classes)
  vqa, next_id = {}, VQA_IMAGE_ID_START
  tick = Ticker("VQA images", sum(cfg.vqa_images), verbose)
  for split, n in zip(("train", "heldout", "test"), cfg.vqa_images):
    imgs = []
    for _ in range(n):
      tick(next_id - VQA_IMAGE_ID_START)
      img = vqa_image(next_id, cfg, classes, look, backbone, rng)
      img.questions = [asker.ask(img, rng) for _ in range(cfg.questions_per_image)]
      imgs.append(img)
      next_id += 1
    vqa[split] = imgs
  progress(f"{sum(cfg.vqa_images) * cfg.questions_per_image} VQA questions "
           f"({time.time() - t0:.1f}s)", verbose)
  # Geometry from its own streams, after the features: it changes no draw above.
  rng = stage_rng(seed, 5)
  for split in ("train", "heldout", "test"):
    for img in vqa[split]:
      img.layout = layout.vqa_layout(img, rng)
  rng = stage_rng(seed, 6)
  for img in images:
    img.layout = layout.genome_layout(img, rng)
  return World(cfg, seed, classes, genome, vqa)
