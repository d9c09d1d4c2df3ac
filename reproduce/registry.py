"""Every result of the paper, declared once (docs/results_registry.md).

A :class:`Result` says everything about one reproduce module's result: its rows
(``svlr_tf.training.grid.Run``), which of them are another result's runs it reads and never
trains (``reused``), the paper's numbers and claims, its work directory under the
runs root, and how the report shows it.  ``reproduce.<key>``, ``reproduce.all`` and
``reproduce.report`` read these declarations; nothing here defines a flag or starts
TensorFlow, so any module may import it.

    from reproduce.registry import RESULTS
    RESULTS["table1"].rows           # (Run("VQA Only", "vqa_only"), ...)
    default_workdir("table1", "tiny")   # runs/tiny/table1

Each number of the paper is written in this file only
(tests/test_registry.py checks it).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Mapping, Optional, Tuple

from svlr_tf.evaluation import paired
from svlr_tf.training.grid import Run
from svlr_tf.report import sources as show

# Where the work directories are (docs/results_registry.md): the embedded world at
# the default preset in runs/<dir>; another preset in runs/<preset>/<dir>; a
# --data_dir D in runs/<basename of D>-<preset>/<dir>.  So presets and data never
# share a default work directory.
RUNS = "runs"


def runs_root(preset: str, data_dir: Optional[str] = None, root: str = RUNS) -> str:
  """The runs root of a preset and data (the embedded world when ``data_dir`` is
  None)."""
  if data_dir:
    name = os.path.basename(os.path.normpath(os.path.abspath(data_dir)))
    return os.path.join(root, f"{name}-{preset}")
  return root if preset == "default" else os.path.join(root, preset)


# --- The paper's numbers (real VQA v1 val unless said) ----------------------------

# Table 1.  Our copy of the paper lost the column headers except that the first
# column is "what color" (Sec. 5.2: +8.6 for SVLR) and the last is Overall.
TABLE1_PAPER = {
    "VQA Only": {"what color": 53.5, "Overall": 62.9},
    "Joint Multitask": {"what color": 59.4, "Overall": 64.1},
    "Joint SVLR": {"what color": 62.1, "Overall": 65.3},
    "Zero-Shot VQA": {"what color": 18.8, "Overall": 16.4},
    "chance": 5.6,
    # Not a row of the paper's Table 1: the language prior that Sec. 5.2 cites
    # ("language priors, which alone can score as high as 54.0% [49]"), our Language
    # Only row's counterpart; no per-type figure.
    "Language Only": {"Overall": 54.0},
}
_T1 = {row: cells["Overall"] for row, cells in TABLE1_PAPER.items() if row != "chance"}
_COLOR = {row: cells["what color"] for row, cells in TABLE1_PAPER.items()
          if row != "chance" and "what color" in cells}


def _gain(a: str, b: str, column: Mapping[str, float] = _T1) -> float:
  """The paper's difference row a - row b, in points (one decimal, as printed)."""
  return round(column[a] - column[b], 1)


ZERO_SHOT_PAPER = {"Overall": _T1["Zero-Shot VQA"], "chance": TABLE1_PAPER["chance"]}
# Sec. 5.2: "63.7% versus 65.3%" (pre-trained on Genome, then joint; from scratch).
PRETRAINING_PAPER = {"Joint SVLR (from scratch)": _T1["Joint SVLR"],
                     "Pre-trained, then Joint SVLR": 63.7}
# Sec. 5.3 / Fig. 5: (Genome only, Joint SVLR) accuracy; the headline cell is the
# FIG5_RARE_CLASSES classes with < 125 Genome train examples and > 160 VQA mentions.
FIG5_PAPER = {"objects": [43.3, 44.5], "attributes": [36.9, 36.9],
              "rare_in_genome_common_in_vqa": [21.0, 32.0]}
FIG5_RARE_CLASSES = 8
# Table 2 (VQA-HAT): mean rank correlation.
TABLE2_PAPER = {"HiCo": 0.27, "SAN2": 0.26, "WTL (predecessor)": 0.38, "SVLR": 0.48,
                "Center": 0.53, "Human": 0.62}
