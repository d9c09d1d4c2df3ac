"""Figures as PNG with matplotlib (Agg): attention panels, heat maps, line charts.

An attention panel follows the paper's Fig. 4 / Fig. 6: each pixel's relevance
is the sum of the attention a(R) of the regions that cover it ("relevance scores
projected back to their source pixel locations", Fig. 4 caption).  The picture is
veiled where relevance is low: each pixel is blended toward a neutral grey, by how
far its relevance is below ``scale`` (one scale for every panel of a figure, shown
by :func:`attention_scale_bar`), so a pixel keeps its hue (nothing is darkened
toward black: yellow never turns olive) and a pixel at the scale keeps its exact
colour.  The ``top_k`` regions with a(R) >= ``MIN_OUTLINE_WEIGHT`` are outlined;
their rank and weight are written in a legend under the picture, never on it
(the world's pictures write object names in the boxes' corners).
"""

from __future__ import annotations

import io
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib import patheffects

from svlr_tf.runtime.files import atomic_path

# Outline colours and line styles of the top regions, rank 1 first (colour-blind
# friendly; the style tells the ranks apart without colour).
TOP_COLORS = ("#ffd000", "#00c8ff", "#ff5fd2", "#7dff6a", "#ff8c1a")
TOP_STYLES = ("-", "--", ":", "-.", "-")
VEIL_FLOOR = 0.3       # share of a pixel's own colour at relevance 0
NEUTRAL = 140.0        # the grey pixels are blended toward (0-255)
MIN_OUTLINE_WEIGHT = 0.05  # regions of lower a(R) are never outlined
# Sample colours of the scale bar: how a yellow, a white and a brown pixel show.
SCALE_SAMPLES = ((240, 210, 40), (245, 245, 245), (125, 80, 40))


def new_figure(columns: int = 1, rows: int = 1,
               panel_size: Tuple[float, float] = (4.0, 3.6), dpi: int = 100) -> Figure:
  """A figure of ``rows`` x ``columns`` axes (``fig.axes``, row-major)."""
  fig = Figure(figsize=(panel_size[0] * columns, panel_size[1] * rows), dpi=dpi)
  FigureCanvasAgg(fig)
  fig.subplots(rows, columns, squeeze=False)
  return fig


def relevance_image(boxes: np.ndarray, weights: np.ndarray, width: int,
                    height: int) -> np.ndarray:
  """Per-pixel sum of the weights of the boxes covering it: float [height, width]."""
  out = np.zeros((int(height), int(width)), np.float64)
  for (x, y, w, h), a in zip(np.asarray(boxes, np.float64), np.asarray(weights)):
    x0, y0 = int(np.floor(max(x, 0))), int(np.floor(max(y, 0)))
    x1, y1 = int(np.ceil(min(x + w, width))), int(np.ceil(min(y + h, height)))
    if x1 > x0 and y1 > y0:
      out[y0:y1, x0:x1] += float(a)
  return out


def veil(image: np.ndarray, relevance: np.ndarray, scale: float) -> np.ndarray:
  """``image`` (uint8 [H, W, 3]) blended toward the neutral grey where
  ``relevance`` ([H, W]) is below ``scale``: share of the pixel's own colour
  VEIL_FLOOR + (1 - VEIL_FLOOR) * min(relevance / scale, 1).  Blending toward a
  neutral keeps each pixel's hue.  Returns uint8 [H, W, 3]."""
  level = np.clip(np.asarray(relevance, np.float64) / scale, 0.0, 1.0) if scale > 0 \
      else np.ones(np.shape(relevance))
  own = VEIL_FLOOR + (1.0 - VEIL_FLOOR) * level
  out = image.astype(np.float64) * own[..., None] + NEUTRAL * (1.0 - own[..., None])
  return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def relevance_scale(image_size: Tuple[int, int], boxes, weights_list) -> float:
  """The scale shared by several panels: the highest pixel relevance of any of
  them (a flat attention then shows paler than a peaked one beside it)."""
  width, height = image_size
  peaks = [relevance_image(boxes, w, width, height).max() for w in weights_list]
  return float(max(peaks + [0.0]))


