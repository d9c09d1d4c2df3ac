r"""Sec. 5.3 / Fig. 5: inductive transfer from VQA to visual recognition.

    python -m reproduce.fig5                        # embedded dataset, 3 seeds
    python -m reproduce.fig5 --data_dir DIR --preset paper

Two models per seed, the same budget, both selected on Genome val object accuracy.
Reported on Genome test: overall object and attribute accuracy of both, and
Fig. 5's grid: the mean change in per-class object accuracy for classes binned by
their Genome train frequency (columns: terciles) and by how often they occur in VQA
train questions and answers (rows: 0 / 1-19 / >= 20 mentions, since the embedded
world is smaller than the real data), with the Genome-only mean accuracy and the
number of classes per cell; the exact edges are in ``fig5.json``.
Writes ``fig5.json``, ``fig5.md`` and the heat map ``fig5.png`` into --workdir.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from reproduce import common
from svlr_tf.evaluation import recognition_eval
from svlr_tf.training.grid import Run
from svlr_tf.tables import Table, over_seeds
from svlr_tf.viz.results import fig5_heat_map

FLAGS = flags.FLAGS
common.define_common_flags("runs/fig5")
flags.adopt_module_key_flags(common)  # list them in --help

ROWS = (Run("Genome only", "genome_only"),         # alpha_obj = alpha_atr = 1, alpha_ans = 0
        Run("Joint SVLR (VR)", "joint_svlr_vr"))   # 1 / 1 / alpha_ans = 0.1 (VQA -> VR)

# The paper (real data): (Genome only, Joint SVLR) accuracy; the headline cell is
# the 8 classes with < 125 Genome train examples and > 160 VQA mentions.
PAPER = {"objects": [43.3, 44.5], "attributes": [36.9, 36.9],
         "rare_in_genome_common_in_vqa": [21.0, 32.0]}


def main(argv):
  del argv
  if FLAGS.experiments:
    common.fail("--experiments: Fig. 5 compares both of its rows; run them all")
  setup = common.start("Sec. 5.3 / Fig. 5")
  grid = common.run_grid(ROWS, setup)
  data = setup.data

  # Overall accuracy on Genome test (checkpoints selected on Genome val).
  columns = ["object_accuracy", "attribute_accuracy"]
  table = Table.from_grid(f"Sec. 5.3 on {setup.dataset}, Genome test, "
                          f"{over_seeds(grid.seeds)}:", grid, columns,
                          lambda r, col: r["recognition_test"][col])

  # Fig. 5: per-class change, binned by Genome and VQA frequency.
  def per_class(label):  # [seeds, O] in percent, NaN where a class has no test region
    return np.array([[np.nan if a is None else a
                      for a in r["recognition_test"]["object_accuracy_per_class"]]
                     for r in grid.results(label).values()], dtype=np.float64)

  base = np.nanmean(per_class("Genome only"), axis=0)
  change = np.nanmean(per_class("Joint SVLR (VR)") - per_class("Genome only"), axis=0)
  genome_freq, vqa_freq = recognition_eval.class_frequencies(
      data, grid.config("Genome only").data)
  cells, edges = recognition_eval.transfer_grid(genome_freq, vqa_freq, base, change)
  cells = {f"vqa{vi}_genome{gi}": {"genome_only_accuracy": b, "change": c, "classes": n}
           for (vi, gi), (b, c, n) in cells.items()}

  # The world's classes made rare in Genome but frequent in VQA (docs/world.md).
  favoured = [data.objects.index(c) for c in data.meta.get("vqa_favoured_classes", [])
              if c in data.objects]
  favoured = [i for i in favoured if not (np.isnan(base[i]) or np.isnan(change[i]))]
  before = round(float(base[favoured].mean()), 2) if favoured else None
  after = round(float((base + change)[favoured].mean()), 2) if favoured else None

  text = (table.markdown() + "\nFig. 5: Genome-only per-class accuracy +/- change with "
          "VQA (classes), by Genome train regions (columns) and VQA train mentions "
          "(rows):\n\n" + recognition_eval.transfer_grid_markdown(cells, edges))
  if favoured:
    text += (f"\nClasses rare in Genome but frequent in VQA "
             f"({', '.join(data.objects[i] for i in favoured)}): {before:.2f} -> "
             f"{after:.2f}.\n")
  text += (f"\nPaper (real data): objects {PAPER['objects'][0]} -> {PAPER['objects'][1]}, "
           f"attributes {PAPER['attributes'][0]} -> {PAPER['attributes'][1]}; the "
           "classes with < 125 Genome examples and > 160 VQA mentions "
           f"{PAPER['rare_in_genome_common_in_vqa'][0]:g}% -> "
           f"{PAPER['rare_in_genome_common_in_vqa'][1]:g}%.\n" + common.stale_note(grid))
  overall = table.to_json()
  results = {
      "dataset": setup.dataset, "seeds": grid.seeds,
      "overall": {row: {c: [overall["rows"][row][c], overall["std"][row][c]]
                        for c in columns} for row in overall["rows"]},
      "per_seed": overall["per_seed"],
      "genome_frequency_edges": edges, "vqa_bins": recognition_eval.VQA_BINS,
      "cells": cells,
      "vqa_favoured_classes": {"classes": [data.objects[i] for i in favoured],
                               "genome_only_accuracy": before, "joint_accuracy": after},
      "config": grid.config("Joint SVLR (VR)").to_dict(), "paper": PAPER}
  # Fig. 5 as the paper draws it: a heat map of the change, beside the table.
  fig5_heat_map(results, os.path.join(FLAGS.workdir, "fig5.png"))
  text += "\nFig. 5 as a heat map: fig5.png (same directory).\n"
  common.write_results("fig5", results, text)


if __name__ == "__main__":
  common.run(main)
