"""Grounding: how well the attention a(R) (Eq. 4) agrees with a reference map.

Table 2 of the paper compares attention maps with human attention (VQA-HAT,
Das et al.) "by resizing attention maps to 14x14 and computing the Spearman rank
correlation"; the region attention becomes a map by projecting each region's
score back to its pixels (Fig. 4 caption).

  rasterise(boxes, weights, width, height, grid=14)   region attention -> [grid, grid]
  box_mask(boxes, width, height, grid=14)             union of boxes -> [grid, grid]
  centre_map(grid=14)                                 centre-Gaussian baseline map
  rank_correlation(a, b)                              Spearman's rho over the cells
  pointing_hit(weights, shows_target)                 top region shows the object?
  centre_weights(boxes, width, height)                centre baseline over regions
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

GRID = 14
# Standard deviation of the centre baseline, as a fraction of the map's side.
CENTRE_SIGMA = 0.25
_SUBSAMPLES = 8  # points per cell side when rasterising a union of boxes


def _axis_overlap(starts: np.ndarray, ends: np.ndarray, size: float,
                  grid: int) -> np.ndarray:
  """[n, grid]: fraction of each of ``grid`` equal cells along an axis of length
  ``size`` covered by each interval [start, end)."""
  edges = np.linspace(0.0, float(size), grid + 1)
  lo = np.maximum(starts[:, None], edges[None, :-1])
  hi = np.minimum(ends[:, None], edges[None, 1:])
  return np.clip(hi - lo, 0.0, None) / (float(size) / grid)


def rasterise(boxes, weights, width: float, height: float, grid: int = GRID) -> np.ndarray:
  """Region weights projected onto a ``grid`` x ``grid`` map of the image.

  Each region adds its weight to every pixel of its box (the Fig. 4 caption's
  "relevance scores projected back to their source pixel locations"); a cell's
  value is the mean over its pixels (computed exactly from the overlap of the
  box with the cell: cell[i, j] = sum_R a(R) * |box_R ∩ cell| / |cell|).

  Args:
    boxes: [K, 4] pixel boxes [x, y, w, h].
    weights: [K] region weights (a(R); 0 for padded regions).
    width, height: image size in pixels.
  Returns: float64 [grid, grid], row 0 at the top.
  """
  boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
  weights = np.asarray(weights, np.float64).reshape(-1)
  if len(boxes) != len(weights):
    raise ValueError(f"{len(boxes)} boxes but {len(weights)} weights")
  cols = _axis_overlap(boxes[:, 0], boxes[:, 0] + boxes[:, 2], width, grid)
  rows = _axis_overlap(boxes[:, 1], boxes[:, 1] + boxes[:, 3], height, grid)
  return np.einsum("k,ki,kj->ij", weights, rows, cols)


def box_mask(boxes, width: float, height: float, grid: int = GRID) -> np.ndarray:
  """Fraction of each cell covered by the union of ``boxes``: [grid, grid] in [0, 1].

  Estimated on ``_SUBSAMPLES`` x ``_SUBSAMPLES`` points per cell.
  """
  n = grid * _SUBSAMPLES
  xs = (np.arange(n) + 0.5) * (float(width) / n)
  ys = (np.arange(n) + 0.5) * (float(height) / n)
  inside = np.zeros((n, n), bool)
  for x, y, w, h in np.asarray(boxes, np.float64).reshape(-1, 4):
    cols = (xs >= x) & (xs < x + w)
    rows = (ys >= y) & (ys < y + h)
    inside |= rows[:, None] & cols[None, :]
  return inside.reshape(grid, _SUBSAMPLES, grid, _SUBSAMPLES).mean(axis=(1, 3))


def centre_map(grid: int = GRID, sigma: float = CENTRE_SIGMA) -> np.ndarray:
  """The centre-focused baseline: an isotropic Gaussian at the image centre.

  ``sigma`` is a fraction of the side (the map is in image-relative
  coordinates, so it stretches with the image's aspect ratio).
  """
  c = (np.arange(grid) + 0.5) / grid - 0.5
  g = np.exp(-(c[:, None] ** 2 + c[None, :] ** 2) / (2.0 * sigma ** 2))
  return g / g.max()


def rank_correlation(a, b) -> float:
  """Spearman's rank correlation of two maps over their cells (ties: mean ranks).

  NaN when either map is constant (no ranking to compare).
  """
  a = np.asarray(a, np.float64).ravel()
  b = np.asarray(b, np.float64).ravel()
  if a.shape != b.shape:
    raise ValueError(f"maps of {a.size} and {b.size} cells")
  if np.ptp(a) == 0 or np.ptp(b) == 0:
    return float("nan")
  return float(stats.spearmanr(a, b).statistic)


def pointing_hit(weights, shows_target: Sequence[bool]) -> bool:
  """True if the region of highest weight shows the target (first on ties)."""
  weights = np.asarray(weights, np.float64)
  return bool(np.asarray(shows_target, bool)[int(np.argmax(weights))])


def centre_weights(boxes, width: float, height: float, grid: int = GRID) -> np.ndarray:
  """The centre baseline as region weights: the mean of ``centre_map`` over each
  box, normalised to sum to 1 (its top region is the most central one)."""
  boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
  cols = _axis_overlap(boxes[:, 0], boxes[:, 0] + boxes[:, 2], width, grid)
  rows = _axis_overlap(boxes[:, 1], boxes[:, 1] + boxes[:, 3], height, grid)
  mass = np.einsum("ki,ij,kj->k", rows, centre_map(grid), cols)
  area = rows.sum(1) * cols.sum(1)
  w = mass / np.maximum(area, 1e-12)
  return w / max(w.sum(), 1e-12)


# -- the world's Table 2 ---------------------------------------------------------


def world_grounding(questions, boxes, attention) -> dict:
  """Grounding of one model on the embedded world's questions about an object.

  Args:
    questions: grounding lines ({"question_id", "image_id", "asks_about",
      "objects"}, vqa/<split>_grounding.jsonl); lines with ``asks_about`` null
      are skipped.
    boxes: {image_id: ``svlr_tf.data.boxes.ImageBoxes``} with ``regions`` and
      ``objects``.
    attention: {question_id: [K] a(R)} (K >= the image's boxes; extra entries
      are padding).
  Returns:
    {"questions": n, "undefined_correlations": m,
     "pointing": {"model", "uniform", "centre", "oracle"},  fractions in [0, 1]
     "rank_correlation": {...the same keys},  means over the questions whose
       correlation is defined,
     "per_question_correlation": {...the same keys}: the lists}.
    Uniform: a(R) = 1/n over the image's regions (its pointing accuracy is the
    expected one of a random region); centre: the centre-Gaussian map (pointing:
    the region of highest mean centre weight); oracle: all of a(R), equally, on
    the regions that show the asked object (uniform if none does) -- the ceiling
    of region attention against a truth that is a binary union of boxes, which
    proposals overlapping other objects cannot reach.
  """
  names = ("model", "uniform", "centre", "oracle")
  hits = {k: [] for k in names}
  rhos = {k: [] for k in names}
  centre = centre_map()
  for q in questions:
    if q.get("asks_about") is None:
      continue
    entry = boxes[q["image_id"]]
    n = len(entry.boxes)
    weights = np.asarray(attention[q["question_id"]], np.float64)[:n]
    shows = [r.get("class") == q["asks_about"] for r in entry.regions]
    truth = box_mask([entry.objects[i]["box"] for i in q["objects"]], entry.width,
                     entry.height)
    uniform = np.full(n, 1.0 / n)
    oracle = (np.asarray(shows, np.float64) / max(sum(shows), 1) if any(shows)
              else uniform)
    hits["oracle"].append(pointing_hit(oracle, shows))
    rhos["oracle"].append(rank_correlation(
        rasterise(entry.boxes, oracle, entry.width, entry.height), truth))
    hits["model"].append(pointing_hit(weights, shows))
    hits["uniform"].append(float(np.mean(shows)))
    hits["centre"].append(pointing_hit(centre_weights(entry.boxes, entry.width,
                                                      entry.height), shows))
    rhos["model"].append(rank_correlation(
        rasterise(entry.boxes, weights, entry.width, entry.height), truth))
    rhos["uniform"].append(rank_correlation(
        rasterise(entry.boxes, uniform, entry.width, entry.height), truth))
    rhos["centre"].append(rank_correlation(centre, truth))
  undefined = int(np.isnan(rhos["model"]).sum()) if rhos["model"] else 0
  return {
      "questions": len(hits["model"]), "undefined_correlations": undefined,
      "pointing": {k: float(np.mean(v)) if v else float("nan") for k, v in hits.items()},
      "rank_correlation": {k: _nanmean(v) if v else float("nan")
                           for k, v in rhos.items()},
      "per_question_correlation": {k: [float(x) for x in v] for k, v in rhos.items()}}


# -- Table 2 on real data (VQA-HAT) and Fig. 7 -----------------------------------

# Fig. 7: thresholds on a human map's correlation with the centre map.
FIG7_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(21))


def human_correlations(human_maps, boxes, weights) -> float:
  """Mean rank correlation of one question's attention with its human maps.

  Args:
    human_maps: [m, grid, grid] (one per annotator).
    boxes: the question's image's ``ImageBoxes``.
    weights: [K] a(R) (padding past the boxes dropped).
  Returns: the mean over the maps whose correlation is defined (NaN if none).
  """
  n = len(boxes.boxes)
  grid = np.asarray(human_maps[0]).shape[0]
  model = rasterise(boxes.boxes, np.asarray(weights, np.float64)[:n], boxes.width,
                    boxes.height, grid)
  return _nanmean([rank_correlation(model, h) for h in human_maps])


def _nanmean(values) -> float:
  values = np.asarray(values, np.float64)
  return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def centre_correlation(human_maps) -> float:
  """Mean rank correlation of the centre baseline with a question's human maps."""
  grid = np.asarray(human_maps[0]).shape[0]
  return _nanmean([rank_correlation(centre_map(grid), h) for h in human_maps])


def inter_human_correlation(human_maps) -> float:
  """Mean rank correlation between pairs of a question's human maps (the
  paper's "Human" column); NaN with fewer than 2 maps."""
  pairs = [rank_correlation(human_maps[i], human_maps[j])
           for i in range(len(human_maps)) for j in range(i + 1, len(human_maps))]
  return _nanmean(pairs) if pairs else float("nan")


def fig7_curve(correlations, centre_correlations,
               thresholds: Sequence[float] = FIG7_THRESHOLDS) -> dict:
  """Fig. 7: mean correlation over the questions whose human map correlates with
  the centre map at most t, for each threshold t.

  Returns: {"thresholds": [...], "mean": [... NaN for an empty subset],
  "questions": [subset sizes]}.
  """
  rho = np.asarray(correlations, np.float64)
  centre = np.asarray(centre_correlations, np.float64)
  means, sizes = [], []
  for t in thresholds:
    keep = (centre <= t) & np.isfinite(rho)
    sizes.append(int(keep.sum()))
    means.append(float(rho[keep].mean()) if keep.any() else float("nan"))
  return {"thresholds": list(thresholds), "mean": means, "questions": sizes}
