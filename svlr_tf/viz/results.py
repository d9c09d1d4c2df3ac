"""Figures of the paper's results as PNG: Table 1 bars, learning curves, Fig. 5.

    from svlr_tf.viz import results
    results.table1_bars(table1_json, "runs/report/table1.png")
    results.learning_curves({"Joint SVLR": {0: (steps, acc), 1: ...}}, path,
                            ylabel="held-out VQA accuracy (%)")
    results.fig5_heat_map(fig5_json, "runs/fig5/fig5.png")

Each takes the results JSON a reproduce module writes (Table 1: ``columns``,
``rows``, ``std``; Fig. 5: ``cells``, ``genome_frequency_edges``, ``vqa_bins``) and
returns the path written (atomically, through ``svlr_tf.viz.draw``).
"""

from __future__ import annotations

import textwrap
from typing import Mapping, Optional, Sequence, Tuple

import numpy as np

from svlr_tf.viz import draw

# One colour per row, the same in every figure (colour-blind friendly).
ROW_COLORS = {"VQA Only": "#888888", "Joint Multitask": "#e69f00",
              "Joint SVLR": "#0072b2", "Zero-Shot VQA": "#cc79a7",
              "Genome only": "#cc79a7", "Pre-trained, then Joint SVLR": "#009e73"}
_EXTRA_COLORS = ("#d55e00", "#56b4e9", "#f0e442", "#000000")


def row_color(name: str, index: int) -> str:
  return ROW_COLORS.get(name, _EXTRA_COLORS[index % len(_EXTRA_COLORS)])


def table1_bars(table: Mapping, path: str, max_columns: int = 12,
                paper: Optional[Mapping[str, float]] = None) -> str:
  """Grouped bars: accuracy per question type (and Overall) for each row, with
  the standard deviation over seeds as error bars.

  Args:
    table: Table 1's JSON (``columns``, ``rows``, ``std``, ``seeds``).
    path: the PNG to write.
    max_columns: the most frequent question types shown (Overall always last).
    paper: optional {row: the paper's Overall}, drawn as a black tick on the
      row's Overall bar.
  """
  columns = list(table["columns"])
  if len(columns) > max_columns:
    columns = columns[:max_columns - 1] + [columns[-1]]
  rows = list(table["rows"])
  fig = draw.new_figure(1, 1, panel_size=(max(8.0, 0.95 * len(columns) + 2), 4.6))
  ax = fig.axes[0]
  width = 0.8 / max(len(rows), 1)
  x = np.arange(len(columns))
  drew_paper = False
  for i, row in enumerate(rows):
    means = [table["rows"][row].get(c, np.nan) for c in columns]
    stds = [(table.get("std", {}).get(row, {}).get(c) or 0.0) for c in columns]
    offset = (i - (len(rows) - 1) / 2) * width
    ax.bar(x + offset, np.asarray(means, np.float64), width,
           yerr=np.asarray(stds, np.float64), capsize=2, label=row,
           color=row_color(row, i), error_kw={"elinewidth": 0.8})
    if paper and row in paper and "Overall" in columns:
      j = columns.index("Overall")
      ax.plot([x[j] + offset - width / 2, x[j] + offset + width / 2],
              [paper[row]] * 2, color="black", linewidth=2.5,
              label="paper, Overall (real VQA v1 val)" if not drew_paper else None)
      drew_paper = True
  ax.set_xticks(x, ["\n".join(textwrap.wrap(c, 12)) for c in columns], fontsize=8)
  ax.set_ylabel("VQA accuracy (%)")
  ax.set_ylim(0, 100)
  ax.grid(True, axis="y", alpha=0.3)
  seeds = table.get("seeds") or []
  note = f"error bars: std over {len(seeds)} seeds" if len(seeds) > 1 else "one seed"
  ax.set_title(f"Table 1 by question type ({note})", fontsize=10)
  ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
  return draw.save_png(fig, path)


Curve = Tuple[Sequence[int], Sequence[float]]


