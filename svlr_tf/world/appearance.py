"""The appearance of the simulated world: object instances, scenes, backgrounds,
proposal regions, and the fixed random network that stands in for the CNN.

  latent(instance) = centre(class) + attribute_scale * sum_{t in true attributes} A[t]
                   + nuisance_scale * noise
  region           = (1 - m) * latent(object) + m * latent(neighbour or background)
                   + scene(image)                 m ~ Beta (imperfect boxes)
  feature          = relu(W2 relu(W1 region + b1) + b2)    fixed random network, [D] >= 0
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Tuple

import numpy as np

from svlr_tf.world.classes import (GROUP_PROBABILITY, OTHER_GROUP_PROBABILITY,
                                   SECOND_COLOR_PROBABILITY, Classes, unit)
from svlr_tf.world.config import WorldConfig

NUM_SCENES = 8
NUM_BACKGROUNDS = 16


@dataclasses.dataclass
class Instance:
  cls: int
  attributes: List[int]
  latent: np.ndarray


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
    self.scenes = cfg.scene_scale * unit(rng.standard_normal((NUM_SCENES, L)))
    self.backgrounds = unit(rng.standard_normal((NUM_BACKGROUNDS, L)))

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
