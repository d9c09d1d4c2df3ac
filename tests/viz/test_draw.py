"""svlr_tf.viz.draw: valid PNGs of the expected size, relevance projection."""

import os

import numpy as np
import pytest
from PIL import Image

from svlr_tf.viz import draw


def test_relevance_image_sums_the_boxes_covering_each_pixel():
  boxes = [[0, 0, 2, 2], [1, 1, 2, 1]]
  out = draw.relevance_image(boxes, [0.25, 0.5], width=4, height=3)
  expected = np.array([[0.25, 0.25, 0, 0],
                       [0.25, 0.75, 0.5, 0],
                       [0, 0, 0, 0]])
  np.testing.assert_allclose(out, expected)


def test_attention_panel_png_is_valid_and_sized(tmp_path):
  rng = np.random.default_rng(0)
  image = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
  fig = draw.new_figure(columns=2, rows=1, panel_size=(3.0, 2.5), dpi=50)
  boxes = [[5, 5, 30, 20], [40, 10, 30, 40], [0, 0, 80, 60]]
  draw.attention_panel(fig.axes[0], image, boxes, [0.7, 0.2, 0.1], top_k=2,
                       title="what color is the dog?\npredicted: brown (true: brown)")
  draw.attention_panel(fig.axes[1], None, boxes, [0.0, 0.0, 0.0], image_size=(80, 60))
  path = draw.save_png(fig, str(tmp_path / "sub" / "panel.png"))
  with Image.open(path) as im:
    im.verify()
  with Image.open(path) as im:
    assert im.format == "PNG"
    width, height = im.size
  # bbox_inches="tight" trims margins: at most the nominal 300 x 125 pixels.
  assert 100 < width <= 310 and 50 < height <= 135
  assert not [f for f in os.listdir(tmp_path / "sub") if f.endswith(".tmp.png")]


def test_attention_panel_darkens_unattended_pixels():
  image = np.full((40, 40, 3), 200, np.uint8)
  fig = draw.new_figure(panel_size=(2, 2), dpi=40)
  draw.attention_panel(fig.axes[0], image, [[0, 0, 20, 40], [20, 0, 20, 40]],
                       [1.0, 0.0], top_k=0)
  shown = fig.axes[0].images[0].get_array()
  assert shown[:, :20].mean() == pytest.approx(200, abs=1)
  assert shown[:, 20:].mean() == pytest.approx(200 * draw.DIM_FLOOR, abs=1)


def test_attention_panel_rejects_mismatched_weights():
  fig = draw.new_figure()
  with pytest.raises(ValueError, match="2 boxes but 3 weights"):
    draw.attention_panel(fig.axes[0], None, [[0, 0, 1, 1]] * 2, [1, 0, 0])


def test_heat_map_and_line_chart_render_to_arrays(tmp_path):
  fig = draw.new_figure(columns=2, panel_size=(3, 2.5), dpi=40)
  values = np.array([[1.0, -2.0], [np.nan, 0.5]])
  draw.heat_map(fig.axes[0], values, ["rare", "common"], ["few", "many"],
                cell_text=[["1.0", "-2.0"], ["", "0.5"]], cmap="RdBu_r", center=0.0,
                colorbar_label="change")
  draw.line_chart(fig.axes[1], [0, 0.5, 1], {"a": [0.1, 0.2, np.nan], "b": [0, 0, 0]},
                  "t", "corr")
  array = draw.to_array(fig)
  assert array.dtype == np.uint8 and array.shape == (100, 240, 3)
  assert array.std() > 0  # something was drawn
  with pytest.raises(ValueError, match="values"):
    draw.heat_map(fig.axes[0], values, ["a"], ["b", "c"])


def test_question_figure_and_validation_images(tiny_world, tmp_path):
  from svlr_tf.viz.attention_figure import Panel, question_figure, validation_images
  fig = question_figure(None, [[0, 0, 10, 10], [5, 5, 20, 10]], "What color is the dog?",
                        "brown", [Panel("Joint SVLR", [0.9, 0.1], "brown", True),
                                  Panel("VQA Only", [0.5, 0.5, 0.0], "white", False)],
                        image_size=(40, 30), caption="question 1")
  assert len(fig.axes) == 2
  assert "Q: What color is the dog?" in fig._suptitle.get_text()
  assert fig.axes[1].get_title(loc="left").startswith("VQA Only: white")
  rng = np.random.default_rng(0)
  attention = rng.dirichlet(np.ones(6), size=5)
  images = validation_images(tiny_world, "heldout", attention, ["yes"] * 5, max_images=2)
  assert images.dtype == np.uint8 and images.shape[0] == 2 and images.shape[-1] == 3
  assert images.shape[1] > 100 and images.shape[2] > 100
  (tmp_path / "vqa").mkdir()
  assert validation_images(str(tmp_path), "heldout", attention, ["yes"] * 5) is None