def attention_panel(ax, image: Optional[np.ndarray], boxes, weights, top_k: int = 3,
                    title: Optional[str] = None,
                    image_size: Tuple[int, int] = (640, 480),
                    title_color: str = "black", scale: Optional[float] = None,
                    min_weight: float = MIN_OUTLINE_WEIGHT) -> float:
  """Draws an image with its regions shaded by ``weights`` (Fig. 4 / Fig. 6).

  Args:
    ax: a matplotlib Axes.
    image: uint8 [H, W, 3] RGB, or None for a grey canvas of ``image_size``
      (width, height).
    boxes: [K, 4] pixel boxes [x, y, w, h].
    weights: [K] non-negative (a(R) of Eq. 4); padded regions carry 0.
    top_k: regions outlined, by decreasing weight, among those >= ``min_weight``
      (their rank and weight in a legend under the picture).
    title: text above the panel (question, predicted and true answer).
    scale: the relevance shown at full colour (None: this panel's highest);
      give several panels the same (``relevance_scale``).
  Returns: the scale used (for ``attention_scale_bar``).
  """
  boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
  weights = np.asarray(weights, np.float64).reshape(-1)
  if len(boxes) != len(weights):
    raise ValueError(f"{len(boxes)} boxes but {len(weights)} weights")
  if image is None:
    image = np.full((image_size[1], image_size[0], 3), 200, np.uint8)
  image = np.asarray(image)
  height, width = image.shape[:2]
  relevance = relevance_image(boxes, weights, width, height)
  if scale is None:
    scale = float(relevance.max())
  ax.imshow(veil(image, relevance, scale), interpolation="bilinear")
  order = np.argsort(-weights, kind="stable")[:max(0, top_k)]
  handles = []
  for rank, k in enumerate(order):
    if not weights[k] >= min_weight or weights[k] <= 0:
      break
    x, y, w, h = boxes[k]
    color, style = TOP_COLORS[rank % len(TOP_COLORS)], TOP_STYLES[rank % len(TOP_STYLES)]
    width_pt = 3.0 - 0.5 * min(rank, 3)
    ax.add_patch(Rectangle(
        (x, y), w, h, fill=False, edgecolor=color, linestyle=style, linewidth=width_pt,
        path_effects=[patheffects.Stroke(linewidth=width_pt + 1.5, foreground="black"),
                      patheffects.Normal()]))
    handles.append(Line2D([], [], color=color, linestyle=style, linewidth=width_pt,
                          label=f"{rank + 1}: a(R) {weights[k]:.2f}"))
  if handles:
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0),
              ncol=len(handles), fontsize=7, frameon=False, handlelength=2.2,
              columnspacing=1.0, borderaxespad=0.2)
  else:
    ax.text(0.0, -0.02, f"no region with a(R) >= {min_weight:.2f}", fontsize=7,
            transform=ax.transAxes, va="top", color="#555555")
  ax.set_xlim(0, width)
  ax.set_ylim(height, 0)
  ax.set_xticks([])
  ax.set_yticks([])
  if title:
    ax.set_title(title, fontsize=9, color=title_color, loc="left")
  return scale


def attention_scale_bar(ax, scale: float, label: Optional[str] = None,
                        below: bool = False) -> None:
  """The colour bar of the veil: how a yellow, a white and a brown pixel show at
  each relevance from 0 to ``scale`` (x axis: summed a(R) over a pixel)."""
  steps = 256
  level = np.linspace(0.0, max(scale, 1e-12), steps)
  rows = [veil(np.tile(np.array(c, np.uint8), (1, steps, 1)), level[None], scale)
          for c in SCALE_SAMPLES]
  ax.imshow(np.concatenate(rows, 0), aspect="auto", extent=(0, scale or 1.0, 0, 1),
            interpolation="nearest")
  ax.set_yticks([])
  ticks = np.linspace(0.0, scale or 1.0, 5)
  ax.set_xticks(ticks, [f"{t:.2f}" for t in ticks], fontsize=7)
  ax.tick_params(axis="x", length=2, pad=1)
  text = label or ("a(R) summed over the regions covering a pixel (Eq. 4):\n"
                   f"full colour at {scale:.2f}, one scale for every panel")
  if below:  # a narrow figure: under the ticks
    ax.text(0.0, -1.5, text, transform=ax.transAxes, fontsize=7, va="top", ha="left")
  else:
    ax.text(1.03, 0.5, text, transform=ax.transAxes, fontsize=7, va="center", ha="left")