# Table 3 (accuracy %).
TABLE3_PAPER = {
    "WTL": {"val": 58.9, "test-dev": 62.4, "test-std": 63.5, "trained on": "train+val"},
    "FDA": {"val": None, "test-dev": 64.0, "test-std": 64.2, "trained on": "-"},
    "MLP": {"val": 63.6, "test-dev": 65.9, "test-std": None, "trained on": "train"},
    "MCB": {"val": None, "test-dev": 69.9, "test-std": None, "trained on": "train+val"},
    "HiCo": {"val": None, "test-dev": 65.8, "test-std": 66.1, "trained on": "train+val"},
    "SVLR (paper)": {"val": 66.2, "test-dev": 64.8, "test-std": 64.8,
                     "trained on": "train"},
}


# --- One result ----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Result:
  """One reproduce module's result.

  Attributes:
    key: ``reproduce.<key>`` writes ``<key>.json`` / ``<key>.md``.
    title: the report's section title.
    header: the module's header line ("Table 1 on ...").
    rows: the table's rows in order (``svlr_tf.training.grid.Run``).
    reused: labels of the rows that are ``reuses``'s runs: read, never trained
      here (a missing one stops the module before training, naming the command).
    reuses: the key of the result whose runs those are.
    directory: its work directory under the runs root; None: the reused result's
      (it reads and writes beside those runs, and its --workdir names them).
    runs_flag: it works in its own directory and finds the reused runs with --runs.
    own_rows_with_runs: its own rows train beside the reused ones (in --runs).
    select: --experiments chooses among its rows (else it refuses the flag).
    one_seed: it reads one seed (the first) of the reused runs.
    seeds: its default --seeds.
    paper: the paper's numbers, written into its results file.
    claims: the paper's claims as paired differences (``paired.Claim``).
    report: (claim, the paper's value, our value from the results JSON) rows of
      the report's summary table.
    results_file / pictures / curves / bars / heat_map / link: how the report shows
      it (``svlr_tf.report.sources.Source``).
    command: the command line that makes it, beyond ``python -m reproduce.<key>``.
    in_all: ``reproduce.all`` runs it.
  """

  key: str
  title: str
  header: str
  rows: Tuple[Run, ...] = ()
  reused: Tuple[str, ...] = ()
  reuses: Optional[str] = None
  directory: Optional[str] = None
  runs_flag: bool = False
  own_rows_with_runs: bool = False
  select: bool = False
  one_seed: bool = False
  seeds: int = 3
  paper: Any = None
  claims: Tuple[paired.Claim, ...] = ()
  report: Tuple[Tuple[str, str, show.Ours], ...] = ()
  results_file: Optional[str] = None
  pictures: Optional[str] = None
  curves: bool = False
  bars: Optional[Mapping[str, float]] = None
  heat_map: bool = False
  link: bool = False
  command: str = ""
  in_all: bool = True

  @property
  def workdir_name(self) -> str:
    """Its work directory under a runs root."""
    if self.directory:
      return self.directory
    return RESULTS[self.reuses].workdir_name if self.reuses else self.key

  @property
  def runs_name(self) -> str:
    """The directory of the reused runs under a runs root."""
    return RESULTS[self.reuses].workdir_name if self.reuses else self.workdir_name

  def row(self, label: str) -> Run:
    for row in self.rows:
      if row.label == label:
        return row
    raise KeyError(f"{self.key} has no row {label!r}")

  @property
  def own_rows(self) -> Tuple[Run, ...]:
    return tuple(r for r in self.rows if r.label not in self.reused)

  @property
  def reused_rows(self) -> Tuple[Run, ...]:
    return tuple(r for r in self.rows if r.label in self.reused)

  def source(self) -> show.Source:
    """How ``reproduce.report`` finds and shows it."""
    name = self.workdir_name
    return show.Source(
        self.key, self.title, f"python -m reproduce.{self.key}{self.command}",
        claims=self.report, directories=(name,) + ((self.key,) if name != self.key
                                                   else ()),
        results_file=self.results_file, pictures=self.pictures, curves=self.curves,
        bars=self.bars, heat_map=self.heat_map, link=self.link)


def _rows(result: "Result", *labels: str) -> Tuple[Run, ...]:
  """Rows of another result, in this order (their runs are shared)."""
  return tuple(result.row(label) for label in labels)