def learning_curves(panels: Mapping[str, Mapping[str, Mapping[int, Curve]]], path: str,
                    ylabels: Optional[Mapping[str, str]] = None,
                    selected: Optional[Mapping[str, Mapping[str, Mapping[int, int]]]] = None
                    ) -> str:
  """Held-out curves, one panel per metric: each row's mean over seeds (thick)
  and every seed (thin); a dot marks each seed's selected step.

  Args:
    panels: {panel title: {row: {seed: (steps, values)}}}.
    path: the PNG to write.
    ylabels: {panel title: y-axis label}.
    selected: {panel title: {row: {seed: selected step}}}.
  """
  titles = [t for t, rows in panels.items() if rows]
  fig = draw.new_figure(max(len(titles), 1), 1, panel_size=(6.0, 4.0))
  for ax, title in zip(fig.axes, titles):
    for i, (row, seeds) in enumerate(panels[title].items()):
      color = row_color(row, i)
      common = None
      for seed, (steps, values) in sorted(seeds.items()):
        ax.plot(steps, values, color=color, linewidth=0.7, alpha=0.45)
        common = set(steps) if common is None else common & set(steps)
        step = ((selected or {}).get(title, {}).get(row, {}).get(seed))
        if step is not None and step in list(steps):
          ax.plot([step], [values[list(steps).index(step)]], "o", color=color,
                  markersize=4)
      if common:
        xs = sorted(common)
        mean = [np.mean([v[list(s).index(x)] for s, v in seeds.values()]) for x in xs]
        ax.plot(xs, mean, color=color, linewidth=2.0,
                label=f"{row} (mean of {len(seeds)})")
    ax.set_xlabel("training step")
    ax.set_ylabel((ylabels or {}).get(title, ""))
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
  if not titles:
    fig.axes[0].text(0.5, 0.5, "no event files", ha="center", va="center")
  return draw.save_png(fig, path)


def vqa_bin_label(lo: int, hi: Optional[int]) -> str:
  return f">= {lo}" if hi is None else (f"{lo}" if lo == hi else f"{lo}-{hi}")


def fig5_heat_map(fig5: Mapping, path: str) -> str:
  """Fig. 5: the mean change in per-class object accuracy (colour) by Genome
  train frequency (columns) and VQA mentions (rows, most mentions on top); each
  cell reads "Genome-only accuracy +change (classes)" as in the paper."""
  edges = fig5["genome_frequency_edges"]
  bins = fig5["vqa_bins"]
  n_cols = len(edges) + 1
  cols = ([f"<= {edges[0]:.0f}"] +
          [f"{edges[i - 1]:.0f}-{edges[i]:.0f}" for i in range(1, len(edges))] +
          [f"> {edges[-1]:.0f}"])
  order = list(reversed(range(len(bins))))
  values = np.full((len(bins), n_cols), np.nan)
  text = [[""] * n_cols for _ in bins]
  for r, vi in enumerate(order):
    for gi in range(n_cols):
      cell = fig5["cells"].get(f"vqa{vi}_genome{gi}")
      if cell:
        values[r, gi] = cell["change"]
        text[r][gi] = (f"{cell['genome_only_accuracy']:.1f} {cell['change']:+.1f}\n"
                       f"({cell['classes']})")
      else:
        text[r][gi] = "no classes"
  fig = draw.new_figure(1, 1, panel_size=(6.4, 3.8))
  draw.heat_map(fig.axes[0], values, [vqa_bin_label(*bins[vi]) for vi in order], cols,
                cell_text=text, cmap="RdBu_r", center=0.0,
                colorbar_label="change in object accuracy (points)",
                title="Fig. 5: transfer from VQA to object recognition",
                xlabel="Genome train regions per class",
                ylabel="VQA train questions mentioning it")
  return draw.save_png(fig, path)


def is_png(path: str) -> bool:
  """Whether ``path`` is a PNG file that decodes."""
  try:
    with open(path, "rb") as f:
      if f.read(8) != b"\x89PNG\r\n\x1a\n":
        return False
    from PIL import Image
    with Image.open(path) as im:
      im.verify()
    return True
  except Exception:  # any failure to open or decode means "not a valid PNG"
    return False
