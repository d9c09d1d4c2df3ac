"""Does g move words towards visual neighbourhoods? (Sec. 5.5, tested directly)

Sec. 5.5 reads Table 4 as g's neighbours shifting from the input vectors'
co-occurrence neighbourhoods towards visual ones.  The embedded world knows the
true visual similarity of its object classes: each class's latent centre
(``svlr_tf.world.classes``: a decayed sum of random prototypes of the class's
WordNet synset and its hypernyms, from which every region's appearance is
drawn).  So the shift can be measured: the Spearman rank correlation, over all
pairs of object classes with a one-word name, between the cosine similarity of
their latent centres and the cosine similarity (after mean centring over the
candidate words, as Table 4's neighbours) of their word vectors -- for the
input vectors (GloVe) and for g.

  latent_class_similarity(meta, objects) -> [O, O]   the world's truth
  similarity_correlation(vectors, rows, truth) -> float
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
from scipy import stats

from svlr_tf.runtime.errors import DataError
from svlr_tf.evaluation.word_neighbours import mean_centred_unit


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
  from svlr_tf.world.classes import build_classes, unit
  from svlr_tf.world.config import WorldConfig
  from svlr_tf.world.simulate import stage_rng
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


def similarity_correlation(vectors: np.ndarray, rows: Sequence[int],
                           truth: np.ndarray) -> float:
  """Spearman's rho over pairs between word-vector and true similarities.

  Args:
    vectors: [N, E] candidate word vectors (mean centred over all N rows, then
      cosine, as Table 4's neighbours).
    rows: [C] the candidate row of each class (C >= 3).
    truth: [C, C] true similarity of the same classes, in ``rows`` order.
  Returns: rho over the C (C - 1) / 2 pairs (NaN if either side is constant).
  """
  rows = list(rows)
  if len(rows) < 3:
    raise ValueError(f"{len(rows)} classes: need at least 3 for pairs to rank")
  unit_vectors = mean_centred_unit(vectors)[rows]
  cosine = unit_vectors @ unit_vectors.T
  upper = np.triu_indices(len(rows), k=1)
  a, b = cosine[upper], np.asarray(truth, np.float64)[upper]
  if np.ptp(a) == 0 or np.ptp(b) == 0:
    return float("nan")
  return float(stats.spearmanr(a, b).statistic)
