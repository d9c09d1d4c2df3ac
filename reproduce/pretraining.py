r"""Pre-training on Genome before joint training (Sec. 5.2).

    python -m reproduce.pretraining                 # embedded dataset, 3 seeds
    python -m reproduce.pretraining --data_dir DIR --preset paper

The paper: "pre-training the visual classifiers on Genome prior to joint training
performs worse than the model trained jointly from scratch" (its numbers:
reproduce/registry.py, PRETRAINING).
Rows, per seed, with the same held-out selection:
  Genome only                  the Genome-only model (Table 1's Zero-Shot row),
                               trained for the preset's S steps and selected on
                               Genome val object accuracy
  Joint SVLR (from scratch)    Table 1's Joint SVLR: S steps from Xavier init
  Pre-trained, then Joint SVLR ``pretrain_then_joint``: Joint SVLR for the same S
                               steps (same schedule, same data stream), starting
                               from the Genome-only model's selected weights
So both joint rows get the same joint-training budget; the pre-trained row has in
addition the Genome-only steps up to its selected checkpoint (both counts are
printed).  The runs live in --runs (default Table 1's work directory): its
Genome-only and Joint SVLR runs are read, never trained here (without them it stops
at once, naming the command that trains them); the pre-trained row is trained
there.  Results go to --workdir.
"""

from __future__ import annotations


from absl import flags

from reproduce import common
from reproduce.registry import PRETRAINING
from svlr_tf.tables import Table, over_seeds

FLAGS = flags.FLAGS
# Its rows (Table 1's Genome-only and Joint SVLR runs, and pretrain_then_joint)
# and the paper's numbers: reproduce/registry.py (PRETRAINING).
GENOME_ONLY, SCRATCH, PRETRAINED = PRETRAINING.rows
JOINT_ROWS = (SCRATCH, PRETRAINED)


def main(argv):
  del argv
  if FLAGS.experiments:
    common.fail("--experiments: the ablation compares all of its rows; run them all")
  setup = common.start(PRETRAINING)
  grid = common.run_rows(PRETRAINING, setup)
  columns, _ = common.test_columns(setup, grid.config(SCRATCH.label))
  table = Table.from_grid(
      f"Pre-training ablation on {setup.dataset}: official VQA multiple-choice "
      f"accuracy (%), test split, {over_seeds(grid.seeds)}.", grid, columns,
      common.test_accuracy,
      labels=[r.label for r in JOINT_ROWS])
  steps = grid.config(SCRATCH.label).train.steps
  pretrain = {s: r["best_step"] for s, r in grid.results(GENOME_ONLY.label).items()}
  out = dict(table.to_json(), dataset=setup.dataset, paper=PRETRAINING.paper,
             joint_steps=steps, pretraining_steps=pretrain)
  scratch, pre = (table.cell(r.label, "Overall") for r in JOINT_ROWS)
  fmt = lambda m, s: f"{m:.2f}" if s is None else f"{m:.2f} ± {s:.2f}"
  out["claim"] = f"{fmt(*pre)} vs {fmt(*scratch)}"
  budget = (f"Budget: both joint rows train {steps} steps; the pre-trained row starts "
            f"from the Genome-only model selected (Genome val object accuracy) at step "
            + ", ".join(f"{v} (seed {s})" for s, v in pretrain.items()) + ".")
  paper = (f"Paper (real VQA v1 val): pre-trained, then joint "
           f"{PRETRAINING.paper[PRETRAINED.label]} vs from scratch "
           f"{PRETRAINING.paper[SCRATCH.label]}.")
  columns_shown = columns[:3] + ["Overall"] if len(columns) > 4 else columns
  markdown = "\n".join([table.markdown(), budget, "", paper]) + "\n"
  text = "\n".join([table.markdown(columns_shown), budget, "", paper]) + "\n"
  common.write_results("pretraining", out, markdown, text)


if __name__ == "__main__":
  common.run(main, PRETRAINING)
