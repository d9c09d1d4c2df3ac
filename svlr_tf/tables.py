"""The one results-table writer: per-seed values -> JSON, Markdown and terminal text.

    table = Table.from_grid("Table 1 ...", grid, columns, value=lambda r, col: ...)
    write_results(workdir, "table1", dict(table.to_json(), paper=PAPER),
                  markdown=table.markdown() + notes, text=table.text() + notes)

Cells are the mean over seeds with the sample standard deviation (ddof = 1),
both rounded to 2 decimals; with one seed there is no standard deviation (None in
the JSON, no "±" in the text).  The terminal text fits the terminal's width
(``terminal_width``): a table shows the columns that fit (the first, the last,
then the others in order) and says how many the .md file has besides; prose is
wrapped (``fit_terminal``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import textwrap
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from svlr_tf.runtime.files import atomic_write_text

# Width assumed when the output is not a terminal (a log file, a pipe).
DEFAULT_WIDTH = 100
MIN_WIDTH = 40


def terminal_width() -> int:
  """The terminal's columns (``$COLUMNS`` first; DEFAULT_WIDTH when not a terminal)."""
  return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]],
            width: Optional[int] = None) -> List[str]:
  """An aligned plain-text table (first column left, the others right-aligned),
  of the leading columns that fit in ``width`` (all when None; the first column
  always), then a line saying how many were left out."""
  body = [list(header)] + [list(r) + [""] * (len(header) - len(r)) for r in rows]
  widths = [max(len(r[i]) for r in body) for i in range(len(header))]
  keep = len(header)
  if width is not None:
    keep, used = 1, widths[0]
    while keep < len(header) and used + 2 + widths[keep] <= width:
      used += 2 + widths[keep]
      keep += 1
  lines = []
  for n, cells in enumerate(body):
    lines.append("  ".join([cells[0].ljust(widths[0])] +
                           [c.rjust(w) for c, w in zip(cells[1:keep], widths[1:keep])]
                           ).rstrip())
    if n == 0:
      lines.append("  ".join("-" * w for w in widths[:keep]))
  if keep < len(header):
    note = (f"({len(header) - keep} more column(s): {', '.join(header[keep:])}; "
            "see the .md file)")
    lines += textwrap.wrap(note, width) if width else [note]
  return lines


def _markdown_cells(line: str) -> List[str]:
  return [c.strip() for c in line.strip().strip("|").split("|")]


def fit_terminal(text: str, width: Optional[int] = None) -> str:
  """``text`` for a terminal of ``width`` columns (default ``terminal_width()``):
  each Markdown table becomes an aligned plain-text table of the columns that
  fit, each longer line is wrapped (keeping its indentation)."""
  width = width or terminal_width()
  out, lines, i = [], text.split("\n"), 0
  while i < len(lines):
    if lines[i].lstrip().startswith("|"):
      block = []
      while i < len(lines) and lines[i].lstrip().startswith("|"):
        block.append(lines[i])
        i += 1
      rows = [_markdown_cells(l) for l in block
              if not re.fullmatch(r"\|?[\s:|-]*", l.strip())]
      out += aligned(rows[0], rows[1:], width) if rows else block
      continue
    line = lines[i]
    i += 1
    if len(line) <= width:
      out.append(line)
      continue
    indent = line[:len(line) - len(line.lstrip())]
    out += textwrap.wrap(line.strip(), width, initial_indent=indent,
                         subsequent_indent=indent, break_on_hyphens=False) or [""]
  return "\n".join(out)


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
    terminal_columns: the columns the terminal text shows (default: those that
      fit the terminal: the last, e.g. "Overall", then the others in order).
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

  def shown_columns(self, width: Optional[int] = None) -> List[str]:
    """The columns the terminal shows: ``terminal_columns`` if set, else the last
    column and then the others in order while the table fits ``width``
    (default: the terminal's)."""
    if self.terminal_columns:
      return list(self.terminal_columns)
    width = width or terminal_width()
    grid = self._grid(self.columns)
    widths = [max([len(c)] + [len(r[i + 1]) for r in grid])
              for i, c in enumerate(self.columns)]
    used = max([0] + [len(r[0]) for r in grid]) + 2 + widths[-1]
    keep = []
    for i in range(len(self.columns) - 1):
      if used + 2 + widths[i] > width:
        break
      used += 2 + widths[i]
      keep.append(i)
    return [self.columns[i] for i in keep] + self.columns[-1:]

  def text(self, width: Optional[int] = None) -> str:
    """The title and an aligned plain-text table of the columns that fit
    ``width`` (default: the terminal's; the .md file has them all)."""
    width = width or terminal_width()
    columns = self.shown_columns(width)
    lines = textwrap.wrap(self.title, width) + [""]
    lines += aligned([""] + columns, self._grid(columns))
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
    log("\n" + fit_terminal(shown.rstrip("\n")))
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