def heat_map(ax, values, row_labels: Sequence[str], col_labels: Sequence[str],
             cell_text: Optional[Sequence[Sequence[str]]] = None, cmap: str = "viridis",
             center: Optional[float] = None, colorbar_label: Optional[str] = None,
             title: Optional[str] = None, xlabel: Optional[str] = None,
             ylabel: Optional[str] = None) -> None:
  """A [rows, cols] grid of coloured cells with optional text per cell.

  NaN cells are left white. ``center`` makes the colour scale symmetric around it
  (use a diverging ``cmap`` such as "RdBu_r" for changes).
  """
  values = np.asarray(values, np.float64)
  if values.shape != (len(row_labels), len(col_labels)):
    raise ValueError(f"values {values.shape} vs {len(row_labels)} row and "
                     f"{len(col_labels)} column labels")
  finite = values[np.isfinite(values)]
  vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
  if center is not None:
    half = max(abs(vmax - center), abs(center - vmin), 1e-9)
    vmin, vmax = center - half, center + half
  image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=vmin, vmax=vmax,
                    aspect="auto")
  ax.set_xticks(range(len(col_labels)), [str(c) for c in col_labels], fontsize=8)
  ax.set_yticks(range(len(row_labels)), [str(r) for r in row_labels], fontsize=8)
  if cell_text is not None:
    norm = image.norm
    colormap = image.get_cmap()
    for i in range(values.shape[0]):
      for j in range(values.shape[1]):
        if not cell_text[i][j]:
          continue
        v = values[i, j]
        dark = np.isfinite(v) and np.mean(colormap(norm(v))[:3]) < 0.5
        ax.text(j, i, cell_text[i][j], ha="center", va="center", fontsize=8,
                color="white" if dark else "black")
  bar = ax.figure.colorbar(image, ax=ax)
  if colorbar_label:
    bar.set_label(colorbar_label)
  if title:
    ax.set_title(title, fontsize=10)
  if xlabel:
    ax.set_xlabel(xlabel)
  if ylabel:
    ax.set_ylabel(ylabel)


def line_chart(ax, x, series: Dict[str, Sequence[float]], xlabel: str = "",
               ylabel: str = "", title: Optional[str] = None,
               styles: Optional[Dict[str, str]] = None) -> None:
  """One line per series over the same ``x`` (NaN values leave gaps)."""
  for name, y in series.items():
    ax.plot(x, np.asarray(y, np.float64), (styles or {}).get(name, "-o"),
            label=name, markersize=3)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.grid(True, alpha=0.3)
  ax.legend(fontsize=8)
  if title:
    ax.set_title(title, fontsize=10)


def png_bytes(fig: Figure) -> bytes:
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", bbox_inches="tight")
  return buffer.getvalue()


def save_png(fig: Figure, path: str) -> str:
  """Writes ``fig`` as a PNG at ``path`` atomically; returns ``path``."""
  data = png_bytes(fig)
  with atomic_path(path, suffix=".png") as tmp:
    with open(tmp, "wb") as f:
      f.write(data)
  return path


def to_array(fig: Figure) -> np.ndarray:
  """The rendered figure as uint8 [H, W, 3] RGB (e.g. for tf.summary.image)."""
  canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
  canvas.draw()
  return np.asarray(canvas.buffer_rgba())[..., :3].copy()
