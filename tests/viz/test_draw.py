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


def _hue(rgb):
  import colorsys
  return 360.0 * colorsys.rgb_to_hsv(*(np.asarray(rgb, np.float64) / 255.0))[0]


def test_attention_panel_veils_unattended_pixels_keeping_hue_and_lightness():
  # Left half yellow, right half white; all attention on the left.
  image = np.zeros((40, 40, 3), np.uint8)
  image[:, :20] = (240, 210, 40)
  image[:, 20:] = (245, 245, 245)
  fig = draw.new_figure(panel_size=(2, 2), dpi=40)
  draw.attention_panel(fig.axes[0], image, [[0, 0, 20, 40], [20, 0, 20, 40]],
                       [1.0, 0.0], top_k=0)
  shown = np.asarray(fig.axes[0].images[0].get_array())
  np.testing.assert_array_equal(shown[:, :20], image[:, :20])  # attended: exact
  yellow = np.asarray(draw.veil(image[:1, :1], np.zeros((1, 1)), 1.0))[0, 0]
  assert abs(_hue(yellow) - _hue((240, 210, 40))) < 2.0
  # Blended toward the neutral grey, not darkened toward black (no olive).
  luminance = lambda c: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
  assert luminance(yellow) >= draw.NEUTRAL - 1
  white = shown[:, 20:].reshape(-1, 3)
  assert np.all(white.max(1) - white.min(1) <= 1)   # grey stays grey
  assert np.all(white.min(1) >= draw.NEUTRAL)


def test_one_scale_makes_a_flat_attention_paler_than_a_peaked_one():
  image = np.full((10, 40, 3), 220, np.uint8)
  boxes = [[10 * i, 0, 10, 10] for i in range(4)]
  peaked, flat = [0.85, 0.05, 0.05, 0.05], [0.25] * 4
  scale = draw.relevance_scale((40, 10), boxes, [peaked, flat])
  assert scale == pytest.approx(0.85)
  fig = draw.new_figure(columns=2, panel_size=(2, 1), dpi=40)
  draw.attention_panel(fig.axes[0], image, boxes, peaked, scale=scale)
  draw.attention_panel(fig.axes[1], image, boxes, flat, scale=scale)
  top_peaked = np.asarray(fig.axes[0].images[0].get_array())[:, :10].mean()
  top_flat = np.asarray(fig.axes[1].images[0].get_array())[:, :10].mean()
  assert top_peaked == pytest.approx(220) and top_flat < 200
  # Alone, each panel's own maximum is full colour (the old look-alike).
  fig = draw.new_figure(panel_size=(2, 1), dpi=40)
  assert draw.attention_panel(fig.axes[0], image, boxes, flat) == pytest.approx(0.25)


def test_regions_below_the_stated_weight_are_neither_outlined_nor_listed():
  fig = draw.new_figure(panel_size=(3, 3), dpi=40)
  boxes = [[0, 0, 10, 10], [10, 10, 10, 10], [20, 20, 10, 10]]
  draw.attention_panel(fig.axes[0], None, boxes, [0.97, 0.03, 0.0], top_k=3,
                       image_size=(40, 40))
  ax = fig.axes[0]
  assert len(ax.patches) == 1 and ax.patches[0].get_xy() == (0.0, 0.0)
  labels = [t.get_text() for t in ax.get_legend().get_texts()]
  assert labels == ["1: a(R) 0.97"]
  # Rank labels are in the legend under the picture, not written over it.
  assert not ax.texts
  fig = draw.new_figure(panel_size=(3, 3), dpi=40)
  draw.attention_panel(fig.axes[0], None, boxes, [0.0, 0.0, 0.0], image_size=(40, 40))
  assert not fig.axes[0].patches
  assert "no region with a(R)" in fig.axes[0].texts[0].get_text()


def test_scale_bar_shows_the_veil_of_sample_colours():
  fig = draw.new_figure(panel_size=(3, 1), dpi=40)
  draw.attention_scale_bar(fig.axes[0], 0.5)
  strip = np.asarray(fig.axes[0].images[0].get_array())
  assert strip.shape[0] == len(draw.SCALE_SAMPLES)
  np.testing.assert_array_equal(strip[:, -1], np.array(draw.SCALE_SAMPLES, np.uint8))
  np.testing.assert_allclose(strip[:, 0], draw.VEIL_FLOOR * np.array(draw.SCALE_SAMPLES)
                             + (1 - draw.VEIL_FLOOR) * draw.NEUTRAL, atol=1)
  assert fig.axes[0].get_xticklabels()[-1].get_text() == "0.50"


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
  from svlr_tf.viz.attention_figure import (WORLD_LEGEND, Panel, question_figure,
                                            validation_images)
  fig = question_figure(None, [[0, 0, 10, 10], [5, 5, 20, 10]], "What color is the dog?",
                        "brown", [Panel("Joint SVLR", [0.9, 0.1], "brown", True,
                                        top_answers=[("brown", 4.25), ("tan", 3.5)]),
                                  Panel("VQA Only", [0.5, 0.5, 0.0], "white", False)],
                        image_size=(40, 30), caption="question 1", legend=WORLD_LEGEND)
  assert len(fig.axes) == 3  # two panels and the colour bar
  assert "Q: What color is the dog?" in fig._suptitle.get_text()
  title = fig.axes[0].get_title(loc="left")
  assert title.startswith("Joint SVLR: brown") and "brown 4.25, tan 3.50" in title
  assert fig.axes[1].get_title(loc="left").startswith("VQA Only: white  ✗ (true: brown)")
  bar = fig.axes[2]
  assert bar.images and bar.get_xticklabels()[-1].get_text() == "1.00"  # 0.9 + 0.1 overlap
  footer = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
  assert "first colour" in footer and "question 1" in footer
  rng = np.random.default_rng(0)
  attention = rng.dirichlet(np.ones(6), size=5)
  images = validation_images(tiny_world, "heldout", attention, ["yes"] * 5, max_images=2)
  assert images.dtype == np.uint8 and images.shape[0] == 2 and images.shape[-1] == 3
  assert images.shape[1] > 100 and images.shape[2] > 100
  (tmp_path / "vqa").mkdir()
  assert validation_images(str(tmp_path), "heldout", attention, ["yes"] * 5) is None


def test_tensorboard_images_follow_the_same_conventions(tiny_world, monkeypatch):
  """The trainer's validation/attention images are question figures with the
  world's legend line (its pictures are the world's drawings) and a colour bar."""
  from svlr_tf.viz import attention_figure
  made = []
  original = attention_figure.question_figure

  def spy(*args, **kwargs):
    made.append((original(*args, **kwargs), kwargs))
    return made[-1][0]
  monkeypatch.setattr(attention_figure, "question_figure", spy)
  attention = np.random.default_rng(1).dirichlet(np.ones(6), size=2)
  attention_figure.validation_images(tiny_world, "heldout", attention, ["yes"] * 2)
  assert len(made) == 2
  for fig, kwargs in made:
    assert kwargs["legend"] == attention_figure.WORLD_LEGEND
    assert fig.axes[-1].images and "one scale" in fig.axes[-1].texts[0].get_text()
