"""The simulated world: classes, appearance, images, regions and raw questions.

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
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from svlr_tf.world.config import WorldConfig
from svlr_tf.world.vocabulary import load_vocabulary

QUESTION_TYPES_PATH = os.path.join(os.path.dirname(__file__), "question_types.txt")

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
# Kinds whose classes can hold a count > 1 in one VQA image, and its law.
# A class appears several times with MULTI_INSTANCE_PROBABILITY; its count is then
# 2, 3, 4, 5, 6 with these probabilities; counting questions ask about such a
# class with COUNT_MULTI_PREFERENCE (VQA v1: "2" is the most common count).
COUNT_PROBABILITIES = (0.45, 0.25, 0.15, 0.1, 0.05)
MULTI_INSTANCE_PROBABILITY = 0.35
COUNT_MULTI_PREFERENCE = 0.7
NUM_SCENES = 8
NUM_BACKGROUNDS = 16
# VQA v1's most popular answers (the "popular" multiple-choice options).
POPULAR_ANSWERS = ("yes", "no", "2", "1", "white", "3", "red", "blue", "black", "4")


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


@dataclasses.dataclass
class Instance:
  cls: int
  attributes: List[int]
  latent: np.ndarray


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
  layout: Optional["Layout"] = None   # svlr_tf.world.layout (image size and boxes)


@dataclasses.dataclass
class VQAImage:
  image_id: int
  features: np.ndarray          # [K, D] float32
  proposal_owner: np.ndarray    # [K] int: index into instances, -1 = background
  instances: List[Instance]
  questions: List[Dict]         # raw questions (see _ask)
  partners: Optional[np.ndarray] = None  # [K] int: mixed-in instance, -1 = background
  mixes: Optional[np.ndarray] = None     # [K] float: mixing fraction m per proposal
  layout: Optional["Layout"] = None      # svlr_tf.world.layout (image size and boxes)


def _unit(x: np.ndarray) -> np.ndarray:
  return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def load_question_types(path: str = QUESTION_TYPES_PATH) -> List[str]:
  with open(path, encoding="utf-8") as f:
    return [line.strip() for line in f if line.strip()]


def question_type_of(question: str, types: Sequence[str]) -> str:
  """The longest official VQA v1 question type that prefixes the question (by words)."""
  words = question.lower().rstrip("?").split()
  best = ""
  for t in types:
    tw = t.split()
    if words[:len(tw)] == tw and len(tw) > len(best.split()):
      best = t
  return best or "none of the above"


_IRREGULAR = {"man": "men", "woman": "women", "child": "children", "person": "people",
              "sheep": "sheep", "leaf": "leaves", "shelf": "shelves", "knife": "knives",
              "foot": "feet", "tooth": "teeth", "mouse": "mice", "fish": "fish",
              "deer": "deer", "broccoli": "broccoli", "clothing": "clothing",
              "furniture": "furniture", "food": "food", "grass": "grass",
              "bread": "bread", "cheese": "cheese"}


def plural(noun: str) -> str:
  if noun in _IRREGULAR:
    return _IRREGULAR[noun]
  if noun.endswith(("s", "sh", "ch", "x", "z")):
    return noun + "es"
  if noun.endswith("y") and noun[-2:-1] not in "aeiou":
    return noun[:-1] + "ies"
  return noun + "s"


def article(noun: str) -> str:
  return "an" if noun[0] in "aeiou" else "a"


# -- classes -------------------------------------------------------------------


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
  centers = cfg.object_scale * _unit(centers)
  attribute_prototypes = cfg.attribute_scale * _unit(
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


# -- appearance ----------------------------------------------------------------


class Backbone:
  """The fixed random non-linear network: latent [L] -> feature [D] >= 0."""

  def __init__(self, cfg: WorldConfig, rng: np.random.Generator):
    L, H, D = cfg.latent_dim, cfg.backbone_hidden, cfg.feature_dim
    self.w1 = rng.standard_normal((L, H)) * np.sqrt(2.0 / L) * 2.0
    self.b1 = rng.standard_normal(H) * 0.1
    self.w2 = rng.standard_normal((H, D)) * np.sqrt(2.0 / H)
    self.b2 = rng.standard_normal(D) * 0.1

  def __call__(self, latent: np.ndarray) -> np.ndarray:
    h = np.maximum(latent @ self.w1 + self.b1, 0.0)
    return np.maximum(h @ self.w2 + self.b2, 0.0).astype(np.float32)


class Appearance:
  """Draws instances, scenes, backgrounds and proposal regions."""

  def __init__(self, cfg: WorldConfig, classes: Classes, rng: np.random.Generator):
    self.cfg, self.classes = cfg, classes
    L = cfg.latent_dim
    self.scenes = cfg.scene_scale * _unit(rng.standard_normal((NUM_SCENES, L)))
    self.backgrounds = _unit(rng.standard_normal((NUM_BACKGROUNDS, L)))

  def attributes(self, cls: int, rng) -> List[int]:
    out = []
    kind = self.classes.object_kinds[cls]
    probs = dict(GROUP_PROBABILITY[kind])
    probs.setdefault("other", OTHER_GROUP_PROBABILITY)
    for g, ids in self.classes.group_values[cls].items():
      if rng.random() >= probs[g]:
        continue
      prior = self.classes.group_priors[cls][g]
      n = 2 if (g == "color" and len(ids) > 1
                and rng.random() < SECOND_COLOR_PROBABILITY) else 1
      out.extend(int(t) for t in rng.choice(ids, n, replace=False, p=prior))
    return out

  def instance(self, cls: int, rng, attributes: Optional[List[int]] = None) -> Instance:
    if attributes is None:
      attributes = self.attributes(cls, rng)
    L = self.cfg.latent_dim
    z = self.classes.centers[cls].copy()
    if attributes:
      z += self.classes.attribute_prototypes[attributes].sum(0)
    z += self.cfg.nuisance_scale * rng.standard_normal(L) / np.sqrt(L)
    return Instance(cls, list(attributes), z)

  def scene(self, rng) -> np.ndarray:
    L = self.cfg.latent_dim
    return (self.scenes[rng.integers(NUM_SCENES)]
            + 0.3 * self.cfg.scene_scale * rng.standard_normal(L) / np.sqrt(L))

  def background(self, rng) -> np.ndarray:
    L = self.cfg.latent_dim
    return (self.backgrounds[rng.integers(NUM_BACKGROUNDS)]
            + self.cfg.nuisance_scale * rng.standard_normal(L) / np.sqrt(L))

  def region(self, own: np.ndarray, other: np.ndarray, scene: np.ndarray,
             mix: Tuple[float, float], rng) -> Tuple[np.ndarray, float]:
    """(region latent, its mixing fraction m ~ Beta(mix))."""
    m = rng.beta(*mix)
    return (1.0 - m) * own + m * other + scene, float(m)


# -- Genome --------------------------------------------------------------------


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


# -- questions -----------------------------------------------------------------


class QuestionMaker:
  """Asks VQA v1-style questions about a VQA image (templates -> raw questions).

  A raw question is a dict: question, question_type, answer_type, answer (the
  most common human answer), answers (10 human answers), choices (18), template,
  target (class), asks_about (the class the question is about if it is in the
  image, else None: "is there a X" with X absent).
  """

  def __init__(self, cfg: WorldConfig, classes: Classes):
    self.cfg, self.classes = cfg, classes
    self.types = load_question_types()
    self.templates = [t for t, _ in cfg.template_weights]
    w = np.array([w for _, w in cfg.template_weights])
    self.template_p = w / w.sum()
    self.agreement = dict(cfg.human_agreement)
    a = classes.attributes
    self.pools = {g: [a[t] for t in range(len(a)) if classes.attribute_groups[t] == g]
                  for g in set(classes.attribute_groups)}
    self.numbers = [str(i) for i in range(0, 11)]
    self.objects = list(classes.objects)
    self.answer_pool = sorted(set(self.objects) | set(a) | set(self.numbers)
                              | {"yes", "no"})
    self.kind_nouns = [k for k in ("person", "animal", "vehicle", "furniture", "food",
                                   "clothing", "plant", "structure", "fruit",
                                   "vegetable", "bird", "device", "container",
                                   "building") if k in classes.objects]

  # Each _t_* returns (question, answer, answer_type, plausible answers[, target])
  # or None when the template does not apply to the image / class.
  def _present(self, img: VQAImage) -> List[int]:
    return sorted({i.cls for i in img.instances})

  def _first(self, img: VQAImage, cls: int) -> Instance:
    return next(i for i in img.instances if i.cls == cls)

  def _group_answer(self, inst: Instance, group: str):
    vals = [t for t in inst.attributes if self.classes.attribute_groups[t] == group]
    return self.classes.attributes[vals[0]] if vals else None

  def _prior_plausible(self, cls: int, group: str, rng, n: int = 5) -> List[str]:
    ids = self.classes.group_values[cls].get(group)
    pool = self.pools.get(group, [])
    if ids is not None:
      p = self.classes.group_priors[cls][group]
      k = min(n, len(ids))
      return [self.classes.attributes[t] for t in rng.choice(ids, k, replace=False, p=p)]
    return list(rng.permutation(pool)[:n]) if pool else []

  def _t_color(self, img, cls, rng):
    inst = self._first(img, cls)
    ans = self._group_answer(inst, "color")
    if ans is None:
      return None
    name = self.classes.objects[cls]
    q = (f"What color is the {name}?" if rng.random() < 0.85
         else f"What is the color of the {name}?")
    return q, ans, "other", self._prior_plausible(cls, "color", rng)

  def _t_material(self, img, cls, rng):
    ans = self._group_answer(self._first(img, cls), "material")
    if ans is None:
      return None
    name = self.classes.objects[cls]
    return (f"What is the {name} made of?", ans, "other",
            self._prior_plausible(cls, "material", rng))

  def _t_doing(self, img, cls, rng):
    ans = self._group_answer(self._first(img, cls), "pose")
    if ans is None or self.classes.object_kinds[cls] not in ("person", "animal"):
      return None
    name = self.classes.objects[cls]
    return (f"What is the {name} doing?", ans, "other",
            self._prior_plausible(cls, "pose", rng))

  def _hypernym_kind(self, cls):
    name = self.classes.objects[cls]
    hs = [h for h in self.classes.object_hypernyms.get(name, []) if h in self.kind_nouns]
    kind = self.classes.object_kinds[cls]
    if kind in hs:
      return kind
    return hs[0] if hs else None

  def _t_kind(self, img, cls, rng):
    h = self._hypernym_kind(cls)
    if h is None:
      return None
    word = "kind" if rng.random() < 0.6 else "type"
    same = [self.classes.objects[c] for c in range(len(self.objects))
            if h in self.classes.object_hypernyms.get(self.classes.objects[c], [])]
    plaus = list(rng.permutation(same)[:6])
    return f"What {word} of {h} is this?", self.classes.objects[cls], "other", plaus

  def _t_animal(self, img, cls, rng):
    if self.classes.object_kinds[cls] != "animal" or "animal" not in self.objects:
      return None
    same = [o for c, o in enumerate(self.objects) if self.classes.object_kinds[c] == "animal"]
    return ("What animal is this?", self.classes.objects[cls], "other",
            list(rng.permutation(same)[:6]))

  def _t_this(self, img, cls, rng):
    main = img.instances[0].cls
    plaus = list(rng.choice(self.objects, 5, replace=False,
                            p=self.classes.vqa_weights))
    return "What is this?", self.classes.objects[main], "other", plaus

  def _t_on(self, img, cls, rng):
    present = [c for c in self._present(img) if c != cls]
    if not present:
      return None
    ans = self.classes.objects[int(rng.choice(present))]
    plaus = list(rng.choice(self.objects, 5, replace=False, p=self.classes.vqa_weights))
    return f"What is on the {self.classes.objects[cls]}?", ans, "other", plaus

  def _t_count(self, img, cls, rng):
    multi = [c for c in self._present(img)
             if sum(1 for i in img.instances if i.cls == c) > 1]
    if multi and rng.random() < COUNT_MULTI_PREFERENCE:
      cls = int(multi[int(rng.integers(len(multi)))])
    n = sum(1 for i in img.instances if i.cls == cls)
    name = plural(self.classes.objects[cls])
    if name == self.classes.objects[cls]:
      return None  # mass nouns ("furniture") are not counted
    return (f"How many {name} are there?", str(n), "number",
            [str(k) for k in (1, 2, 3, 4, 5)], cls)

  def _absent(self, img, rng) -> int:
    present = set(self._present(img))
    w = self.classes.vqa_weights.copy()
    w[list(present)] = 0
    return int(rng.choice(len(w), p=w / w.sum()))

  def _t_exists(self, img, cls, rng):
    yes = rng.random() < self.cfg.yes_probability
    c = cls if yes else self._absent(img, rng)
    name = self.classes.objects[c]
    if rng.random() < 0.75 or plural(name) == name:
      q = f"Is there {article(name)} {name}?"
    else:
      q = f"Are there any {plural(name)}?"
    return q, "yes" if yes else "no", "yes/no", ["yes", "no"]

  def _t_is_this(self, img, cls, rng):
    yes = rng.random() < self.cfg.yes_probability
    c = cls if yes else self._absent(img, rng)
    name = self.classes.objects[c]
    return f"Is this {article(name)} {name}?", "yes" if yes else "no", "yes/no", ["yes", "no"]

  def _t_attribute(self, img, cls, rng):
    inst = self._first(img, cls)
    groups = [g for g in ("color", "material", "pose", "pattern", "size", "state")
              if self._group_answer(inst, g) is not None]
    if not groups:
      return None
    g = groups[int(rng.integers(len(groups)))]
    true = {self.classes.attributes[t] for t in inst.attributes}
    yes = rng.random() < self.cfg.yes_probability
    if yes:
      value = self._group_answer(inst, g)
    else:
      options = [self.classes.attributes[t] for t in self.classes.group_values[cls][g]
                 if self.classes.attributes[t] not in true]
      if not options:
        return None
      value = options[int(rng.integers(len(options)))]
    name = self.classes.objects[cls]
    return f"Is the {name} {value}?", "yes" if yes else "no", "yes/no", ["yes", "no"]

  def _humans(self, answer: str, answer_type: str, plausible: List[str], rng) -> List[str]:
    agree = self.agreement[answer_type]
    out = []
    for _ in range(10):
      if rng.random() < agree:
        out.append(answer)
      elif answer_type == "yes/no":
        out.append("no" if answer == "yes" else "yes")
      elif answer_type == "number":
        out.append(str(max(0, int(answer) + int(rng.choice([-1, 1])))))
      else:
        alts = [p for p in plausible if p != answer] or [answer]
        out.append(alts[int(rng.integers(len(alts)))])
    return out

  def _choices(self, answer: str, plausible: List[str], humans: List[str], rng) -> List[str]:
    C = self.cfg.num_choices
    out = [answer]
    for a in list(dict.fromkeys(humans)) + list(plausible) + list(POPULAR_ANSWERS):
      if a not in out and len(out) < C:
        out.append(a)
    while len(out) < C:
      a = self.answer_pool[int(rng.integers(len(self.answer_pool)))]
      if a not in out:
        out.append(a)
    return [str(a) for a in rng.permutation(out)]

  def ask(self, img: VQAImage, rng) -> Dict:
    present = self._present(img)
    for _ in range(50):
      template = self.templates[int(rng.choice(len(self.templates), p=self.template_p))]
      cls = int(present[int(rng.integers(len(present)))])
      made = getattr(self, f"_t_{template}")(img, cls, rng)
      if made is not None:
        break
    else:
      made = self._t_exists(img, cls, rng)
      template = "exists"
    question, truth, answer_type, plausible = made[:4]
    if len(made) > 4:  # the template chose its own target
      cls = made[4]
    # The object the question is about, if it is in the image (grounding truth).
    asks_about = self.classes.objects[cls]
    if template == "this":
      asks_about = self.classes.objects[img.instances[0].cls]
    elif template in ("exists", "is_this") and truth == "no":
      asks_about = None  # about an absent class
    plausible = [str(p) for p in plausible]
    humans = self._humans(truth, answer_type, plausible, rng)
    counts = {a: humans.count(a) for a in humans}
    top = max(counts.values())
    answer = truth if counts.get(truth, 0) == top else sorted(
        a for a, c in counts.items() if c == top)[0]
    choices = self._choices(answer, plausible, humans, rng)
    return dict(question=question, question_type=question_type_of(question, self.types),
                answer_type=answer_type, answer=answer, answers=humans,
                choices=choices, label=choices.index(answer), template=template,
                target=self.classes.objects[cls], asks_about=asks_about)
