"""Figures as PNG with matplotlib (Agg): attention panels, heat maps, line charts.

An attention panel follows the paper's Fig. 4 / Fig. 6: each pixel's relevance
is the sum of the attention a(R) of the regions that cover it ("relevance scores
projected back to their source pixel locations", Fig. 4 caption); the picture
is darkened where relevance is low, and the ``top_k`` regions are outlined with
their rank and weight.
"""

from __future__ import annotations

import io
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from svlr_tf.runtime.files import atomic_path

# Outline colours of the top regions, rank 1 first (colour-blind friendly).
TOP_COLORS = ("#ffd000", "#00c8ff", "#ff5fd2", "#7dff6a", "#ff8c1a")
DIM_FLOOR = 0.3  # brightness of pixels with no relevance


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


def attention_panel(ax, image: Optional[np.ndarray], boxes, weights, top_k: int = 3,
                    title: Optional[str] = None,
                    image_size: Tuple[int, int] = (640, 480),
                    title_color: str = "black") -> None:
  """Draws an image with its regions shaded by ``weights`` (Fig. 4 / Fig. 6).

  Args:
    ax: a matplotlib Axes.
    image: uint8 [H, W, 3] RGB, or None for a grey canvas of ``image_size``
      (width, height).
    boxes: [K, 4] pixel boxes [x, y, w, h].
    weights: [K] non-negative (a(R) of Eq. 4); padded regions carry 0.
    top_k: regions outlined, by decreasing weight (rank and weight written).
    title: text above the panel (question, predicted and true answer).
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
  peak = relevance.max()
  shade = DIM_FLOOR + (1.0 - DIM_FLOOR) * (relevance / peak if peak > 0
                                          else np.ones_like(relevance))
  ax.imshow((image.astype(np.float64) * shade[..., None]).astype(np.uint8),
            interpolation="bilinear")
  order = np.argsort(-weights, kind="stable")[:max(0, top_k)]
  for rank, k in enumerate(order):
    if weights[k] <= 0:
      break
    x, y, w, h = boxes[k]
    color = TOP_COLORS[rank % len(TOP_COLORS)]
    ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=color,
                           linewidth=3.0 - 0.5 * min(rank, 3)))
    ax.text(x + 3, y + 3, f"{rank + 1}: {weights[k]:.2f}", color="black", fontsize=8,
            va="top", ha="left",
            bbox=dict(boxstyle="square,pad=0.15", facecolor=color, edgecolor="none"))
  ax.set_xlim(0, width)
  ax.set_ylim(height, 0)
  ax.set_xticks([])
  ax.set_yticks([])
  if title:
    ax.set_title(title, fontsize=9, color=title_color, loc="left")


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
