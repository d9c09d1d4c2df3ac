"""The results of the reproduce modules: where they are, what makes them, the paper.

Each :class:`Source` is one module's results file under the runs root (its default
``--workdir``), the command that writes it, and the paper's numbers to print beside
ours: a list of ``(claim, paper value, function of our JSON -> our value)``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, List, Optional, Tuple

Ours = Callable[[dict], Optional[str]]


def _cell(table: dict, row: str, column: str) -> Optional[str]:
  mean = table.get("rows", {}).get(row, {}).get(column)
  if mean is None:
    return None
  std = (table.get("std", {}).get(row) or {}).get(column)
  return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def _first_column(table: dict, prefix: str) -> Optional[str]:
  return next((c for c in table.get("columns", []) if c.startswith(prefix)), None)


def _color_gain(table: dict) -> Optional[str]:
  column = _first_column(table, "what color")
  rows = table.get("rows", {})
  try:
    a, b = rows["VQA Only"][column], rows["Joint SVLR"][column]
  except (KeyError, TypeError):
    return None
  return f"{a:.1f} -> {b:.1f} ({b - a:+.1f}, \"{column}\")"


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


def _fig5_overall(key: str) -> Ours:
  def ours(out):
    a = _pair(_path(out, "overall", "Genome only", key))
    b = _pair(_path(out, "overall", "Joint SVLR (VR)", key))
    return None if a is None or b is None else f"{a} -> {b}"
  return ours


def _fig5_favoured(out) -> Optional[str]:
  f = out.get("vqa_favoured_classes") or {}
  if f.get("genome_only_accuracy") is None:
    return None
  return (f"{f['genome_only_accuracy']:.1f} -> {f['joint_accuracy']:.1f} "
          f"({len(f.get('classes', []))} classes)")


def _table4(out) -> Optional[str]:
  s = out.get("summary", {}).get("class_names")
  if not s or s.get("input") is None or not s.get("g"):
    return None
  g = s["g"]
  g = f"{g[0]:.3f}" if g[1] is None else f"{g[0]:.3f} ± {g[1]:.3f}"
  return f"{s['input']:.3f} (input) -> {g} (g)"


def _table2(out) -> Optional[str]:
  rows = out.get("rows", {})
  svlr = _pair(_path(rows, "Joint SVLR", "rank_correlation"))
  centre = _pair(_path(rows, "Centre Gaussian", "rank_correlation"))
  if svlr is None:
    return None
  return svlr + (f" (centre {centre})" if centre else "")


@dataclasses.dataclass(frozen=True)
class Source:
  """One reproduce module's results.

  Attributes:
    key: the module name (``reproduce.<key>``).
    title: the section title.
    command: the command that makes the results.
    claims: (claim, the paper's value, our value from the JSON).
    workdir: its default --workdir under the runs root (default ``key``);
      ``reproduce.all`` may run it in Table 1's directory instead (``shared``).
    results_file: the JSON (or page) whose presence means "done", under the runs
      root (default ``<workdir>/<key>.json``).
    pictures: a glob (under the runs root) of PNGs the module draws itself.
    curves: draw the held-out curves of the runs in its workdir.
  """

  key: str
  title: str
  command: str
  claims: Tuple[Tuple[str, str, Ours], ...] = ()
  workdir: Optional[str] = None
  results_file: Optional[str] = None
  pictures: Optional[str] = None
  curves: bool = False
  shared: bool = False

  def directories(self):
    """Where to look, in order: its own workdir, then Table 1's if ``shared``."""
    return [self.workdir or self.key] + (["table1"] if self.shared else [])

  def locate(self, runs_root: str) -> "Source":
    """This source at the first of its directories that holds its results."""
    for d in self.directories():
      found = dataclasses.replace(self, workdir=d, shared=False)
      if os.path.exists(os.path.join(runs_root, found.path)):
        return found
    return self

  @property
  def directory(self) -> str:
    return self.workdir or self.key

  @property
  def path(self) -> str:
    return self.results_file or f"{self.directory}/{self.key}.json"

  @property
  def markdown(self) -> str:
    return f"{self.directory}/{self.key}.md"


def _claim(name: str) -> Ours:
  """A paired difference of ``paired_differences``: '+7.21 [+6.80, +7.62]'."""
  def ours(out):
    for d in out.get("paired_differences") or ():
      if d.get("claim") == name:
        if d.get("low") is None:
          return f"{d['difference']:+.2f} [no interval: 1 seed]"
        return f"{d['difference']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"
    return None
  return ours


def _t1(row: str) -> Ours:
  return lambda t: _cell(t, row, "Overall")


SOURCES: List[Source] = [
    Source("table1", "Table 1: transfer from recognition to VQA (Sec. 5.2)",
           "python -m reproduce.table1", curves=True, claims=(
               ("VQA Only, Overall", "62.9", _t1("VQA Only")),
               ("Joint Multitask, Overall", "64.1", _t1("Joint Multitask")),
               ("Joint SVLR, Overall", "65.3", _t1("Joint SVLR")),
               ("Zero-Shot VQA, Overall", "16.4", _t1("Zero-Shot VQA")),
               ("chance (official metric)", "5.6", lambda t: _pair(t.get("chance"))),
               ("\"what color\": VQA Only -> Joint SVLR", "53.5 -> 62.1 (+8.6)",
                _color_gain),
               ("Joint Multitask - VQA Only, paired [95% interval]", "+1.2",
                _claim("Joint Multitask - VQA Only")),
               ("Joint SVLR - VQA Only, paired [95% interval]", "+2.4",
                _claim("Joint SVLR - VQA Only")),
               ("Joint SVLR - Joint Multitask, paired [95% interval]", "+1.2",
                _claim("Joint SVLR - Joint Multitask")))),
    Source("zero_shot", "Zero-shot VQA (Sec. 5.2)", "python -m reproduce.zero_shot",
           shared=True, claims=(
        ("Zero-shot Overall vs chance", "16.4 vs 5.6",
         lambda z: (None if "Overall" not in z.get("zero_shot", {}) else
                    f"{z['zero_shot']['Overall']:.2f} vs "
                    f"{_pair(_path(z, 'chance', 'Overall'))}")),)),
    Source("pretraining", "Pre-training on Genome before joint training (Sec. 5.2)",
           "python -m reproduce.pretraining", (
               ("pre-trained, then joint vs from scratch, Overall", "63.7 vs 65.3",
                lambda p: p.get("claim")),)),
    Source("ablation", "Ablation: which use of the aligned words carries the gain",
           "python -m reproduce.ablation", curves=True, claims=(
               ("aligned attention only (VQA-only class vectors) - VQA Only",
                "not in the paper", _claim("SVLR, VQA-only class vectors - VQA Only")),
               ("aligned class scores only (VQA-only attention words) - VQA Only",
                "not in the paper",
                _claim("SVLR, VQA-only attention words - VQA Only")))),
    Source("fig5", "Transfer from VQA to recognition (Sec. 5.3, Fig. 5)",
           "python -m reproduce.fig5", curves=True, shared=True, claims=(
               ("object accuracy: Genome only -> Joint SVLR", "43.3 -> 44.5",
                _fig5_overall("object_accuracy")),
               ("attribute accuracy: Genome only -> Joint SVLR", "36.9 -> 36.9",
                _fig5_overall("attribute_accuracy")),
               ("classes rare in Genome, frequent in VQA", "21 -> 32 (8 classes)",
                _fig5_favoured))),
    # reproduce.table2 and reproduce.attention work in Table 1's directory.
    Source("table2", "Attention against the ground truth (Table 2, Fig. 7)",
           "python -m reproduce.table2", workdir="table1", pictures="table1/fig7.png",
           claims=(("SVLR rank correlation with the truth (paper: human maps)",
                    "0.48 (centre 0.53)", _table2),)),
    Source("attention", "Attention pictures (Fig. 4 / Fig. 6)",
           "python -m reproduce.attention", workdir="table1/attention",
           results_file="table1/attention/index.md",
           pictures="table1/attention/*.png"),
    Source("table4", "Word neighbours before and after joint training (Table 4)",
           "python -m reproduce.table4", (
               ("mean WordNet path similarity of top-5 neighbours, class names",
                "not measured (neighbours shown only)", _table4),)),
    Source("table3", "Real-data test-dev submission (Table 3)",
           "python -m reproduce.table3 --data_dir DIR --preset paper", (
               ("VQA val (trained on train)", "66.2",
                lambda t: _pair(_path(t, "val", "Overall"))),
               ("test-dev", "64.8",
                lambda t: "written for the server" if t.get("results_file") else None))),
]