def _as(row: Run, label: str, zero_shot: Optional[bool] = None) -> Run:
  """The same run under another label."""
  return dataclasses.replace(row, label=label, **(
      {} if zero_shot is None else {"zero_shot": zero_shot}))


# --- The results, in the order reproduce.all runs them -------------------------------

TABLE1 = Result(
    "table1", "Table 1: transfer from recognition to VQA (Sec. 5.2)", "Table 1",
    rows=(Run("Language Only", "language_only"),      # VQA Only with f(I) = 0
          Run("VQA Only", "vqa_only"),                # alpha_ans 1, alpha_obj = atr = 0
          Run("Joint Multitask", "joint_multitask"),  # 1 / 0.1 / 0.1, per-class h_y
          Run("Joint SVLR", "joint_svlr"),            # 1 / 0.1 / 0.1, through g
          Run("Zero-Shot VQA", "genome_only", zero_shot=True)),  # Genome only, Eq. 9
    select=True, paper=TABLE1_PAPER, curves=True, bars=_T1,
    # The paper's claims (Sec. 5.2) as paired differences between two rows.
    claims=(
        paired.Claim("Joint Multitask", "VQA Only",
                     paper=_gain("Joint Multitask", "VQA Only")),
        paired.Claim("Joint SVLR", "VQA Only", paper=_gain("Joint SVLR", "VQA Only")),
        paired.Claim("Joint SVLR", "Joint Multitask",   # "doubles the improvement"
                     paper=_gain("Joint SVLR", "Joint Multitask")),
        paired.Claim("Joint SVLR", "VQA Only", question_type="what color is the",
                     paper=_gain("Joint SVLR", "VQA Only", _COLOR)),
        # Zero-shot against both chances: the paper's is 1/18 (5.56); the official
        # metric's chance of a random choice is higher (some wrong choices get
        # partial credit), and the paper has no value for it.
        paired.Claim("Zero-Shot VQA", paired.ONE_IN_CHOICES,
                     paper=round(_T1["Zero-Shot VQA"] - TABLE1_PAPER["chance"], 1),
                     paper_ratio=round(_T1["Zero-Shot VQA"] / TABLE1_PAPER["chance"], 2)),
        paired.Claim("Zero-Shot VQA", paired.CHANCE),
        # VQA Only looks: it is above its language prior.
        paired.Claim("VQA Only", "Language Only",
                     paper=_gain("VQA Only", "Language Only"))),
    report=tuple((f"{row}, Overall", f"{_T1[row]}", show.overall(row)) for row in _T1)
    + (("chance (paper: 1/18; ours: the official metric's, higher)",
        f"{TABLE1_PAPER['chance']}", show.chance),
       ("\"what color\": VQA Only -> Joint SVLR",
        f"{_COLOR['VQA Only']} -> {_COLOR['Joint SVLR']} "
        f"({_gain('Joint SVLR', 'VQA Only', _COLOR):+})", show.color_gain))
    + tuple((f"{a} - {b}, paired [95% interval]", f"{_gain(a, b):+}",
             show.paired_claim(f"{a} - {b}"))
            for a, b in (("Joint Multitask", "VQA Only"), ("Joint SVLR", "VQA Only"),
                         ("Joint SVLR", "Joint Multitask"))))

# Table 1's rows of the paper (Language Only, the language prior, is ours): the
# rows the follow-up modules that look at a model's attention or regions read.
_PAPER_ROWS = ("VQA Only", "Joint Multitask", "Joint SVLR", "Zero-Shot VQA")

ZERO_SHOT = Result(
    "zero_shot", "Zero-shot VQA (Sec. 5.2)", "Zero-shot VQA",
    rows=_rows(TABLE1, "Zero-Shot VQA"), reused=("Zero-Shot VQA",), reuses="table1",
    select=True, paper=ZERO_SHOT_PAPER,
    report=(("Zero-shot Overall vs chance (paper: 1/18; ours: official metric)",
             f"{ZERO_SHOT_PAPER['Overall']} vs {ZERO_SHOT_PAPER['chance']}",
             show.zero_shot),))

