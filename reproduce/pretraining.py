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
at once, naming the command that trains them); the pre-trained row and the controls
are trained there.  Results go to --workdir.

Controls of the pre-trained row's extra recognition budget, with S' = the
Genome-only runs' mean selected step (or --control_pretraining_steps):
  Joint SVLR, recognition warm-up   from scratch, S steps, the first S' at
                                    alpha_obj = alpha_atr = 1
                                    (``train.recognition_warmup_steps``)
  Joint SVLR, S + S' steps          from scratch, as many steps as the
                                    pre-trained row in all
  Pre-trained (matched total)       pre-trained, then S - S' joint steps: the
                                    same total steps as from scratch
and every difference as a paired difference with its interval
(``svlr_tf.evaluation.paired``).
"""

from __future__ import annotations

from absl import flags

from reproduce import common
from reproduce.registry import PRETRAINING
from svlr_tf.evaluation import paired
from svlr_tf.training.grid import Run
from svlr_tf.tables import Table, over_seeds

FLAGS = flags.FLAGS
# Its rows (Table 1's Genome-only and Joint SVLR runs, and pretrain_then_joint)
# and the paper's numbers: reproduce/registry.py (PRETRAINING).
GENOME_ONLY, SCRATCH_ROW, PRETRAINED_ROW = PRETRAINING.rows
JOINT_ROWS = (SCRATCH_ROW, PRETRAINED_ROW)

# The controls of the pre-trained row's extra recognition budget.
SCRATCH, PRE = (r.label for r in JOINT_ROWS)
WARMUP = "Joint SVLR, recognition warm-up"
LONGER = "Joint SVLR, S + S' steps"
MATCHED = "Pre-trained (matched total)"


def define_flags():
  flags.DEFINE_integer("control_pretraining_steps", None,
                       "S' of the controls; default: the Genome-only runs' mean "
                       "selected step (which changes with --seeds; pin it to reuse "
                       "the control runs across seed counts).", lower_bound=1)


def control_rows(steps: int, pretrain: int):
  """The controls for S = ``steps`` joint steps and S' = ``pretrain``."""
  rows = [Run(WARMUP, "joint_svlr", name=f"joint_svlr_warmup{pretrain}",
              overrides={"train": {"recognition_warmup_steps": pretrain}}),
          Run(LONGER, "joint_svlr", name=f"joint_svlr_steps{steps + pretrain}",
              overrides={"train": {"steps": steps + pretrain}})]
  if steps - pretrain >= 1:
    rows.append(Run(MATCHED, "pretrain_then_joint",
                    name=f"pretrain_then_joint_steps{steps - pretrain}",
                    overrides={"train": {"steps": steps - pretrain}}))
  return rows


CLAIMS = (
    paired.Claim(PRE, SCRATCH, paper=round(
        PRETRAINING.paper[PRE] - PRETRAINING.paper[SCRATCH], 1)),
    paired.Claim(WARMUP, SCRATCH),            # does extra recognition help from scratch?
    paired.Claim(PRE, WARMUP),                # pre-training vs the same budget from scratch
    paired.Claim(LONGER, SCRATCH),            # more steps alone
    paired.Claim(PRE, LONGER),                # pre-training vs the same total steps
    paired.Claim(MATCHED, SCRATCH),           # pre-training within the same total steps
)


def main(argv):
  del argv
  if FLAGS.experiments:
    common.fail("--experiments: the ablation compares all of its rows; run them all")
  setup = common.start(PRETRAINING)
  grid = common.run_rows(PRETRAINING, setup, last=False)  # the controls follow
  steps = grid.config(SCRATCH).train.steps
  pretrain = {s: r["best_step"] for s, r in grid.results(GENOME_ONLY.label).items()}
  mean_pretrain = FLAGS.control_pretraining_steps or max(
      1, int(round(sum(pretrain.values()) / len(pretrain))))
  controls = common.run_grid(control_rows(steps, mean_pretrain), setup,
                             workdir=FLAGS.runs, select=False, seeds=grid.seeds)
  columns, _ = common.test_columns(setup, grid.config(SCRATCH))
  per_seed = {}
  for g, labels in ((grid, [r.label for r in JOINT_ROWS]),
                    (controls, [r.label for r in controls.rows])):
    for label in labels:
      per_seed[label] = {str(seed): {c: v for c in columns
                                     if (v := common.test_accuracy(r, c)) is not None}
                         for seed, r in g.results(label).items()}
  table = Table(f"Pre-training ablation on {setup.dataset}: official VQA "
                f"multiple-choice accuracy (%), test split, {over_seeds(grid.seeds)}.",
                columns, per_seed)
  questions = paired.TestQuestions.from_data(setup.data.data_dir)
  accuracies = {**paired.grid_accuracies(grid, questions),
                **paired.grid_accuracies(controls, questions)}
  differences = paired.claim_differences(CLAIMS, accuracies, questions)
  out = dict(table.to_json(), dataset=setup.dataset, paper=PRETRAINING.paper,
             joint_steps=steps, pretraining_steps=pretrain,
             control_pretraining_steps=mean_pretrain, paired_differences=differences)
  scratch, pre = (table.cell(r.label, "Overall") for r in JOINT_ROWS)
  fmt = lambda m, s: f"{m:.2f}" if s is None else f"{m:.2f} ± {s:.2f}"
  out["claim"] = f"{fmt(*pre)} vs {fmt(*scratch)}"
  budget = (f"Budget: both joint rows train S = {steps} steps; the pre-trained row starts "
            f"from the Genome-only model selected (Genome val object accuracy) at step "
            + ", ".join(f"{v} (seed {s})" for s, v in pretrain.items()) + ". "
            f"Controls with S' = {mean_pretrain} (their mean): {WARMUP} (S steps, the "
            f"first S' at alpha_obj = alpha_atr = 1), {LONGER} ({steps + mean_pretrain}), "
            f"{MATCHED} (S' pre-training, then {steps - mean_pretrain} joint steps"
            + ("" if steps > mean_pretrain else ": not run, S' >= S") + ").")
  paper = (f"Paper (real VQA v1 val): pre-trained, then joint "
           f"{PRETRAINING.paper[PRE]} vs from scratch {PRETRAINING.paper[SCRATCH]}.")
  claims = paired.markdown(differences, "Paired differences (row A - row B, points; "
                           f"the same test questions and seeds {list(grid.seeds)}):")
  columns_shown = columns[:3] + ["Overall"] if len(columns) > 4 else columns
  markdown = "\n".join([table.markdown(), budget, "", claims, paper]) + "\n"
  text = "\n".join([table.markdown(columns_shown), budget, "", claims, paper]) + "\n"
  common.write_results("pretraining", out, markdown, text)


if __name__ == "__main__":
  common.run(main, PRETRAINING, define_flags)
