"""Object and attribute classes, their hypernyms, and the image split
(``tools.prepare_genome``, steps 3-4 and 6)."""

from __future__ import annotations

import collections
import hashlib
from typing import Dict, Iterable, List, Sequence

from absl import logging

from svlr_tf import text
from svlr_tf.data.prepared import RECOGNITION_SPLITS
from svlr_tf.runtime.errors import DataError


SPLIT_FRACTIONS = (0.85, 0.05, 0.10)


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
