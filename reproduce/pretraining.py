r"""Pre-training on Genome before joint training (Sec. 5.2).

    python -m reproduce.pretraining                 # embedded dataset, 3 seeds
    python -m reproduce.pretraining --data_dir DIR --preset paper

The paper: "pre-training the visual classifiers on Genome prior to joint training
performs worse than the model trained jointly from scratch: 63.7% versus 65.3%".
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
printed).  The runs live in --runs (default Table 1's work directory, whose
Genome-only and Joint SVLR runs are reused); results go to --workdir.
"""

from __future__ import annotations


from absl import flags

from reproduce import common
from svlr_tf.training.grid import Run
from svlr_tf.tables import Table, over_seeds

FLAGS = flags.FLAGS
common.define_common_flags("runs/pretraining")
flags.DEFINE_string("runs", "runs/table1",
                    "Where the runs live (shared with reproduce.table1).")
flags.adopt_module_key_flags(common)  # list them in --help

ROWS = (
    Run("Genome only", "genome_only", zero_shot=True),  # = Table 1's Zero-Shot row
    Run("Joint SVLR (from scratch)", "joint_svlr"),
    Run("Pre-trained, then Joint SVLR", "pretrain_then_joint"),
)
JOINT_ROWS = ROWS[1:]
PAPER = {"Joint SVLR (from scratch)": 65.3, "Pre-trained, then Joint SVLR": 63.7}


def main(argv):
  del argv
  if FLAGS.experiments:
    common.fail("--experiments: the ablation compares all of its rows; run them all")
  setup = common.start("Pre-training ablation")
  grid = common.run_grid(ROWS, setup, workdir=FLAGS.runs, select=False)
  columns, _ = common.test_columns(setup, grid.config(ROWS[1].label))
  table = Table.from_grid(
      f"Pre-training ablation on {setup.dataset}: official VQA multiple-choice "
      f"accuracy (%), test split, {over_seeds(grid.seeds)}.", grid, columns,
      common.test_accuracy,
      labels=[r.label for r in JOINT_ROWS])
  steps = grid.config(ROWS[1].label).train.steps
  pretrain = {s: r["best_step"] for s, r in grid.results(ROWS[0].label).items()}
  out = dict(table.to_json(), dataset=setup.dataset, paper=PAPER,
             joint_steps=steps, pretraining_steps=pretrain)
  scratch, pre = (table.cell(r.label, "Overall") for r in JOINT_ROWS)
  fmt = lambda m, s: f"{m:.2f}" if s is None else f"{m:.2f} ± {s:.2f}"
  out["claim"] = f"{fmt(*pre)} vs {fmt(*scratch)}"
  budget = (f"Budget: both joint rows train {steps} steps; the pre-trained row starts "
            f"from the Genome-only model selected (Genome val object accuracy) at step "
            + ", ".join(f"{v} (seed {s})" for s, v in pretrain.items()) + ".")
  paper = ("Paper (real VQA v1 val): pre-trained, then joint 63.7 vs from scratch "
           "65.3.")
  columns_shown = columns[:3] + ["Overall"] if len(columns) > 4 else columns
  markdown = "\n".join([table.markdown(), budget, "", paper]) + "\n"
  text = "\n".join([table.markdown(columns_shown), budget, "", paper]) + "\n"
  common.write_results("pretraining", out, markdown, text)


if __name__ == "__main__":
  common.run(main)