PRETRAINING = Result(
    "pretraining", "Pre-training on Genome before joint training (Sec. 5.2)",
    "Pre-training ablation",
    rows=(_as(TABLE1.row("Zero-Shot VQA"), "Genome only"),
          _as(TABLE1.row("Joint SVLR"), "Joint SVLR (from scratch)"),
          Run("Pre-trained, then Joint SVLR", "pretrain_then_joint")),
    reused=("Genome only", "Joint SVLR (from scratch)"), reuses="table1",
    directory="pretraining", runs_flag=True, own_rows_with_runs=True,
    paper=PRETRAINING_PAPER,
    report=(("pre-trained, then joint vs from scratch, Overall",
             f"{PRETRAINING_PAPER['Pre-trained, then Joint SVLR']} vs "
             f"{PRETRAINING_PAPER['Joint SVLR (from scratch)']}",
             show.field("claim")),))

TABLE4 = Result(
    "table4", "Word neighbours before and after joint training (Table 4)", "Table 4",
    rows=_rows(TABLE1, "Joint SVLR"), reused=("Joint SVLR",), reuses="table1",
    directory="table4", runs_flag=True,
    report=(("mean WordNet path similarity of top-5 neighbours, class names",
             "not measured (neighbours shown only)", show.table4),))

TABLE2 = Result(
    "table2", "Attention against the ground truth (Table 2, Fig. 7)", "Table 2",
    rows=_rows(TABLE1, *_PAPER_ROWS), reused=_PAPER_ROWS, reuses="table1",
    select=True, paper=TABLE2_PAPER, pictures="fig7.png",
    report=(("SVLR rank correlation with the truth (paper: human maps)",
             f"{TABLE2_PAPER['SVLR']} (centre {TABLE2_PAPER['Center']})",
             show.table2),))

ATTENTION = Result(
    "attention", "Attention pictures (Fig. 4 / Fig. 6)",
    "Attention pictures (Fig. 4 / 6)",
    rows=_rows(TABLE1, "Joint SVLR", "VQA Only", "Joint Multitask"),
    reused=("Joint SVLR", "VQA Only", "Joint Multitask"), reuses="table1",
    select=True, one_seed=True, results_file="attention/index.md",
    pictures="attention/*.png", link=True)

FIG5 = Result(
    "fig5", "Transfer from VQA to recognition (Sec. 5.3, Fig. 5)", "Sec. 5.3 / Fig. 5",
    rows=(_as(TABLE1.row("Zero-Shot VQA"), "Genome only", zero_shot=False),
          Run("Joint SVLR (VR)", "joint_svlr_vr")),  # 1 / 1 / alpha_ans 0.1 (VQA -> VR)
    reused=("Genome only",), reuses="table1", paper=FIG5_PAPER, curves=True,
    heat_map=True,
    report=(("object accuracy: Genome only -> Joint SVLR",
             "{} -> {}".format(*FIG5_PAPER["objects"]),
             show.fig5_overall("object_accuracy")),
            ("attribute accuracy: Genome only -> Joint SVLR",
             "{} -> {}".format(*FIG5_PAPER["attributes"]),
             show.fig5_overall("attribute_accuracy")),
            ("classes rare in Genome, frequent in VQA",
             "{:g} -> {:g}".format(*FIG5_PAPER["rare_in_genome_common_in_vqa"])
             + f" ({FIG5_RARE_CLASSES} classes)", show.fig5_favoured)))

