"""How the report finds and shows one result: :class:`Source`, and the formatters
that read our value of a claim from a results JSON.

The report is handed its sources (``build_report(..., sources)``): which results
there are, their paper numbers and where their modules write them is declared by
the caller (``reproduce.registry``), never here.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Mapping, Optional, Tuple

Ours = Callable[[dict], Optional[str]]


@dataclasses.dataclass(frozen=True)
class Source:
  """One module's results, as the report shows them.

  Attributes:
    key: the results' name (``<key>.json``, ``<key>.md``).
    title: the section title.
    command: the command that makes the results.
    claims: (claim, the paper's value, our value from the JSON).
    directories: where to look under the runs root, in order (the first that
      holds the results is used; the first is named when none does).
    results_file: the JSON (or page) whose presence means "done", under the
      directory (default ``<key>.json``).
    pictures: a glob (under the directory) of PNGs the module draws itself.
    curves: draw the held-out curves of the runs in its directory.
    bars: draw the table as bars per column, with the paper's Overall per row.
    heat_map: draw the Fig. 5 heat map from the JSON.
    link: link the results file (a page of pictures) from the section.
  """

  key: str
  title: str
  command: str
  claims: Tuple[Tuple[str, str, Ours], ...] = ()
  directories: Tuple[str, ...] = ()
  results_file: Optional[str] = None
  pictures: Optional[str] = None
  curves: bool = False
  bars: Optional[Mapping[str, float]] = None
  heat_map: bool = False
  link: bool = False

  def locate(self, runs_root: str) -> "Source":
    """This source at the first of its directories that holds its results."""
    for d in self.directories:
      found = dataclasses.replace(self, directories=(d,))
      if os.path.exists(os.path.join(runs_root, found.path)):
        return found
    return self

  @property
  def directory(self) -> str:
    return self.directories[0] if self.directories else self.key

  def _in(self, name: str) -> str:
    return f"{self.directory}/{name}"

  @property
  def path(self) -> str:
    return self._in(self.results_file or f"{self.key}.json")

  @property
  def markdown(self) -> str:
    return self._in(f"{self.key}.md")

  @property
  def pictures_glob(self) -> Optional[str]:
    return self._in(self.pictures) if self.pictures else None


# --- Our value of a claim, from a results JSON (None when it is not there) -------

def _cell(table: dict, row: str, column: str) -> Optional[str]:
  mean = table.get("rows", {}).get(row, {}).get(column)
  if mean is None:
    return None
  std = (table.get("std", {}).get(row) or {}).get(column)
  return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def _first_column(table: dict, prefix: str) -> Optional[str]:
  return next((c for c in table.get("columns", []) if c.startswith(prefix)), None)


def _path(d: dict, *keys):
  for k in keys:
    if not isinstance(d, dict) or k not in d:
      return None
    d = d[k]
  return d


def _pair(x) -> Optional[str]:
  if x is None:
    return None
  if isinstance(x, (list, tuple)):
    if x[0] is None:
      return None
    return f"{x[0]:.2f}" if len(x) < 2 or x[1] is None else f"{x[0]:.2f} ± {x[1]:.2f}"
  return f"{x:.2f}"


def overall(row: str) -> Ours:
  """A table row's Overall, "55.50 ± 0.25"."""
  return lambda t: _cell(t, row, "Overall")


def chance(t: dict) -> Optional[str]:
  return _pair(t.get("chance"))


def color_gain(table: dict) -> Optional[str]:
  """VQA Only -> Joint SVLR on the "what color" column."""
  column = _first_column(table, "what color")
  rows = table.get("rows", {})
  try:
    a, b = rows["VQA Only"][column], rows["Joint SVLR"][column]
  except (KeyError, TypeError):
    return None
  return f"{a:.1f} -> {b:.1f} ({b - a:+.1f}, \"{column}\")"


def paired_claim(name: str) -> Ours:
  """A paired difference of ``paired_differences``: '+7.21 [+6.80, +7.62]'."""
  def ours(out):
    for d in out.get("paired_differences") or ():
      if d.get("claim") == name:
        if d.get("low") is None:
          return f"{d['difference']:+.2f} [no interval: 1 seed]"
        return f"{d['difference']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"
    return None
  return ours


def field(name: str) -> Ours:
  return lambda out: out.get(name)


def zero_shot(z: dict) -> Optional[str]:
  return (None if "Overall" not in z.get("zero_shot", {}) else
          f"{z['zero_shot']['Overall']:.2f} vs {_pair(_path(z, 'chance', 'Overall'))}")


def fig5_overall(key: str) -> Ours:
  def ours(out):
    a = _pair(_path(out, "overall", "Genome only", key))
    b = _pair(_path(out, "overall", "Joint SVLR (VR)", key))
    return None if a is None or b is None else f"{a} -> {b}"
  return ours


def fig5_favoured(out) -> Optional[str]:
  f = out.get("vqa_favoured_classes") or {}
  if f.get("genome_only_accuracy") is None:
    return None
  return (f"{f['genome_only_accuracy']:.1f} -> {f['joint_accuracy']:.1f} "
          f"({len(f.get('classes', []))} classes)")


def table4(out) -> Optional[str]:
  s = out.get("summary", {}).get("class_names")
  if not s or s.get("input") is None or not s.get("g"):
    return None
  g = s["g"]
  g = f"{g[0]:.3f}" if g[1] is None else f"{g[0]:.3f} ± {g[1]:.3f}"
  return f"{s['input']:.3f} (input) -> {g} (g)"


def table2(out) -> Optional[str]:
  rows = out.get("rows", {})
  svlr = _pair(_path(rows, "Joint SVLR", "rank_correlation"))
  centre = _pair(_path(rows, "Centre Gaussian", "rank_correlation"))
  if svlr is None:
    return None
  return svlr + (f" (centre {centre})" if centre else "")


def val_overall(t: dict) -> Optional[str]:
  return _pair(_path(t, "val", "Overall"))


def submitted(t: dict) -> Optional[str]:
  return "written for the server" if t.get("results_file") else None
