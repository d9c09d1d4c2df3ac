"""The images of the simulated world: Visual Genome images (annotated regions) and
VQA images (distinct classes among K Edge-Boxes-like proposals), as features.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

import numpy as np

from svlr_tf.world.appearance import Appearance, Backbone, Instance
from svlr_tf.world.classes import Classes
from svlr_tf.world.config import WorldConfig
from svlr_tf.world.layout import Layout

# A class appears several times in one VQA image with MULTI_INSTANCE_PROBABILITY;
# its count is then 2, 3, 4, 5, 6 with these probabilities.
COUNT_PROBABILITIES = (0.45, 0.25, 0.15, 0.1, 0.05)
MULTI_INSTANCE_PROBABILITY = 0.35


@dataclasses.dataclass
class GenomeImage:
  image_id: int
  features: np.ndarray          # [n, D] float32
  objects: List[List[str]]      # annotated names per region
  attributes: List[List[str]]   # annotated attributes per region
  classes: List[int]            # true class per region (not written)
  partners: List[int] = dataclasses.field(default_factory=list)  # mixed-in region, -1 = background
  mixes: List[float] = dataclasses.field(default_factory=list)   # mixing fraction m per region
  true_attributes: List[List[int]] = dataclasses.field(default_factory=list)  # per region
  layout: Optional[Layout] = None   # image size and boxes


@dataclasses.dataclass
class VQAImage:
  image_id: int
  features: np.ndarray          # [K, D] float32
  proposal_owner: np.ndarray    # [K] int: index into instances, -1 = background
  instances: List[Instance]
  questions: List[Dict]         # raw questions (questions.QuestionMaker.ask)
  partners: Optional[np.ndarray] = None  # [K] int: mixed-in instance, -1 = background
  mixes: Optional[np.ndarray] = None     # [K] float: mixing fraction m per proposal
  layout: Optional[Layout] = None      # image size and boxes


def genome_image(image_id: int, cfg: WorldConfig, classes: Classes,
                 look: Appearance, backbone: Backbone, rng) -> GenomeImage:
  """A Visual Genome image: several annotated regions with names and attributes."""
  n = int(rng.integers(cfg.genome_objects[0], cfg.genome_objects[1] + 1))
  cls = rng.choice(len(classes.objects), n, p=classes.genome_weights)
  scene = look.scene(rng)
  insts = [look.instance(int(c), rng) for c in cls]
  latents, names, attrs, partners, mixes = [], [], [], [], []
  for i, inst in enumerate(insts):
    if n > 1 and rng.random() < 0.5:
      partner = int(rng.choice([j for j in range(n) if j != i]))
      other = insts[partner].latent
    else:
      partner, other = -1, look.background(rng)
    latent, m = look.region(inst.latent, other, scene, cfg.genome_box_mix, rng)
    latents.append(latent)
    partners.append(partner)
    mixes.append(m)
    name = classes.objects[inst.cls]
    hyper = classes.object_hypernyms.get(name, [])
    region_names = [name]
    if hyper and rng.random() < cfg.hypernym_name_prob:
      region_names = [hyper[int(rng.integers(len(hyper)))]]
    elif hyper and rng.random() < cfg.second_name_prob:
      region_names.append(hyper[int(rng.integers(len(hyper)))])
    names.append(region_names)
    kept = [classes.attributes[t] for t in inst.attributes
            if rng.random() < cfg.attribute_annotated_prob]
    attrs.append(sorted(set(kept), key=kept.index))
  feats = backbone(np.stack(latents))
  return GenomeImage(image_id, feats, names, attrs, [int(c) for c in cls], partners,
                     mixes, [list(inst.attributes) for inst in insts])


# -- VQA -----------------------------------------------------------------------


def vqa_image(image_id: int, cfg: WorldConfig, classes: Classes, look: Appearance,
              backbone: Backbone, rng) -> VQAImage:
  """A VQA image: distinct object classes among K Edge-Boxes-like proposals."""
  O = len(classes.objects)
  n = int(rng.integers(cfg.vqa_objects[0], cfg.vqa_objects[1] + 1))
  cls = rng.choice(O, n, replace=False, p=classes.vqa_weights)
  scene = look.scene(rng)
  instances: List[Instance] = []
  for c in cls:
    base = look.instance(int(c), rng)
    instances.append(base)
    if rng.random() < MULTI_INSTANCE_PROBABILITY:
      count = 2 + int(rng.choice(len(COUNT_PROBABILITIES), p=COUNT_PROBABILITIES))
      for _ in range(count - 1):  # copies share class and attributes
        instances.append(look.instance(int(c), rng, base.attributes))
  K = cfg.regions_per_image
  owners: List[int] = []
  for i, _ in enumerate(instances):
    p = int(rng.integers(cfg.proposals_per_object[0], cfg.proposals_per_object[1] + 1))
    owners.extend([i] * p)
  owners = list(rng.permutation(owners))
  # Keep one proposal of every class first, then fill to at most K - 2 so some
  # background proposals always remain.
  keep, seen = [], set()
  for k, o in enumerate(owners):
    if instances[o].cls not in seen:
      seen.add(instances[o].cls)
      keep.append(k)
  rest = [k for k in range(len(owners)) if k not in keep]
  budget = max(len(keep), K - 2)
  keep += rest[:max(0, budget - len(keep))]
  owners = [owners[k] for k in keep][:K]
  owners += [-1] * (K - len(owners))
  owners = [int(o) for o in rng.permutation(owners)]
  latents, partners, mixes = [], [], []
  for o in owners:
    # (The order of the random draws is the one of the first generator version.)
    own = look.background(rng) if o < 0 else instances[o].latent
    others = (range(len(instances)) if o < 0 else
              [j for j in range(len(instances)) if instances[j].cls != instances[o].cls])
    if others and rng.random() < 0.5:
      partner = (int(rng.integers(len(instances))) if o < 0
                 else int(rng.choice(others)))
      other = instances[partner].latent
    else:
      partner, other = -1, look.background(rng)
    latent, m = look.region(own, other, scene, cfg.proposal_mix, rng)
    latents.append(latent)
    partners.append(partner)
    mixes.append(m)
  feats = backbone(np.stack(latents))
  return VQAImage(image_id, feats, np.array(owners), instances, [], np.array(partners),
                  np.array(mixes))
