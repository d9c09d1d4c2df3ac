"""The one results-table writer: per-seed values -> JSON, Markdown and terminal text.

    table = Table.from_grid("Table 1 ...", grid, columns, value=lambda r, col: ...)
    write_results(workdir, "table1", dict(table.to_json(), paper=PAPER),
                  markdown=table.markdown() + notes, text=table.text() + notes)

Cells are the mean over seeds with the sample standard deviation (ddof = 1),
both rounded to 2 decimals; with one seed there is no standard deviation (None in
the JSON, no "±" in the text).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from svlr_tf.runtime.files import atomic_write_text

# Columns shown in the terminal when a table is wider (the .md has them all).
TERMINAL_COLUMNS = 7


def mean_std(values: Sequence[Optional[float]], digits: int = 2,
             finite_only: bool = False, one_value_std: Optional[float] = None
             ) -> Tuple[Optional[float], Optional[float]]:
  """(mean, sample std), rounded to ``digits`` decimals (2 for percentages; more
  for scores in [0, 1]).

  With one value the std is ``one_value_std`` (None: no std; 0.0 where a table
  shows "± 0.000" for every row). ``finite_only`` leaves out None, NaN and
  infinite values first (a score that is undefined for some seed) and gives
  (None, None) when none is left.
  """
  if finite_only:
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
      return None, None
  arr = np.asarray(values, dtype=np.float64)
  std = round(float(arr.std(ddof=1)), digits) if arr.size > 1 else one_value_std
  return round(float(arr.mean()), digits), std


def over_seeds(seeds: Sequence[int]) -> str:
  """"mean ± std over seeds [0, 1, 2]" or "seed 0" (one seed: no std)."""
  seeds = list(seeds)
  return f"seed {seeds[0]}" if len(seeds) == 1 else f"mean ± std over seeds {seeds}"


def format_cell(mean: Optional[float], std: Optional[float]) -> str:
  if mean is None:
    return ""
  return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


@dataclasses.dataclass
class Table:
  """A results table: rows x columns, one value per seed in each cell.

  Attributes:
    title: one line above the table.
    columns: column names, in order.
    per_seed: {row: {seed (str): {column: value}}}; a missing value is an
      empty cell (e.g. a question type absent from a split).
    terminal_columns: the columns the terminal text shows (default: the first
      ``TERMINAL_COLUMNS - 1`` and the last).
  """

  title: str
  columns: List[str]
  per_seed: Dict[str, Dict[str, Dict[str, float]]]
  terminal_columns: Optional[List[str]] = None

  @classmethod
  def from_grid(cls, title: str, grid, columns: Sequence[str],
                value: Callable[[dict, str], Optional[float]],
                labels: Optional[Sequence[str]] = None, **kwargs) -> "Table":
    """Cells from a ``GridResults``: ``value(results of one run, column)``."""
    per_seed = {}
    for label in labels or [row.label for row in grid.rows]:
      per_seed[label] = {}
      for seed, results in grid.results(label).items():
        cells = {c: value(results, c) for c in columns}
        per_seed[label][str(seed)] = {c: v for c, v in cells.items() if v is not None}
    return cls(title, list(columns), per_seed, **kwargs)

  @property
  def seeds(self) -> List[int]:
    return sorted({int(s) for row in self.per_seed.values() for s in row})

  def cell(self, row: str, column: str) -> Tuple[Optional[float], Optional[float]]:
    values = [v[column] for v in self.per_seed[row].values() if column in v]
    return mean_std(values) if values else (None, None)

  def to_json(self) -> dict:
    """{"columns", "rows": {row: {col: mean}}, "std": {row: {col: std}},
    "per_seed", "seeds"}."""
    rows, std = {}, {}
    for row in self.per_seed:
      rows[row], std[row] = {}, {}
      for col in self.columns:
        m, s = self.cell(row, col)
        if m is not None:
          rows[row][col], std[row][col] = m, s
    return {"columns": self.columns, "rows": rows, "std": std,
            "per_seed": self.per_seed, "seeds": self.seeds}

  def _grid(self, columns: Sequence[str]) -> List[List[str]]:
    return [[row] + [format_cell(*self.cell(row, c)) for c in columns]
            for row in self.per_seed]

  def markdown(self, columns: Optional[Sequence[str]] = None) -> str:
    """The title and a Markdown table of ``columns`` (default: all)."""
    columns = list(columns or self.columns)
    lines = [self.title, "", "| | " + " | ".join(columns) + " |",
             "|---|" + "---:|" * len(columns)]
    lines += ["| " + " | ".join(cells) + " |" for cells in self._grid(columns)]
    return "\n".join(lines) + "\n"

  def shown_columns(self) -> List[str]:
    if self.terminal_columns:
      return list(self.terminal_columns)
    if len(self.columns) <= TERMINAL_COLUMNS:
      return list(self.columns)
    return self.columns[:TERMINAL_COLUMNS - 1] + self.columns[-1:]

  def text(self) -> str:
    """The title and an aligned plain-text table of the terminal's columns."""
    columns = self.shown_columns()
    body = [[""] + columns] + self._grid(columns)
    widths = [max(len(r[i]) for r in body) for i in range(len(body[0]))]
    lines = [self.title, ""]
    for n, cells in enumerate(body):
      lines.append("  ".join([cells[0].ljust(widths[0])] +
                             [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]))
      if n == 0:
        lines.append("  ".join("-" * w for w in widths))
    if len(columns) < len(self.columns):
      lines.append(f"({len(self.columns) - len(columns)} more columns in the .md file)")
    return "\n".join(lines) + "\n"


def write_results(workdir: str, name: str, results: dict, markdown: Optional[str] = None,
                  text: Optional[str] = None, log: Callable[[str], None] = print) -> List[str]:
  """Writes ``<workdir>/<name>.json`` (and ``.md``) atomically; prints ``text``
  (default: the Markdown) and the paths written.  Returns the paths."""
  os.makedirs(workdir, exist_ok=True)
  paths = [os.path.join(workdir, f"{name}.json")]
  atomic_write_text(paths[0], json.dumps(_finite(results), indent=2))
  if markdown is not None:
    paths.append(os.path.join(workdir, f"{name}.md"))
    atomic_write_text(paths[1], markdown)
  shown = text if text is not None else markdown
  if shown:
    log("\n" + shown.rstrip("\n"))
  log("\nwrote " + ", ".join(paths))
  return paths


def _finite(value):
  """``value`` with every NaN / inf float as None (null): standard JSON."""
  if isinstance(value, float):
    return value if math.isfinite(value) else None
  if isinstance(value, dict):
    return {k: _finite(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_finite(v) for v in value]
  return value
