"""Collect every result under a runs root, draw its figures, write ``index.md``.

    from svlr_tf.report.page import build_report
    index, images = build_report("runs", "runs/report")

For each module of ``svlr_tf.report.sources.SOURCES``: when its results are there,
the paper's numbers beside ours, the module's own Markdown table and its figures
(Table 1 as bars with error bars, Fig. 5 as a heat map, held-out learning curves of
every run read from its TensorBoard event files, the PNGs the attention and Table 2
modules wrote); when not, the command that makes them.  Trains nothing.
"""

from __future__ import annotations

import glob
import os
import time
from typing import Dict, List, Tuple

from svlr_tf.runtime.files import atomic_write_text, read_json
from svlr_tf.report import events
from svlr_tf.report.sources import SOURCES, Source
from svlr_tf.viz import results as figures

# Directory names of runs -> the row names of the tables.
RUN_LABELS = {"vqa_only": "VQA Only", "joint_multitask": "Joint Multitask",
              "joint_svlr": "Joint SVLR", "genome_only": "Genome only",
              "joint_svlr_vr": "Joint SVLR (VR)",
              "pretrain_then_joint": "Pre-trained, then Joint SVLR"}
CURVES = (("held-out VQA accuracy (train-held-out)", "vqa_accuracy/overall"),
          ("Genome val object accuracy", "recognition/object_accuracy"))
MAX_PICTURES = 4

SIMULATED_NOTE = (
    "**What is simulated.** Unless a section says *real VQA v1 + Visual Genome*, "
    "every number here is measured on the embedded dataset (docs/world.md): its "
    "words, WordNet hypernyms, GloVe word vectors, VQA question types and text "
    "processing are real; its images, region features, annotations, questions and "
    "human answers are **simulated**. These numbers test the code and whether the "
    "paper's effects appear in a world with the paper's structure; they are not the "
    "paper's numbers, which are printed beside ours for reference (real data).")


def learning_curves(run_root: str) -> Tuple[Dict, Dict]:
  """({panel: {row: {seed: (steps, values)}}}, {panel: {row: {seed: best step}}})
  of every run ``<run_root>/seed<s>/<name>/validation``."""
  panels = {title: {} for title, _ in CURVES}
  selected = {title: {} for title, _ in CURVES}
  for logdir in sorted(glob.glob(os.path.join(run_root, "seed*", "*", "validation"))):
    run = os.path.dirname(logdir)
    seed_dir, name = os.path.split(run)
    try:
      seed = int(os.path.basename(seed_dir)[len("seed"):])
    except ValueError:
      continue
    label = RUN_LABELS.get(name, name)
    results = os.path.join(run, "results.json")
    best = read_json(results).get("best_step") if os.path.exists(results) else None
    for title, tag in CURVES:
      steps, values = events.read_scalars(logdir, tag)
      if len(steps):
        panels[title].setdefault(label, {})[seed] = (steps.tolist(), values.tolist())
        # The dot marks the run's own selection (held-out VQA, else Genome val).
        if best is not None and (tag.startswith("vqa") or name == "genome_only"):
          selected[title].setdefault(label, {})[seed] = best
  return panels, selected


def _relative(path: str, out_dir: str) -> str:
  return os.path.relpath(path, out_dir).replace(os.sep, "/")


def _section(source: Source, runs_root: str, out_dir: str, images: List[str],
             curves_drawn: set) -> Tuple[List[str], List[Tuple[str, str, str]]]:
  """Markdown lines of one module and its (claim, paper, ours) rows."""
  lines = [f"## {source.title}", ""]
  source = source.locate(runs_root)
  path = os.path.join(runs_root, source.path)
  workdir = os.path.join(runs_root, source.directory)
  if not os.path.exists(path):
    lines += [f"Not run yet: `{source.command}` writes `{_relative(path, out_dir)}`.", ""]
    return lines, [(c, p, "missing") for c, p, _ in source.claims]
  out = read_json(path) if path.endswith(".json") else {}
  claims = []
  for claim, paper, ours in source.claims:
    try:
      value = ours(out)
    except (KeyError, TypeError, ValueError, IndexError):
      value = None
    claims.append((claim, paper, value or "not in the results file"))
  if out.get("dataset"):
    lines += [f"Measured on {out['dataset']}.", ""]
  figure_dir = os.path.join(out_dir, "figures")

  def add_image(png: str, caption: str):
    images.append(png)
    lines.extend([f"![{caption}]({_relative(png, out_dir)})", ""])

  if source.key == "table1" and out.get("rows"):
    paper = {"VQA Only": 62.9, "Joint Multitask": 64.1, "Joint SVLR": 65.3,
             "Zero-Shot VQA": 16.4}
    add_image(figures.table1_bars(out, os.path.join(figure_dir, "table1.png"),
                                  paper=paper),
              "Table 1 per question type, error bars = std over seeds")
  if source.key == "fig5" and out.get("cells"):
    add_image(figures.fig5_heat_map(out, os.path.join(figure_dir, "fig5.png")),
              "Fig. 5 heat map")
  markdown = os.path.join(runs_root, source.markdown)
  if os.path.exists(markdown) and markdown != path:
    with open(markdown, encoding="utf-8") as f:
      lines += [f.read().strip(), ""]
  if source.key == "attention":
    lines += [f"All pictures: [{_relative(path, out_dir)}]({_relative(path, out_dir)})", ""]
  if source.pictures:
    pictures = sorted(glob.glob(os.path.join(runs_root, source.pictures)))
    for png in [p for p in pictures if figures.is_png(p)][:MAX_PICTURES]:
      add_image(png, os.path.basename(png))
  panels, selected = ({}, {})
  if source.curves and workdir not in curves_drawn:  # one figure per directory
    curves_drawn.add(workdir)
    panels, selected = learning_curves(workdir)
  if any(panels.values()):
    add_image(figures.learning_curves(
        panels, os.path.join(figure_dir, f"curves_{source.key}.png"),
        ylabels={t: "accuracy (%)" for t, _ in CURVES}, selected=selected),
        f"held-out curves of the runs in {source.directory}/ (mean of seeds thick, "
        "each seed thin, dots = selected step)")
  return lines, claims


def build_report(runs_root: str, out_dir: str) -> Tuple[str, List[str]]:
  """Writes ``<out_dir>/index.md`` (+ figures/); returns (its path, linked PNGs)."""
  images: List[str] = []
  body, summary, missing, curves_drawn = [], [], [], set()
  for source in SOURCES:
    lines, claims = _section(source, runs_root, out_dir, images, curves_drawn)
    body += lines
    summary += claims
    if not os.path.exists(os.path.join(runs_root, source.locate(runs_root).path)):
      missing.append(source)
  head = ["# SVLR reproduction: every result", "",
          f"Collected from `{os.path.abspath(runs_root)}` on "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
          "`python -m reproduce.report` (it trains nothing).", "", SIMULATED_NOTE, "",
          "## The paper's claims beside ours", "",
          "| claim | paper (real data) | ours |", "|---|---|---|"]
  head += [f"| {c} | {p} | {o} |" for c, p, o in summary]
  head.append("")
  if missing:
    head += ["Missing results (run the command to make them):", ""]
    head += [f"- {s.title}: `{s.command}`" for s in missing]
    head.append("")
  index = os.path.join(out_dir, "index.md")
  atomic_write_text(index, "\n".join(head + body).rstrip() + "\n")
  return index, images
