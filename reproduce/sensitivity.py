r"""Sensitivity of Table 1's claims to the world's regime and the model's width.

    python -m reproduce.sensitivity                       # the default grid, 1 seed
    python -m reproduce.sensitivity --points x1,x4 --seeds 2
    python -m reproduce.sensitivity --preset tiny --seeds 1   # smoke test

Does the paper's "Joint Multitask / Joint SVLR help VQA" appear once VQA Only
learns to look?  For each point of a small grid -- the VQA train split at x1,
x4 and x16 of the preset's (the held-out and test splits unchanged), and the
preset's model width against a width closer to the paper's -- it trains
Language Only, VQA Only, Joint Multitask and Joint SVLR (same budget, same
held-out selection as Table 1) and prints each claim's sign and size as a
paired difference with its 95% interval (over seeds and test questions,
``svlr_tf.evaluation.paired``; none at 1 seed, where only the sign of the
difference is printed): VQA Only - Language Only (does VQA Only look?), Joint Multitask - VQA
Only, Joint SVLR - VQA Only.

A point's world is ``runs/data/world-<preset>-<point>`` (no pictures), its runs
``<workdir>/<point>/seed<s>/<row>``: run again, it reuses every finished run; the
x1 point at the preset's width trains the same configs as Table 1, on the same
world (``runs/data/world-<preset>``), so ``--table1_workdir runs/table1`` reuses
Table 1's runs for it.  The number of training steps is the preset's at every
point (a fixed budget: a larger train split is seen fewer times).

Cost (default preset, 2 quiet cores; estimated, not measured: a default run
takes about 1 min and a Language Only run about half that, whatever the train
size, since the steps are fixed; generation scales with the VQA images, 14,500 in
about 1 min without pictures): x1 ~3.5 min of runs (0 with --table1_workdir), x4
~3.5 min + ~2 min of world (22,000 images), x16 ~3.5 min + ~4 min of world (52,000
images, 156k questions, ~160 MB of features), x1-wide ~5 min: about 20 min for the
default grid at 1 seed, about 35 min at 2 seeds.  Writes ``<workdir>/sensitivity.json`` and ``.md``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, List

from absl import flags

from reproduce import common
from reproduce.registry import SENSITIVITY
from svlr_tf.evaluation import paired

FLAGS = flags.FLAGS
# Its rows and claims: reproduce/registry.py (SENSITIVITY; 1 seed by default: the
# grid is the repetition).
ROWS, CLAIMS = SENSITIVITY.rows, SENSITIVITY.claims


def define_flags():
  flags.DEFINE_list("points", None, "Grid points to run (default: all of POINTS).")
  flags.DEFINE_string("table1_workdir", None, "Reuse Table 1's runs (its --workdir) "
                      "for the x1 point at the preset's width.")

# Model widths closer to the paper's (300 / 300 / 2048 / 2500): the embedding of
# g, f_o, f_a at the paper's 300, region and bimodal hidden layers a quarter to a
# half of the paper's, affordable on a CPU.
WIDE = {"embedding_dim": 300, "word_hidden_dim": 300, "region_hidden_dim": 512,
        "bimodal_dim": 1024}


@dataclasses.dataclass(frozen=True)
class Point:
  """One point of the grid: a VQA train split scale and model overrides."""

  name: str
  train_scale: int = 1
  model: Dict = dataclasses.field(default_factory=dict)


POINTS = (Point("x1"), Point("x4", 4), Point("x16", 16), Point("x1-wide", 1, WIDE))


def world_overrides(preset: str, point: Point) -> Dict:
  """The WorldConfig fields of a point: the VQA train images scaled."""
  if point.train_scale == 1:
    return {}
  from svlr_tf.world.config import world_config
  train, heldout, test = world_config(preset).vqa_images
  return {"vqa_images": (train * point.train_scale, heldout, test)}


def point_data(preset: str, point: Point):
  """The prepared world of a point (generated on first use)."""
  from svlr_tf.data.prepared import PreparedData
  from svlr_tf.world.build import default_root, ensure_world
  overrides = world_overrides(preset, point)
  root = default_root(preset) + (f"-x{point.train_scale}" if overrides else "")
  return PreparedData(ensure_world(preset, root, pictures=False, **overrides))


def select_points(names) -> List[Point]:
  if not names:
    return list(POINTS)
  known = {p.name: p for p in POINTS}
  unknown = [n for n in names if n not in known]
  if unknown:
    common.fail(f"--points: unknown {unknown}; the points are {list(known)}")
  return [known[n] for n in names]


def point_claims(grid, data) -> List[Dict]:
  questions = paired.TestQuestions.from_data(data.data_dir)
  return paired.claim_differences(CLAIMS, paired.grid_accuracies(grid, questions),
                                  questions)


def summary_line(point: Point, differences: List[Dict]) -> str:
  """One Markdown row: each claim's sign and size with its interval."""
  cells = []
  for d in differences:
    if d["low"] is None:  # one seed: no interval, only the difference
      cells.append(f"{d['difference']:+.2f} [no interval: 1 seed]")
      continue
    sign = "+" if d["low"] > 0 else "-" if d["high"] < 0 else "0"
    cells.append(f"{sign} {d['difference']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]")
  width = ("preset" if not point.model else
           ", ".join(f"{k} {v}" for k, v in point.model.items()))
  return f"| {point.name} | x{point.train_scale} | {width} | " + " | ".join(cells) + " |"


def main(argv):
  del argv
  from svlr_tf.training.grid import run_grid
  if FLAGS.data_dir:
    common.fail("reproduce.sensitivity varies the embedded world; --data_dir is "
                "not supported")
  points = select_points(FLAGS.points)
  setup = common.start(SENSITIVITY)
  given = common.overrides()
  lines = ["| point | VQA train | model width | "
           + " | ".join(c.name for c in CLAIMS) + " |",
           "|---|---|---|" + "---:|" * len(CLAIMS)]
  out = {"claims": [c.name for c in CLAIMS], "points": {}}
  for point in points:
    data = setup.data if point.train_scale == 1 else point_data(FLAGS.preset, point)
    workdir = os.path.join(FLAGS.workdir, point.name)
    if point.name == "x1" and FLAGS.table1_workdir:
      workdir = FLAGS.table1_workdir
    overrides = dict(given)
    if point.model:
      overrides["model"] = dict(given.get("model", {}), **point.model)
    print(f"== point {point.name}: {data.data_dir}, model {point.model or 'preset'}",
          flush=True)
    grid = run_grid(ROWS, range(FLAGS.seeds), data=data, workdir=workdir,
                    preset=FLAGS.preset, overrides=overrides,
                    strategy=setup.strategy, retrain_stale=FLAGS.retrain_stale)
    differences = point_claims(grid, data)
    out["points"][point.name] = {
        "train_scale": point.train_scale, "model": point.model,
        "data_dir": data.data_dir, "workdir": workdir, "seeds": list(grid.seeds),
        "heldout": {row.label: [grid.by_run[(row.label, s)]["heldout_metric"]
                                for s in grid.seeds] for row in ROWS},
        "paired_differences": differences}
    lines.append(summary_line(point, differences))
  table = ("Sensitivity of the claims (row A - row B, test split, points; sign: "
           "+ / - when the 95% interval excludes 0, else 0; "
           f"{FLAGS.seeds} seed(s) per point):\n\n" + "\n".join(lines) + "\n")
  common.write_results("sensitivity", out, table, table)


if __name__ == "__main__":
  common.run(main, SENSITIVITY, define_flags)