_VQA, _MULTITASK, _SVLR = "VQA Only", "Joint Multitask", "Joint SVLR"
_NO_ATTENTION = "SVLR, VQA-only attention words"
_NO_CLASSES = "SVLR, VQA-only class vectors"
ABLATION = Result(
    "ablation", "Ablation: which use of the aligned words carries the gain",
    "Ablation: the two uses of the aligned words",
    rows=_rows(TABLE1, _VQA, _MULTITASK, _SVLR) + (
        # Eq. 3 from a second word embedding only the VQA loss trains.
        Run(_NO_ATTENTION, "joint_svlr_vqa_attention"),
        # Eq. 5 from per-class vectors only the VQA loss trains.
        Run(_NO_CLASSES, "joint_svlr_vqa_classes")),
    reused=(_VQA, _MULTITASK, _SVLR), reuses="table1",
    directory="ablation", runs_flag=True, select=True, curves=True,
    # What each difference measures.
    claims=tuple(paired.Claim(a, b, question_type=t) for a, b, t in (
        (_SVLR, _VQA, None),                    # the whole gain
        (_NO_CLASSES, _VQA, None),              # gain with aligned attention only
        (_NO_ATTENTION, _VQA, None),            # gain with aligned class scores only
        (_SVLR, _NO_ATTENTION, None),           # what aligned attention adds
        (_SVLR, _NO_CLASSES, None),             # what aligned class scores add
        (_MULTITASK, _VQA, None),
        (_NO_ATTENTION, _MULTITASK, None),      # both unaligned attention; g(y) vs h_y
        (_SVLR, _VQA, "what color is the"),
        (_NO_CLASSES, _VQA, "what color is the"),
        (_NO_ATTENTION, _VQA, "what color is the"))),
    report=(("aligned attention only (VQA-only class vectors) - VQA Only",
             "not in the paper", show.paired_claim(f"{_NO_CLASSES} - {_VQA}")),
            ("aligned class scores only (VQA-only attention words) - VQA Only",
             "not in the paper", show.paired_claim(f"{_NO_ATTENTION} - {_VQA}"))))

TABLE3 = Result(
    "table3", "Real-data test-dev submission (Table 3)", "Table 3",
    rows=(Run("SVLR (ours, trained on train)", "joint_svlr"),), directory="table3",
    select=True, seeds=1, paper=TABLE3_PAPER, command=" --data_dir DIR --preset paper", in_all=False,
    report=(("VQA val (trained on train)", f"{TABLE3_PAPER['SVLR (paper)']['val']}",
             show.val_overall),
            ("test-dev", f"{TABLE3_PAPER['SVLR (paper)']['test-dev']}",
             show.submitted)))

# reproduce.all's order (later modules reuse earlier runs); the report's order.
SENSITIVITY = Result(
    "sensitivity", "Sensitivity of Table 1's claims to the world and the model width",
    "Sensitivity",
    rows=_rows(TABLE1, "Language Only", "VQA Only", "Joint Multitask", "Joint SVLR"),
    directory="sensitivity", seeds=1, in_all=False,
    claims=(paired.Claim("VQA Only", "Language Only",
                         paper=_gain("VQA Only", "Language Only")),
            paired.Claim("Joint Multitask", "VQA Only",
                         paper=_gain("Joint Multitask", "VQA Only")),
            paired.Claim("Joint SVLR", "VQA Only", paper=_gain("Joint SVLR", "VQA Only"))))

NOVEL_CONCEPTS = Result(
    "novel_concepts", "Beyond the paper: concepts never seen in VQA training",
    "Held-out concepts",
    # Table 1's rows of the paper, trained on a derived split (their own runs, beside
    # the split under --workdir: they never meet Table 1's).
    rows=_rows(TABLE1, *_PAPER_ROWS), directory="novel_concepts", in_all=False)

ORDER = (TABLE1, ZERO_SHOT, PRETRAINING, TABLE4, TABLE2, ATTENTION, FIG5, ABLATION,
         TABLE3)
RESULTS: Dict[str, Result] = {r.key: r for r in ORDER}
REPORT_ORDER = ("table1", "zero_shot", "pretraining", "ablation", "fig5", "table2",
                "attention", "table4", "table3")


def default_workdir(key: str, preset: str, data_dir: Optional[str] = None) -> str:
  """A module's default --workdir for a preset and data."""
  return os.path.join(runs_root(preset, data_dir), RESULTS[key].workdir_name)


def default_runs(key: str, preset: str, data_dir: Optional[str] = None) -> str:
  """A module's default --runs (the reused runs' directory)."""
  return os.path.join(runs_root(preset, data_dir), RESULTS[key].runs_name)


def report_sources():
  """The report's sections, in order."""
  return [RESULTS[k].source() for k in REPORT_ORDER]


def run_labels() -> Dict[str, str]:
  """Run directory name -> its row label in the table that trains it (the report's
  learning curves)."""
  labels: Dict[str, str] = {}
  for result in ORDER:
    for row in result.own_rows:
      labels.setdefault(row.dirname, row.label)
  return labels
