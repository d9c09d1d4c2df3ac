"""The classes of the simulated world: which objects and attributes it has, their
latent centres and prototypes, how often each appears in Genome and in VQA, and
which attribute values each class can take (docs/world.md).

  centre(class) = object_scale * unit(sum_s decay^dist(s) * P[s])   s: the class's
                                          WordNet synset and its hypernyms
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

import numpy as np

from svlr_tf.world.config import WorldConfig
from svlr_tf.world.vocabulary import load_vocabulary

# Probability that an instance of a kind carries an attribute of a group.
GROUP_PROBABILITY = {
    "person": {"color": 0.6, "size": 0.2, "pose": 0.8, "state": 0.3, "pattern": 0.1},
    "animal": {"color": 0.9, "size": 0.25, "pose": 0.7, "state": 0.2, "pattern": 0.15},
    "vehicle": {"color": 0.95, "size": 0.3, "pose": 0.35, "state": 0.3, "material": 0.2},
    "furniture": {"color": 0.8, "material": 0.75, "size": 0.2, "state": 0.3,
                  "pattern": 0.15},
    "food": {"color": 0.85, "size": 0.2, "state": 0.55},
    "clothing": {"color": 0.95, "material": 0.3, "pattern": 0.35, "size": 0.2,
                 "state": 0.2},
    "plant": {"color": 0.9, "size": 0.35, "state": 0.45},
    "structure": {"color": 0.8, "material": 0.65, "size": 0.3, "state": 0.35},
    "object": {"color": 0.85, "material": 0.55, "pattern": 0.1, "size": 0.25,
               "state": 0.35},
}
OTHER_GROUP_PROBABILITY = 0.6  # extended ("other") adjectives, paper preset only
SECOND_COLOR_PROBABILITY = 0.2

# Values of the pose / state groups that make sense for a kind.
POSE_VALUES = {
    "person": ("standing", "sitting", "walking", "running", "lying", "smiling"),
    "animal": ("standing", "sitting", "walking", "running", "lying", "flying"),
    "vehicle": ("parked",),
}
STATE_VALUES = {
    "person": ("wet", "young", "old", "dirty", "clean"),
    "animal": ("wet", "young", "dirty", "clean"),
    "food": ("ripe", "sliced", "cooked", "round"),
    "plant": ("leafy", "bare", "wet", "dark", "bright"),
    "structure": ("open", "closed", "old", "dark", "bright", "dirty", "clean", "wet",
                  "square"),
    "vehicle": ("open", "closed", "old", "shiny", "dirty", "clean", "wet", "empty",
                "full"),
    "furniture": ("open", "closed", "empty", "full", "old", "dirty", "clean", "round",
                  "square"),
    "clothing": ("wet", "dirty", "clean", "old", "open", "closed", "dark", "bright"),
    "object": ("open", "closed", "empty", "full", "shiny", "dirty", "clean", "round",
               "square", "old", "dark", "bright"),
}


@dataclasses.dataclass
class Classes:
  """Object / attribute classes of a world."""

  objects: List[str]
  attributes: List[str]
  object_hypernyms: Dict[str, List[str]]
  object_kinds: List[str]
  attribute_groups: List[str]
  centers: np.ndarray           # [O, L] latent class centres
  attribute_prototypes: np.ndarray  # [T, L]
  genome_weights: np.ndarray    # [O] class frequency in Genome
  vqa_weights: np.ndarray       # [O] class frequency in VQA
  vqa_favoured: List[str]       # rare in Genome, frequent in VQA
  group_values: List[Dict[str, np.ndarray]]   # per class: group -> attribute ids
  group_priors: List[Dict[str, np.ndarray]]   # per class: group -> probabilities


def unit(x: np.ndarray) -> np.ndarray:
  """Rows of x scaled to unit length."""
  return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def build_classes(cfg: WorldConfig, rng: np.random.Generator,
                  vocabulary: Optional[Dict] = None) -> Classes:
  """Chooses the classes and draws prototypes, priors and frequencies."""
  vocab = vocabulary or load_vocabulary()
  by_name = {o["name"]: o for o in vocab["objects"]}
  if cfg.object_names:
    objs = [by_name[n] for n in cfg.object_names]
  else:
    objs = vocab["objects"][:cfg.num_objects]
  attr_by_name = {a["name"]: a for a in vocab["attributes"]}
  if cfg.attribute_names:
    attrs = [attr_by_name[n] for n in cfg.attribute_names]
  else:
    attrs = vocab["attributes"][:cfg.num_attributes]
  objects = [o["name"] for o in objs]
  attributes = [a["name"] for a in attrs]
  if len(objects) != cfg.num_objects or len(attributes) != cfg.num_attributes:
    raise ValueError(f"vocabulary has {len(objects)} objects / {len(attributes)} "
                     f"attributes, config asks {cfg.num_objects} / {cfg.num_attributes}")
  synset_owner = {}
  for o in objs:
    for s in o["synsets"]:
      synset_owner.setdefault(s, o["name"])
  hypernyms = {}
  for o in objs:
    own = set(o["synsets"])
    hs = sorted({synset_owner[s] for s in o["ancestors"] if s in synset_owner
                 and s not in own} - {o["name"]})
    if hs:
      hypernyms[o["name"]] = hs

  L = cfg.latent_dim
  synsets = sorted({s for o in objs for s in o["ancestors"]})
  proto = rng.standard_normal((len(synsets), L)) / np.sqrt(L)
  index = {s: i for i, s in enumerate(synsets)}
  centers = np.zeros((len(objs), L))
  for i, o in enumerate(objs):
    for s, d in o["ancestors"].items():
      centers[i] += cfg.ancestor_decay ** d * proto[index[s]]
  centers = cfg.object_scale * unit(centers)
  attribute_prototypes = cfg.attribute_scale * unit(
      rng.standard_normal((len(attrs), L)))

  # Long tail: Zipf over a random order of the classes.
  O = len(objs)
  ranks = rng.permutation(O) + 1
  genome_w = ranks.astype(float) ** -cfg.genome_zipf
  z = np.log(genome_w)
  z = (z - z.mean()) / (z.std() + 1e-8)
  noise = rng.standard_normal(O)
  vqa_z = cfg.vqa_rank_correlation * z + np.sqrt(1 - cfg.vqa_rank_correlation ** 2) * noise
  vqa_w = np.exp(vqa_z * np.log(O) / 2.5)
  n_fav = max(1, int(round(cfg.vqa_favoured_fraction * O)))
  favoured = rng.choice(O, n_fav, replace=False)
  genome_w[favoured] = cfg.genome_rare_weight * genome_w.max() * rng.uniform(0.5, 1.5, n_fav)
  vqa_w[favoured] = np.quantile(vqa_w, 0.9) * rng.uniform(0.8, 1.5, n_fav)
  genome_w /= genome_w.sum()
  vqa_w /= vqa_w.sum()

  # Attribute values per class: allowed values by kind and group, with a
  # class-specific Dirichlet prior (the language prior of attribute questions).
  groups = [a.get("group", "other") for a in attrs]
  group_values, group_priors = [], []
  kinds = [o["kind"] for o in objs]
  for kind in kinds:
    values, priors = {}, {}
    probs = dict(GROUP_PROBABILITY[kind])
    probs.setdefault("other", OTHER_GROUP_PROBABILITY)
    for g in probs:
      ids = [t for t, (gg, a) in enumerate(zip(groups, attributes)) if gg == g]
      if g == "pose":
        ids = [t for t in ids if attributes[t] in POSE_VALUES.get(kind, ())]
      elif g == "state":
        ids = [t for t in ids if attributes[t] in STATE_VALUES.get(kind, ())]
      if not ids:
        continue
      values[g] = np.array(ids)
      priors[g] = rng.dirichlet(np.full(len(ids), cfg.attribute_prior_concentration))
    group_values.append(values)
    group_priors.append(priors)
  return Classes(objects, attributes, hypernyms, kinds, groups, centers,
                 attribute_prototypes, genome_w, vqa_w,
                 sorted(objects[i] for i in favoured), group_values, group_priors)
