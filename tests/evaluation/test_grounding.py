"""Grounding metrics (Table 2): rasteriser, rank correlation, pointing, the world's score."""

import json
import os

import numpy as np
import pytest

from svlr_tf.data.boxes import load_boxes
from svlr_tf.evaluation import grounding


def test_rasterise_hand_computed():
  # A 4 x 4 image on a 2 x 2 grid: cells of 2 x 2 pixels.
  out = grounding.rasterise([[0, 0, 2, 2], [1, 1, 2, 2]], [1.0, 0.5], 4, 4, grid=2)
  # The second box covers a quarter (1 pixel of 4) of each cell: 0.5 / 4.
  np.testing.assert_allclose(out, [[1.125, 0.125], [0.125, 0.125]])
  # A 6 x 2 image on a 3 x 3 grid (cells 2 wide, 2/3 high): the box x in [1, 3),
  # y in [0, 1) covers half of columns 0 and 1, all of row 0 and half of row 1.
  out = grounding.rasterise([[1, 0, 2, 1]], [0.9], 6, 2, grid=3)
  np.testing.assert_allclose(out, [[0.45, 0.45, 0.0], [0.225, 0.225, 0.0],
                                   [0.0, 0.0, 0.0]], atol=1e-12)
  with pytest.raises(ValueError, match="1 boxes but 2 weights"):
    grounding.rasterise([[0, 0, 1, 1]], [1, 2], 4, 4)


def test_box_mask_is_the_covered_fraction_of_the_union():
  out = grounding.box_mask([[0, 0, 2, 4], [0, 0, 1, 1]], 4, 4, grid=2)
  np.testing.assert_allclose(out, [[1.0, 0.0], [1.0, 0.0]])
  out = grounding.box_mask([[1, 0, 2, 2]], 4, 4, grid=2)
  np.testing.assert_allclose(out, [[0.5, 0.5], [0.0, 0.0]])


def test_rank_correlation_hand_computed():
  # Ranks 1 2 3 4 vs 1 3 2 4: rho = 1 - 6 * (0 + 1 + 1 + 0) / (4 * 15) = 0.8.
  assert grounding.rank_correlation([[1, 2], [3, 4]], [[10, 30], [20, 40]]) == (
      pytest.approx(0.8))
  # Ties take mean ranks: (1.5 1.5 3.5 3.5) vs (1 2 3 4): 4 / (2 * sqrt(5)).
  assert grounding.rank_correlation([0, 0, 1, 1], [1, 2, 3, 4]) == pytest.approx(
      4 / (2 * np.sqrt(5)))
  assert grounding.rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
  assert np.isnan(grounding.rank_correlation([1, 1, 1, 1], [1, 2, 3, 4]))


def test_centre_map_and_weights():
  c = grounding.centre_map(14)
  assert c.shape == (14, 14) and c.max() == pytest.approx(1.0)
  assert c[6, 6] == c.max() and c[0, 0] == c.min()
  np.testing.assert_allclose(c, c.T)
  w = grounding.centre_weights([[0, 0, 20, 20], [40, 30, 20, 20], [80, 60, 20, 20]],
                               100, 80)
  assert w.sum() == pytest.approx(1.0) and int(np.argmax(w)) == 1


def test_pointing_hit():
  assert grounding.pointing_hit([0.1, 0.7, 0.2], [False, True, False])
  assert not grounding.pointing_hit([0.1, 0.7, 0.2], [True, False, True])


def _grounding_lines(tiny_world, split="test"):
  with open(os.path.join(tiny_world, "vqa", f"{split}_grounding.jsonl")) as f:
    return [json.loads(line) for line in f]


def test_attention_forced_onto_the_asked_object_points_perfectly(tiny_world):
  lines = _grounding_lines(tiny_world)
  boxes = load_boxes(tiny_world, "vqa")
  forced, spread = {}, {}
  for q in lines:
    entry = boxes[q["image_id"]]
    k = len(entry.boxes) + 2  # two padded regions
    on_object = [r.get("class") == q["asks_about"] for r in entry.regions] + [False] * 2
    a = np.where(on_object, 1.0, 0.0)
    forced[q["question_id"]] = a / max(a.sum(), 1.0)
    spread[q["question_id"]] = np.r_[np.full(k - 2, 1.0 / (k - 2)), 0.0, 0.0]
  good = grounding.world_grounding(lines, boxes, forced)
  asked = sum(q["asks_about"] is not None for q in lines)
  assert good["questions"] == asked > 10
  assert good["pointing"]["model"] == 1.0
  assert good["pointing"]["uniform"] < 0.6
  assert good["rank_correlation"]["model"] > good["rank_correlation"]["uniform"]
  assert good["rank_correlation"]["model"] > 0.5
  # The oracle row is exactly this forced attention (the ceiling of Table 2).
  assert good["pointing"]["oracle"] == 1.0
  assert good["rank_correlation"]["oracle"] == pytest.approx(
      good["rank_correlation"]["model"])
  assert good["rank_correlation"]["oracle"] < 0.95  # boxes overlap other objects
  # Uniform attention as "the model" scores exactly the uniform baseline.
  flat = grounding.world_grounding(lines, boxes, spread)
  assert flat["rank_correlation"]["model"] == pytest.approx(
      flat["rank_correlation"]["uniform"])


def test_human_correlations_centre_and_fig7():
  from svlr_tf.data.boxes import ImageBoxes
  boxes = ImageBoxes(1, None, 4, 4, np.array([[0.0, 0.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0]]))
  human = np.zeros((2, 2, 2))
  human[0] = [[1.0, 0.5], [0.5, 0.0]]  # looked at the top left
  human[1] = [[0.9, 0.2], [0.3, 0.1]]
  # On a 2 x 2 grid the two boxes are the diagonal cells: the attention's map is
  # [[0.8, 0], [0, 0.2]]; the score is the mean of its rho with the two maps.
  rho = grounding.human_correlations(human, boxes, [0.8, 0.2, 0.0])
  expected = np.mean([grounding.rank_correlation([[0.8, 0], [0, 0.2]], h) for h in human])
  assert rho == pytest.approx(expected)
  assert grounding.inter_human_correlation(human) == pytest.approx(
      grounding.rank_correlation(human[0], human[1]))
  assert np.isnan(grounding.inter_human_correlation(human[:1]))
  curve = grounding.fig7_curve([0.1, 0.5, np.nan, 0.9], [0.2, 0.6, 0.1, 1.0],
                               thresholds=(0.0, 0.2, 0.6, 1.0))
  assert curve["questions"] == [0, 1, 2, 3]
  assert np.isnan(curve["mean"][0])
  assert curve["mean"][1:] == pytest.approx([0.1, 0.3, 0.5])
