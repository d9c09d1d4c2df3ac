"""The embedded world's vocabulary: real English words with WordNet hypernyms.

``vocabulary.json`` (beside this file) is generated from WordNet 3.0 by
``python -m svlr_tf.world.vocabulary`` and shipped, so generating a world needs
no WordNet.  It holds:

* ``objects``: the core classes (``tier: "core"``, hand-picked Visual Genome /
  COCO nouns with an explicit WordNet sense each, including the general
  classes ``person``, ``animal``, ``vehicle``, ``furniture``, ``food``, ...
  that are hypernyms of the specific ones) followed by ``extended`` nouns (the
  most frequent physical-entity nouns of WordNet's sense-tagged counts), used
  only to reach the paper's 1000 classes.  Each entry has ``name``,
  ``synsets``, ``ancestors`` (every WordNet hypernym synset of the class ->
  its shortest distance) and ``kind`` (``person``, ``animal``, ``vehicle``,
  ``furniture``, ``food``, ``clothing``, ``plant``, ``structure`` or
  ``object``, from the ancestors).
* ``attributes``: core attributes (``group``: color, material, pattern, size,
  pose, state) then extended adjectives (``group: "other"``).

Nothing here is hand-written about hypernyms: the ancestors come from
``synset.closure(hypernym)`` of the named sense.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

VOCABULARY_PATH = os.path.join(os.path.dirname(__file__), "vocabulary.json")

# (name, WordNet senses).  Order = group; the first 100 are the default preset.
CORE_OBJECTS = [
    # people
    ("person", ["person.n.01"]), ("man", ["man.n.01"]), ("woman", ["woman.n.01"]),
    ("boy", ["male_child.n.01"]), ("girl", ["girl.n.01"]), ("child", ["child.n.01"]),
    ("player", ["player.n.01"]), ("skier", ["skier.n.01"]), ("surfer", ["surfer.n.01"]),
    # animals
    ("animal", ["animal.n.01"]), ("bird", ["bird.n.01"]), ("dog", ["dog.n.01"]),
    ("puppy", ["puppy.n.01"]), ("cat", ["cat.n.01"]), ("horse", ["horse.n.01"]),
    ("cow", ["cow.n.01"]), ("sheep", ["sheep.n.01"]), ("elephant", ["elephant.n.01"]),
    ("giraffe", ["giraffe.n.01"]), ("zebra", ["zebra.n.01"]), ("bear", ["bear.n.01"]),
    ("duck", ["duck.n.01"]), ("pigeon", ["pigeon.n.01"]),
    # vehicles
    ("vehicle", ["vehicle.n.01"]), ("car", ["car.n.01"]), ("truck", ["truck.n.01"]),
    ("bus", ["bus.n.01"]), ("train", ["train.n.01"]), ("motorcycle", ["motorcycle.n.01"]),
    ("bicycle", ["bicycle.n.01"]), ("airplane", ["airplane.n.01"]), ("boat", ["boat.n.01"]),
    # furniture
    ("furniture", ["furniture.n.01"]), ("chair", ["chair.n.01"]), ("table", ["table.n.02"]),
    ("bed", ["bed.n.01"]), ("couch", ["couch.n.01"]), ("bench", ["bench.n.01"]),
    ("desk", ["desk.n.01"]), ("cabinet", ["cabinet.n.01"]),
    # food
    ("food", ["food.n.01", "food.n.02"]), ("fruit", ["fruit.n.01"]),
    ("vegetable", ["vegetable.n.01"]), ("banana", ["banana.n.02"]), ("apple", ["apple.n.01"]),
    ("orange", ["orange.n.01"]), ("broccoli", ["broccoli.n.02"]), ("carrot", ["carrot.n.03"]),
    ("pizza", ["pizza.n.01"]), ("sandwich", ["sandwich.n.01"]), ("cake", ["cake.n.03"]),
    ("bread", ["bread.n.01"]), ("cheese", ["cheese.n.01"]),
    # clothing
    ("clothing", ["clothing.n.01"]), ("shirt", ["shirt.n.01"]), ("jacket", ["jacket.n.01"]),
    ("hat", ["hat.n.01"]), ("shoe", ["shoe.n.01"]), ("dress", ["dress.n.01"]),
    ("coat", ["coat.n.01"]), ("helmet", ["helmet.n.02"]), ("tie", ["necktie.n.01"]),
    # plants
    ("plant", ["plant.n.02"]), ("tree", ["tree.n.01"]), ("flower", ["flower.n.01"]),
    ("grass", ["grass.n.01"]), ("bush", ["shrub.n.01"]), ("leaf", ["leaf.n.01"]),
    # structures
    ("structure", ["structure.n.01"]), ("building", ["building.n.01"]),
    ("house", ["house.n.01"]), ("door", ["door.n.01"]), ("wall", ["wall.n.01"]),
    ("fence", ["fence.n.01"]), ("roof", ["roof.n.01"]), ("tower", ["tower.n.01"]),
    ("bridge", ["bridge.n.01"]), ("sign", ["sign.n.02"]), ("pole", ["pole.n.01"]),
    # containers
    ("container", ["container.n.01"]), ("bottle", ["bottle.n.01"]), ("cup", ["cup.n.01"]),
    ("bowl", ["bowl.n.03"]), ("plate", ["plate.n.04"]), ("vase", ["vase.n.01"]),
    ("bag", ["bag.n.01"]), ("basket", ["basket.n.01"]), ("box", ["box.n.01"]),
    # devices and other things
    ("device", ["device.n.01"]), ("clock", ["clock.n.01"]), ("phone", ["telephone.n.01"]),
    ("laptop", ["laptop.n.01"]), ("television", ["television_receiver.n.01"]),
    ("lamp", ["lamp.n.01"]), ("umbrella", ["umbrella.n.01"]), ("kite", ["kite.n.03"]),
    ("ball", ["ball.n.01"]), ("skateboard", ["skateboard.n.01"]),
    ("surfboard", ["surfboard.n.01"]), ("toilet", ["toilet.n.02"]), ("sink", ["sink.n.01"]),
    ("book", ["book.n.02"]), ("wheel", ["wheel.n.01"]), ("mirror", ["mirror.n.01"]),
    ("pillow", ["pillow.n.01"]),
]

# (name, group).  Order = group; the first 60 are the default preset.
CORE_ATTRIBUTES = (
    [(c, "color") for c in ("white", "black", "blue", "green", "red", "brown", "yellow",
                            "gray", "orange", "pink", "purple", "silver", "tan")]
    + [(m, "material") for m in ("wooden", "metal", "plastic", "concrete", "brick",
                                 "leather", "stone", "ceramic")]
    + [(p, "pattern") for p in ("striped", "plaid", "spotted", "checkered", "floral",
                                "dotted")]
    + [(s, "size") for s in ("large", "small", "tall", "short", "long", "big")]
    + [(p, "pose") for p in ("standing", "sitting", "walking", "running", "lying",
                             "flying", "parked", "smiling")]
    + [(s, "state") for s in ("open", "closed", "empty", "full", "wet", "dirty", "clean",
                              "shiny", "old", "young", "round", "square", "bare", "leafy",
                              "ripe", "sliced", "cooked", "bright", "dark")]
)

# Kind of an object class: the first of these synsets among its ancestors.
KIND_SYNSETS = [
    ("person", "person.n.01"), ("animal", "animal.n.01"),
    ("vehicle", "conveyance.n.03"), ("furniture", "furniture.n.01"),
    ("food", "food.n.01"), ("food", "food.n.02"), ("food", "produce.n.01"),
    ("clothing", "clothing.n.01"), ("plant", "plant.n.02"), ("plant", "plant_part.n.01"),
    ("structure", "structure.n.01"),
]


# Number words are answers of counting questions, not attributes.
_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve twenty "
    "hundred thousand million billion first second third fourth fifth".split())


def _ancestors(synsets) -> Dict[str, int]:
  """Every hypernym synset of the given synsets -> shortest distance (self = 0)."""
  dist: Dict[str, int] = {}
  frontier = list(synsets)
  d = 0
  while frontier:
    nxt = []
    for s in frontier:
      if s.name() in dist:
        continue
      dist[s.name()] = d
      nxt.extend(s.hypernyms() + s.instance_hypernyms())
    frontier = nxt
    d += 1
  return dist


def _kind(ancestors: Dict[str, int]) -> str:
  for kind, synset in KIND_SYNSETS:
    if synset in ancestors:
      return kind
  return "object"


def _wordnet():
  """NLTK's WordNet reader, from svlr_tf.text when available."""
  from svlr_tf import text  # pylint: disable=import-outside-toplevel
  wn = text.wordnet()
  if wn is None:
    raise RuntimeError("WordNet 3.0 is needed to regenerate vocabulary.json "
                       "(see svlr_tf.text.wordnet).")
  return wn


