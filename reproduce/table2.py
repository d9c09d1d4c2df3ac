r"""Table 2: does the attention a(R) (Eq. 4) look where it should? (Sec. 5.4)

    python -m reproduce.table2                 # embedded world: where the asked object is
    python -m reproduce.table2 --preset tiny --seeds 1 --steps 20   # smoke test
    python -m reproduce.table2 --data_dir DIR --hat_dir HAT --preset paper
                                               # real data: VQA-HAT human attention

Uses the trained runs of ``reproduce.table1`` (the same rows at the same
--workdir, default runs/table1: finished runs are reused, not retrained; missing
ones are trained first).

Embedded world (the world's Table 2): for each test question about an object of
the image, the ground truth is the union of that object's boxes. Per Table 1 row,
mean ± std over seeds:
  pointing accuracy   the region of highest a(R) shows the asked object
  rank correlation    Spearman's rho of a(R) rasterised to 14x14 with the truth
beside a uniform a(R) and the centre-Gaussian map.

Real data (--data_dir, --hat_dir): the VQA-HAT val maps (``<question_id>_<n>.png``)
of the questions in the test split (VQA v1 val); the mean rank correlation of each
row's attention (Edge Box regions rasterised the same way) with the human maps,
the centre baseline, the inter-human agreement, and the paper's Table 2 beside.

Both write table2.json, table2.md and fig7.png (Fig. 7: the mean correlation on
the questions whose truth correlates with the centre map at most t) in --workdir.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from reproduce import common
from svlr_tf.training.grid import Run
from svlr_tf.tables import mean_std

FLAGS = flags.FLAGS
common.define_common_flags("runs/table1")
flags.DEFINE_string("hat_dir", None,
                    "VQA-HAT val maps (<question_id>_<n>.png, or their parent "
                    "directory); needs --data_dir (real data).")
flags.adopt_module_key_flags(common)

# The rows of reproduce.table1 (same names and experiments: its runs are reused).
ROWS = (
    Run("VQA Only", "vqa_only"),
    Run("Joint Multitask", "joint_multitask"),
    Run("Joint SVLR", "joint_svlr"),
    Run("Zero-Shot VQA", "genome_only", zero_shot=True),
)

# The paper's Table 2 (real VQA v1 val, VQA-HAT): mean rank correlation.
PAPER = {"HiCo": 0.27, "SAN2": 0.26, "WTL (predecessor)": 0.38, "SVLR": 0.48,
         "Center": 0.53, "Human": 0.62}


def world_questions(data_dir: str):
  """The test questions about an object, and the boxes of their images."""
  from svlr_tf.data.boxes import load_boxes
  from svlr_tf.runtime.files import iter_jsonl
  path = os.path.join(data_dir, "vqa", "test_grounding.jsonl")
  lines = [row for _, row in iter_jsonl(path)]
  asked = [q for q in lines if q.get("asks_about") is not None]
  return asked, load_boxes(data_dir, "vqa", {q["image_id"] for q in asked})


def hat_questions(data):
  """{question_id: [m, 14, 14] human maps} of the test split, image boxes, counts."""
  from svlr_tf.data.boxes import load_boxes
  from svlr_tf.data.hat import hat_files, load_hat_map
  files = hat_files(FLAGS.hat_dir)
  from svlr_tf.runtime.files import iter_jsonl
  image_of = {int(r["question_id"]): int(r["image_id"]) for _, r in
              iter_jsonl(os.path.join(data.data_dir, "vqa", "test.jsonl"))}
  kept = sorted(q for q in files if q in image_of)
  if not kept:
    common.fail(f"{FLAGS.hat_dir}: none of its {len(files)} maps is a question of the "
                "test split (VQA v1 val)")
  maps = {q: np.stack([load_hat_map(p) for p in files[q]]) for q in kept}
  boxes = load_boxes(data.data_dir, "vqa", {image_of[q] for q in kept})
  return maps, {q: boxes[image_of[q]] for q in kept}, len(files) - len(kept)


def seed_mean_std(values):
  """(mean, std over seeds) of the finite values, 3 decimals; (None, None) if
  none; std 0.0 for one seed."""
  return mean_std(values, digits=3, finite_only=True, one_value_std=0.0)


def cell(pair) -> str:
  return "" if pair[0] is None else f"{pair[0]:.3f} ± {pair[1]:.3f}"


def world_table(scores, seeds, dataset) -> dict:
  """Table 2 of the world from {row: {seed: world_grounding(...)}}."""
  first = next(iter(next(iter(scores.values())).values()))
  rows = {}
  for label, by_seed in scores.items():
    rows[label] = {m: seed_mean_std([s[m]["model"] for s in by_seed.values()])
                   for m in ("pointing", "rank_correlation")}
  for name, key in (("Uniform a(R) over regions", "uniform"), ("Centre Gaussian", "centre")):
    rows[name] = {m: (round(first[m][key], 3), 0.0) for m in ("pointing", "rank_correlation")}
  lines = [f"Table 2 on {dataset}: grounding of a(R) (Eq. 4, correct answer) on the "
           f"{first['questions']} test questions about an object of the image, mean ± "
           f"std over seeds {list(seeds)}.", "",
           "| | pointing accuracy | rank correlation (14x14) |", "|---|---:|---:|"]
  lines += [f"| {k} | {cell(v['pointing'])} | {cell(v['rank_correlation'])} |"
            for k, v in rows.items()]
  lines += ["", "Pointing: the region of highest a(R) shows the asked object. Rank "
            "correlation: Spearman's rho between a(R) projected onto a 14x14 grid and "
            "the union of the asked object's boxes. Baselines are the same for every "
            "row (no training). Paper (real data, VQA-HAT): SVLR 0.48, WTL 0.38, "
            "centre 0.53, human 0.62."]
  return {"kind": "world", "dataset": dataset, "seeds": list(seeds),
          "questions": first["questions"], "rows": rows,
          "undefined_correlations": {k: {str(s): v["undefined_correlations"]
                                         for s, v in by.items()}
                                     for k, by in scores.items()},
          "markdown": "\n".join(lines) + "\n"}


def real_table(correlations, human, seeds, dataset) -> dict:
  """Table 2 on VQA-HAT from {row: {seed: [per-question rho]}} and the human maps."""
  from svlr_tf.evaluation import grounding
  rows = {label: {"rank_correlation": seed_mean_std(
      [float(np.nanmean(v)) for v in by_seed.values()])}
          for label, by_seed in correlations.items()}
  centre = [grounding.centre_correlation(m) for m in human.values()]
  agree = [grounding.inter_human_correlation(m) for m in human.values()]
  rows["Centre Gaussian"] = {"rank_correlation": (round(float(np.nanmean(centre)), 3), 0.0)}
  rows["Human (inter-annotator)"] = {"rank_correlation": (
      round(float(np.nanmean(agree)), 3) if np.isfinite(agree).any() else None, 0.0)}
  paper = {"Joint SVLR": PAPER["SVLR"], "Centre Gaussian": PAPER["Center"],
           "Human (inter-annotator)": PAPER["Human"]}
  lines = [f"Table 2 on {dataset}: mean Spearman rank correlation (14x14) of a(R) "
           f"(Eq. 4, correct answer) with the VQA-HAT human maps of {len(human)} test "
           f"questions, mean ± std over seeds {list(seeds)}.", "",
           "| | rank correlation | paper |", "|---|---:|---:|"]
  lines += [f"| {k} | {cell(v['rank_correlation'])} | {paper.get(k, '')} |"
            for k, v in rows.items()]
  lines += ["", "Paper's other rows: WTL (SVLR's predecessor) 0.38, HiCo 0.27, SAN2 0.26."]
  return {"kind": "vqa-hat", "dataset": dataset, "seeds": list(seeds),
          "questions": len(human), "rows": rows, "paper": PAPER,
          "centre_per_question": centre, "markdown": "\n".join(lines) + "\n"}


def fig7(curves, path, truth_name) -> None:
  """Fig. 7 as a PNG: one line per row (and the centre baseline)."""
  from svlr_tf.viz import draw
  fig = draw.new_figure(panel_size=(6.0, 4.0))
  first = next(iter(curves.values()))
  draw.line_chart(fig.axes[0], first["thresholds"],
                  {k: v["mean"] for k, v in curves.items()},
                  xlabel=f"t: correlation of the {truth_name} with the centre map",
                  ylabel="mean rank correlation (questions with centre corr. <= t)",
                  title="Fig. 7: correlation on subsets far from the centre")
  draw.save_png(fig, path)


def main(argv):
  del argv
  if bool(FLAGS.hat_dir) != bool(FLAGS.data_dir):
    common.fail("--hat_dir and --data_dir go together: real data needs the VQA-HAT "
                "maps, the embedded world has its own ground truth")
  setup = common.start("Table 2")
  from svlr_tf.evaluation import grounding
  from svlr_tf.evaluation.attention_maps import split_attention
  from svlr_tf.training.grid import restore_run

  # Every input is read before any training.
  if FLAGS.hat_dir:
    human, boxes, skipped = hat_questions(setup.data)
    qids = sorted(human)
    print(f"{len(qids)} test questions with VQA-HAT maps ({skipped} maps of other "
          "questions skipped)", flush=True)
  else:
    questions, boxes = world_questions(setup.data.data_dir)
    qids = [q["question_id"] for q in questions]
  grid = common.run_grid(ROWS, setup)
  print(common.reuse_note(grid), flush=True)

  scores, curves = {}, {}
  for row in grid.rows:
    scores[row.label] = {}
    for seed in grid.seeds:
      trainer = restore_run(grid.run_dir(row.label, seed), setup.data)
      att = split_attention(trainer, "test", qids).by_question("label")
      if FLAGS.hat_dir:
        scores[row.label][seed] = [grounding.human_correlations(human[q], boxes[q], att[q])
                                   for q in qids]
        shown = float(np.nanmean(scores[row.label][seed]))
      else:
        scores[row.label][seed] = grounding.world_grounding(questions, boxes, att)
        shown = scores[row.label][seed]["rank_correlation"]["model"]
      print(f"[{row.label} seed {seed}] rank correlation {shown:.3f}", flush=True)
  if FLAGS.hat_dir:
    table = real_table(scores, human, grid.seeds, setup.dataset)
    centre = table.pop("centre_per_question")
    model = {k: np.nanmean(np.array(list(v.values()), np.float64), axis=0)
             for k, v in scores.items()}
  else:
    table = world_table(scores, grid.seeds, setup.dataset)
    any_run = next(iter(scores[grid.rows[0].label].values()))
    centre = any_run["per_question_correlation"]["centre"]
    model = {k: np.nanmean(np.array([s["per_question_correlation"]["model"]
                                     for s in v.values()], np.float64), axis=0)
             for k, v in scores.items()}
  curves = {k: grounding.fig7_curve(v, centre) for k, v in model.items()}
  curves["Centre Gaussian"] = grounding.fig7_curve(centre, centre)
  table["fig7"] = curves
  fig7(curves, os.path.join(FLAGS.workdir, "fig7.png"),
       "human map" if FLAGS.hat_dir else "ground-truth map")
  markdown = table.pop("markdown") + "\nFig. 7: fig7.png (same directory).\n"
  common.write_results("table2", table, markdown)


if __name__ == "__main__":
  common.run(main)
