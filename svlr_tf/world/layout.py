"""Region geometry of the simulated images: image size, object boxes, region boxes.

The features of the world (svlr_tf.world.simulate) are drawn without geometry.
A layout gives every image a size and a box to every object instance and every
region, consistent with what the region's features show:

* an object region covers its object's box; when its features mix in a fraction
  ``m`` of another object, its box is stretched a fraction ``m`` of the way
  towards the union with that object's box (a proposal that spills over a
  neighbour); when it mixes in background, it grows by ``m`` into its
  surroundings;
* a background region lies where objects are not (as far as possible), and is
  stretched towards an object it mixes in the same way.

VQA image: its first object instance is the image's main object (what "what is
this?" asks about), larger and near the centre, as in photographs.

Layouts are drawn from their own random generator (``simulate.stage_rng(seed, 5)`` for
VQA, ``6`` for Genome), after the features: adding them changed no feature,
record or question of the world.

Boxes are [x, y, w, h] in pixels, the format of the real-data boxes files
(docs/architecture.md "Region boxes").
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence

import numpy as np

# Image sizes (width, height) in pixels, as in COCO / Visual Genome (scaled down
# to keep the drawings small).
IMAGE_SIZES = ((320, 240), (320, 213), (320, 256), (240, 320), (320, 320))
MAIN_OBJECT_SIZE = (0.35, 0.65)    # fraction of the image's width / height
OTHER_OBJECT_SIZE = (0.14, 0.38)
BACKGROUND_REGION_SIZE = (0.15, 0.45)
PLACEMENT_TRIES = 30
MAX_COVER = 0.35    # an object may hide at most this fraction of a placed object

# A region "shows a mix" when more than half of its features are another
# instance's (or background, for a background region mixing in an object).
MIX_THRESHOLD = 0.5


@dataclasses.dataclass
class Layout:
  """Geometry of one simulated image.

  Attributes:
    width, height: image size in pixels.
    object_boxes: [n_objects, 4] float boxes of the object instances.
    region_boxes: [n_regions, 4] float boxes of the regions (feature rows).
    region_objects: [n_regions] int, the instance a region shows, -1 = background.
    region_partners: [n_regions] int, the instance mixed into the region, -1 =
      background.
    region_mixes: [n_regions] float, the mixed-in fraction m.
  """

  width: int
  height: int
  object_boxes: np.ndarray
  region_boxes: np.ndarray
  region_objects: np.ndarray
  region_partners: np.ndarray
  region_mixes: np.ndarray

  def shows(self, region: int) -> str:
    """"object", "background" or "mix" (the region's main content is mixed in)."""
    own, partner = int(self.region_objects[region]), int(self.region_partners[region])
    if self.region_mixes[region] > MIX_THRESHOLD and partner != own and (
        partner >= 0 or own >= 0):
      return "mix"
    return "object" if own >= 0 else "background"


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
  """Intersection area of two [x, y, w, h] boxes."""
  w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
  h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
  return max(w, 0.0) * max(h, 0.0)


def _clip(box: np.ndarray, width: int, height: int) -> np.ndarray:
  x0, y0 = np.clip(box[0], 0, width - 2), np.clip(box[1], 0, height - 2)
  x1 = np.clip(box[0] + box[2], x0 + 2, width)
  y1 = np.clip(box[1] + box[3], y0 + 2, height)
  return np.round(np.array([x0, y0, x1 - x0, y1 - y0]), 1)


def _random_box(rng, width: int, height: int, size: Sequence[float],
                centre: Optional[Sequence[float]] = None) -> np.ndarray:
  w = width * rng.uniform(*size)
  h = height * rng.uniform(*size)
  if centre is None:
    x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
  else:
    x = centre[0] * width - w / 2 + rng.normal(0, 0.06) * width
    y = centre[1] * height - h / 2 + rng.normal(0, 0.06) * height
  return _clip(np.array([x, y, w, h]), width, height)


def place_objects(n: int, rng, width: int, height: int, main: bool) -> np.ndarray:
  """[n, 4] object boxes; with ``main`` the first is large and central.

  Each box is placed so that it hides at most ``MAX_COVER`` of any box placed
  before it (the best of ``PLACEMENT_TRIES`` tries otherwise).
  """
  boxes: List[np.ndarray] = []
  for i in range(n):
    if main and i == 0:
      boxes.append(_random_box(rng, width, height, MAIN_OBJECT_SIZE, (0.5, 0.55)))
      continue
    best, best_cover = None, np.inf
    for _ in range(PLACEMENT_TRIES):
      box = _random_box(rng, width, height, OTHER_OBJECT_SIZE)
      cover = max((_overlap(box, b) / (b[2] * b[3]) for b in boxes), default=0.0)
      if cover < best_cover:
        best, best_cover = box, cover
      if cover <= MAX_COVER:
        break
    boxes.append(best)
  return np.array(boxes, np.float64).reshape(n, 4)


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  x0, y0 = min(a[0], b[0]), min(a[1], b[1])
  x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
  return np.array([x0, y0, x1 - x0, y1 - y0])


def _towards(box: np.ndarray, target: np.ndarray, m: float) -> np.ndarray:
  """Corners moved a fraction ``m`` of the way from ``box`` to ``target``."""
  a = np.array([box[0], box[1], box[0] + box[2], box[1] + box[3]])
  b = np.array([target[0], target[1], target[0] + target[2], target[1] + target[3]])
  c = (1.0 - m) * a + m * b
  return np.array([c[0], c[1], c[2] - c[0], c[3] - c[1]])


def _grow(box: np.ndarray, m: float, rng) -> np.ndarray:
  """The box grown by a fraction ~m of its size, unevenly on its four sides."""
  share = rng.dirichlet(np.ones(4))
  dx0, dy0, dx1, dy1 = m * share * 2.0 * np.array([box[2], box[3], box[2], box[3]])
  return np.array([box[0] - dx0, box[1] - dy0, box[2] + dx0 + dx1, box[3] + dy0 + dy1])


def _background_box(rng, width, height, object_boxes) -> np.ndarray:
  best, best_cover = None, np.inf
  for _ in range(PLACEMENT_TRIES):
    box = _random_box(rng, width, height, BACKGROUND_REGION_SIZE)
    cover = sum(_overlap(box, b) for b in object_boxes) / (box[2] * box[3])
    if cover < best_cover:
      best, best_cover = box, cover
    if cover <= 0.1:
      break
  return best


def region_boxes(objects: Sequence[int], partners: Sequence[int], mixes: Sequence[float],
                 object_boxes: np.ndarray, rng, width: int, height: int) -> np.ndarray:
  """[n_regions, 4] region boxes consistent with what each region's features show."""
  out = []
  jitter = lambda: rng.normal(0.0, 0.04)  # noqa: E731  (small box noise)
  for own, partner, m in zip(objects, partners, mixes):
    if own >= 0:
      box = object_boxes[own]
      box = box + np.array([jitter() * box[2], jitter() * box[3], 0.0, 0.0])
    else:
      box = _background_box(rng, width, height, object_boxes)
    if partner >= 0 and partner != own:
      box = _towards(box, _union(box, object_boxes[partner]), m)
    else:
      box = _grow(box, m, rng)
    out.append(_clip(box, width, height))
  return np.array(out, np.float64).reshape(len(out), 4)


def image_layout(num_objects: int, objects: Sequence[int], partners: Sequence[int],
                 mixes: Sequence[float], rng, main: bool) -> Layout:
  """A layout for an image with ``num_objects`` instances and these regions."""
  width, height = IMAGE_SIZES[int(rng.integers(len(IMAGE_SIZES)))]
  object_boxes = place_objects(num_objects, rng, width, height, main)
  boxes = region_boxes(objects, partners, mixes, object_boxes, rng, width, height)
  return Layout(width, height, object_boxes, boxes,
                np.asarray(objects, np.int64), np.asarray(partners, np.int64),
                np.asarray(mixes, np.float64))


def vqa_layout(img, rng) -> Layout:
  """Layout of an ``images.VQAImage`` (regions = its K proposals)."""
  return image_layout(len(img.instances), img.proposal_owner, img.partners, img.mixes,
                      rng, main=True)


def genome_layout(img, rng) -> Layout:
  """Layout of an ``images.GenomeImage`` (region r shows instance r)."""
  n = len(img.objects)
  return image_layout(n, list(range(n)), img.partners, img.mixes, rng, main=False)