def build_vocabulary(wn=None, num_objects: int = 1000,
                     num_attributes: int = 1000) -> Dict[str, Any]:
  """Builds the vocabulary dict from WordNet (see the module docstring).

  Args:
    wn: an NLTK WordNet corpus reader (default: ``svlr_tf.text.wordnet()``).
    num_objects / num_attributes: total sizes (core first, then extended).
  """
  wn = wn or _wordnet()
  objects: List[Dict[str, Any]] = []
  seen = set()
  for name, senses in CORE_OBJECTS:
    synsets = [wn.synset(s) for s in senses]
    anc = _ancestors(synsets)
    objects.append(dict(name=name, synsets=senses, ancestors=anc, kind=_kind(anc),
                        tier="core"))
    seen.add(name)
  # Extended nouns: most frequent sense of single-word lemmas that are physical
  # entities, ranked by WordNet's sense-tagged frequency counts.
  physical = "physical_entity.n.01"
  candidates = []
  for s in wn.all_synsets("n"):
    for lemma in s.lemmas():
      word = lemma.name()
      if not word.isalpha() or not word.islower() or len(word) < 3 or word in seen:
        continue
      first = wn.synsets(word, "n")
      if not first or first[0] != s:
        continue
      anc = _ancestors([s])
      if physical not in anc:
        continue
      candidates.append((-lemma.count(), word, s.name(), anc))
  candidates.sort(key=lambda c: (c[0], c[1]))
  for _, word, sname, anc in candidates:
    if len(objects) >= num_objects:
      break
    if word in seen:
      continue
    seen.add(word)
    objects.append(dict(name=word, synsets=[sname], ancestors=anc, kind=_kind(anc),
                        tier="extended"))
  by_synset = {}
  for o in objects:
    for s in o["synsets"]:
      by_synset.setdefault(s, o["name"])
  for o in objects:
    own = set(o["synsets"])
    o["hypernyms"] = sorted({by_synset[s] for s in o["ancestors"]
                             if s in by_synset and s not in own} - {o["name"]})

  attributes = [dict(name=n, group=g, tier="core") for n, g in CORE_ATTRIBUTES]
  seen_a = {n for n, _ in CORE_ATTRIBUTES}
  adj = []
  for pos in ("a", "s"):
    for s in wn.all_synsets(pos):
      for lemma in s.lemmas():
        word = lemma.name()
        if (not word.isalpha() or not word.islower() or len(word) < 3
            or word in seen_a or word in _NUMBER_WORDS):
          continue
        first = wn.synsets(word, "a") + wn.synsets(word, "s")
        if not first or s not in first[:1]:
          continue
        adj.append((-lemma.count(), word))
  adj.sort()
  for _, word in adj:
    if len(attributes) >= num_attributes:
      break
    if word in seen_a:
      continue
    seen_a.add(word)
    attributes.append(dict(name=word, group="other", tier="extended"))
  return {"source": "WordNet 3.0 (generated by python -m svlr_tf.world.vocabulary)",
          "objects": objects, "attributes": attributes}


def load_vocabulary(path: Optional[str] = None) -> Dict[str, Any]:
  """Reads the shipped vocabulary.json."""
  from svlr_tf.runtime.errors import DataError  # pylint: disable=import-outside-toplevel
  from svlr_tf.runtime.files import read_json  # pylint: disable=import-outside-toplevel
  path = path or VOCABULARY_PATH
  vocab = read_json(path)
  if not isinstance(vocab, dict):
    raise DataError(path, "expected a JSON object")
  for key in ("objects", "attributes"):
    if not isinstance(vocab.get(key), list) or not vocab[key]:
      raise DataError(path, f"missing or empty field {key!r}")
  return vocab


def main():
  vocab = build_vocabulary()
  tmp = VOCABULARY_PATH + ".tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    json.dump(vocab, f, separators=(",", ":"), sort_keys=True)
  os.replace(tmp, VOCABULARY_PATH)
  print(f"wrote {VOCABULARY_PATH}: {len(vocab['objects'])} objects, "
        f"{len(vocab['attributes'])} attributes")


if __name__ == "__main__":
  main()
