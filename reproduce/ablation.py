r"""Ablation beyond the paper: which use of the aligned words carries SVLR's gain.

    python -m reproduce.ablation                    # embedded dataset, 3 seeds, CPU
    python -m reproduce.ablation --preset tiny --seeds 1   # smoke test

Joint SVLR uses the recognition-aligned word embedding g twice in VQA: for the
attention of Eq. 3 (region-word inner products f(R)^T g(w)) and for the class
scores s(R) = f(R)^T g(y) that Eq. 5 pools. Each variant removes exactly one use:

  SVLR, VQA-only attention words   Eq. 3 from a second word embedding (same
                                   architecture as g) that only the VQA loss
                                   trains; Eq. 5 unchanged (g(y), shared).
  SVLR, VQA-only class vectors     Eq. 5 from per-class vectors that only the VQA
                                   loss trains; attention unchanged (g, shared).

They run beside Table 1's three joint rows with the same budget and the same
held-out selection. The three rows are Table 1's own runs (--runs):
finished runs are reused, missing ones are trained there (and Table 1 then
reuses them). Writes ``ablation.json`` / ``ablation.md`` into --workdir: the
rows' accuracy and every comparison as a paired difference (same test
questions, same seeds) with its 95% bootstrap interval over questions and seeds.
"""

from __future__ import annotations

from absl import flags

from reproduce import common
from svlr_tf.evaluation import paired
from svlr_tf.training.grid import Run
from svlr_tf.tables import Table, over_seeds

FLAGS = flags.FLAGS
common.define_common_flags("runs/ablation")
flags.DEFINE_string("runs", "runs/table1",
                    "Where Table 1's runs are (VQA Only, Joint Multitask, Joint SVLR "
                    "are reused from there, or trained there).")
flags.adopt_module_key_flags(common)  # list them in --help

VQA_ONLY, MULTITASK, SVLR = "VQA Only", "Joint Multitask", "Joint SVLR"
NO_ATTENTION = "SVLR, VQA-only attention words"
NO_CLASSES = "SVLR, VQA-only class vectors"

TABLE1_ROWS = (Run(VQA_ONLY, "vqa_only"), Run(MULTITASK, "joint_multitask"),
               Run(SVLR, "joint_svlr"))
VARIANT_ROWS = (Run(NO_ATTENTION, "joint_svlr_vqa_attention"),
                Run(NO_CLASSES, "joint_svlr_vqa_classes"))

# What each difference measures.
CLAIMS = (
    paired.Claim(SVLR, VQA_ONLY),          # the whole gain
    paired.Claim(NO_CLASSES, VQA_ONLY),    # gain with aligned attention only
    paired.Claim(NO_ATTENTION, VQA_ONLY),  # gain with aligned class scores only
    paired.Claim(SVLR, NO_ATTENTION),      # what aligned attention adds
    paired.Claim(SVLR, NO_CLASSES),        # what aligned class scores add
    paired.Claim(MULTITASK, VQA_ONLY),
    paired.Claim(NO_ATTENTION, MULTITASK), # both unaligned attention; g(y) vs h_y
    paired.Claim(SVLR, VQA_ONLY, question_type="what color is the"),
    paired.Claim(NO_CLASSES, VQA_ONLY, question_type="what color is the"),
    paired.Claim(NO_ATTENTION, VQA_ONLY, question_type="what color is the"),
)

COLUMNS = ("what color is the", "is the", "what kind of", "how many", "Overall")


def main(argv):
  del argv
  setup = common.start("Ablation: the two uses of the aligned words")
  rows = common.select_rows(TABLE1_ROWS + VARIANT_ROWS, FLAGS.experiments)
  # Table 1's rows from Table 1's workdir (same preset, steps and overrides, so
  # the same configs: its finished runs are reused), the variants from ours.
  parts = [(part, workdir) for part, workdir in (
      ([r for r in rows if r in TABLE1_ROWS], FLAGS.runs),
      ([r for r in rows if r in VARIANT_ROWS], FLAGS.workdir)) if part]
  grids = [common.run_grid(part, setup, workdir=workdir, select=False,
                           last=i == len(parts) - 1)
           for i, (part, workdir) in enumerate(parts)]
  questions = paired.TestQuestions.from_data(setup.data.data_dir)
  per_seed, accuracies = {}, {}
  for grid in grids:
    for row in grid.rows:
      per_seed[row.label] = {
          str(seed): {c: v for c in COLUMNS
                      if (v := common.test_accuracy(results, c)) is not None}
          for seed, results in grid.results(row.label).items()}
    accuracies.update(paired.grid_accuracies(grid, questions))
  seeds = list(grids[0].seeds)
  table = Table(f"Ablation on {setup.dataset}: official VQA multiple-choice "
                f"accuracy (%), test split, {over_seeds(seeds)}.", list(COLUMNS),
                per_seed)
  differences = paired.claim_differences(CLAIMS, accuracies, questions)
  notes = ("\n" + paired.markdown(
      differences, "Paired differences (row A - row B, points; the same test "
      f"questions and seeds), 95% bootstrap intervals over test questions and "
      f"seeds {seeds}:") + "\n" + READING
           + "".join(common.stale_note(grid) for grid in grids))
  config = grids[-1].config(grids[-1].rows[0].label)
  results = dict(table.to_json(), dataset=setup.dataset, config=config.to_dict(),
                 paired_differences=differences,
                 table1_runs=FLAGS.runs,
                 pos_backend=setup.data.meta.get("pos_backend"))
  common.write_results("ablation", results, table.markdown() + notes,
                       table.text() + notes)


READING = """How to read it: "SVLR, VQA-only class vectors" keeps the aligned attention
and loses the aligned class scores; "SVLR, VQA-only attention words" keeps the
aligned class scores and loses the aligned attention. Their differences to VQA Only
say how much of the gain each use carries alone; Joint SVLR minus each variant says
what the removed use adds on top of the other. Joint Multitask has neither (its
attention words and its h_y are not shared with recognition's g).
"""


if __name__ == "__main__":
  common.run(main)
