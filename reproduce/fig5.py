r"""Sec. 5.3 / Fig. 5: inductive transfer from VQA to visual recognition.

    python -m reproduce.fig5                        # embedded dataset, 3 seeds
    python -m reproduce.fig5 --data_dir DIR --preset paper

Two models per seed, the same budget, both selected on Genome val object accuracy:
  Genome only       alpha_obj = alpha_atr = 1, alpha_ans = 0
  Joint SVLR (VR)   alpha_obj = alpha_atr = 1, alpha_ans = 0.1 (Sec. 4, VQA -> VR)

Reported on Genome test: overall object and attribute accuracy of both (paper:
objects 43.3 -> 44.5, attributes 36.9 -> 36.9), and Fig. 5's grid: the mean change in
per-class object accuracy for classes binned by their Genome train frequency
(columns) and by how often they occur in VQA train questions and answers (rows),
with the Genome-only mean accuracy and the number of classes per cell. The paper's
headline cell: classes with fewer than 125 Genome train examples that occur more
than 160 times in VQA improve from 21% to 32%. Bins here are terciles of Genome
frequency and VQA-occurrence bins 0 / 1-19 / >= 20, since the embedded world is
smaller than the real data; the exact edges are in ``fig5.json``.
Writes ``fig5.json`` and ``fig5.md`` into --workdir.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from reproduce import common
from svlr_tf.evaluation.recognition_eval import VQA_BINS, transfer_grid

FLAGS = flags.FLAGS
common.define_common_flags("runs/fig5")
flags.adopt_module_key_flags(common)  # list them in --help

ROWS = (("Genome only", "genome_only"), ("Joint SVLR (VR)", "joint_svlr_vr"))


def class_frequencies(data, cfg):
  """Per object class: Genome train regions, and VQA train questions mentioning it.

  A question mentions a class when the class's (single-word) name is among its
  question nouns or the nouns of its correct answer.
  """
  rec = data.load_recognition("train")
  genome = np.bincount(rec.object_ids, minlength=rec.num_objects).astype(np.int64)
  vqa = data.load_vqa("train", cfg.data.max_question_words, cfg.data.max_answer_words,
                      cfg.data.num_choices)
  answer_nouns = vqa.choice_nouns[np.arange(len(vqa.label)), vqa.label]
  mentioned = np.concatenate([vqa.question_nouns, answer_nouns], axis=1)
  class_ids = data.class_word_ids("objects", 1)[:, 0]
  counts = np.zeros(len(data.objects), np.int64)
  for c, wid in enumerate(class_ids):
    if wid > 1 and len(data.objects[c].split()) == 1:  # not <pad>/<unk>, one word
      counts[c] = int(np.any(mentioned == wid, axis=1).sum())
  return genome, counts


def main(argv):
  del argv
  data, strategy, dataset = common.start()
  from svlr_tf.experiment import config_for_data, run_experiment

  per_row = {name: [] for name, _ in ROWS}
  for seed in range(FLAGS.seeds):
    for name, experiment in ROWS:
      cfg = config_for_data(FLAGS.preset, experiment, data, seed, FLAGS.steps)
      workdir = os.path.join(FLAGS.workdir, f"seed{seed}", experiment)
      print(f"== {name} (seed {seed}) -> {workdir}", flush=True)
      per_row[name].append(run_experiment(
          cfg, data, workdir, strategy=strategy,
          log=lambda line: print(line, flush=True))["recognition_test"])

  genome_freq, vqa_freq = class_frequencies(data, cfg)

  def per_class(name):  # [seeds, O] in percent, NaN where a class has no test region
    return np.array([[np.nan if a is None else a for a in r["object_accuracy_per_class"]]
                     for r in per_row[name]], dtype=np.float64)

  base = np.nanmean(per_class("Genome only"), axis=0)
  change = np.nanmean(per_class("Joint SVLR (VR)") - per_class("Genome only"), axis=0)
  cells, edges = transfer_grid(genome_freq, vqa_freq, base, change)

  favoured = [data.objects.index(c) for c in data.meta.get("vqa_favoured_classes", [])
              if c in data.objects]
  favoured = [i for i in favoured if not (np.isnan(base[i]) or np.isnan(change[i]))]
  overall = {name: {k: common.mean_std([r[k] for r in runs])
                    for k in ("object_accuracy", "attribute_accuracy")}
             for name, runs in per_row.items()}
  out = {
      "dataset": dataset, "seeds": list(range(FLAGS.seeds)),
      "overall": overall,
      "genome_frequency_edges": edges, "vqa_bins": VQA_BINS,
      "cells": {f"vqa{vi}_genome{gi}": {"genome_only_accuracy": b, "change": c,
                                        "classes": n}
                for (vi, gi), (b, c, n) in cells.items()},
      "vqa_favoured_classes": {
          "classes": [data.objects[i] for i in favoured],
          "genome_only_accuracy": (round(float(base[favoured].mean()), 2)
                                   if favoured else None),
          "joint_accuracy": (round(float((base[favoured] + change[favoured]).mean()), 2)
                             if favoured else None)},
      "paper": {"objects": [43.3, 44.5], "attributes": [36.9, 36.9],
                "rare_in_genome_common_in_vqa": [21.0, 32.0]},
  }
  common.write_results("fig5", out, render(out))


def render(out) -> str:
  lines = [f"Sec. 5.3 on {out['dataset']}, Genome test, seeds {out['seeds']} "
           "(mean ± std):", "",
           "| | object accuracy | attribute accuracy |", "|---|---:|---:|"]
  for name, m in out["overall"].items():
    lines.append(f"| {name} | {m['object_accuracy'][0]:.2f} ± {m['object_accuracy'][1]:.2f}"
                 f" | {m['attribute_accuracy'][0]:.2f} ± {m['attribute_accuracy'][1]:.2f} |")
  e = out["genome_frequency_edges"]
  cols = [f"Genome <= {e[0]:.0f}", f"{e[0]:.0f} < Genome <= {e[1]:.0f}",
          f"Genome > {e[1]:.0f}"]
  lines += ["", "Fig. 5: Genome-only per-class accuracy +/- change with VQA "
            "(classes), by Genome train regions (columns) and VQA train mentions (rows):",
            "", "| VQA mentions | " + " | ".join(cols) + " |",
            "|---|" + "---:|" * len(cols)]
  for vi in reversed(range(len(VQA_BINS))):
    lo, hi = VQA_BINS[vi]
    label = f">= {lo}" if hi is None else (f"{lo}" if lo == hi else f"{lo}-{hi}")
    cells = []
    for gi in range(3):
      c = out["cells"].get(f"vqa{vi}_genome{gi}")
      cells.append("" if c is None else
                   f"{c['genome_only_accuracy']:.1f} {c['change']:+.1f} ({c['classes']})")
    lines.append(f"| {label} | " + " | ".join(cells) + " |")
  f = out["vqa_favoured_classes"]
  if f["classes"]:
    lines += ["", f"Classes rare in Genome but frequent in VQA ({', '.join(f['classes'])}):"
              f" {f['genome_only_accuracy']:.2f} -> {f['joint_accuracy']:.2f}."]
  lines += ["", "Paper (real data): objects 43.3 -> 44.5, attributes 36.9 -> 36.9; the 8 "
            "classes with < 125 Genome examples and > 160 VQA mentions 21% -> 32%."]
  return "\n".join(lines) + "\n"


if __name__ == "__main__":
  common.run(main)
