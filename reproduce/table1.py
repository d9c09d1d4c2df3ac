r"""Table 1: inductive transfer from visual recognition to VQA (Sec. 5.2).

    python -m reproduce.table1                      # embedded dataset, 3 seeds, CPU
    python -m reproduce.table1 --preset tiny --seeds 1   # smoke test, seconds
    python -m reproduce.table1 --data_dir DIR --preset paper   # real VQA v1 + Genome
    python -m reproduce.table1 --experiments vqa_only,joint_svlr --config.loss.alpha_obj=0.2

Each row is trained with the same budget and the same held-out model selection.
Rows: Language Only (VQA Only without the image: the language prior), VQA Only,
Joint Multitask, Joint SVLR, Zero-Shot VQA.
Columns: official VQA multiple-choice accuracy per question type (most frequent
first) and overall, on the test split (VQA val for real data), mean ± std over
seeds.  Below the table, each of the paper's claims (Joint Multitask and Joint
SVLR over VQA Only, SVLR over Multitask, "what color", zero-shot over chance,
VQA Only over Language Only) as
a paired difference with its 95% interval over seeds and test questions
(``svlr_tf.evaluation.paired``; the method is named under the table) and the
seeds each claim would need.  Writes ``table1.json`` (schema in docs/results.md)
and ``table1.md`` into --workdir (default runs/table1; runs/tiny/table1 for
--preset tiny: docs/results_registry.md).  Interrupt it at any time: running it
again resumes.
"""

from __future__ import annotations


from absl import flags

from reproduce import common
from reproduce.registry import TABLE1
from svlr_tf.evaluation import paired
from svlr_tf.tables import Table, over_seeds

FLAGS = flags.FLAGS
# The rows (Language Only, VQA Only, Joint Multitask, Joint SVLR, Zero-Shot VQA),
# the paper's numbers and claims: reproduce/registry.py (TABLE1).


def paired_section(grid, data, title: str):
  """The claims as paired differences: (JSON list, Markdown)."""
  questions = paired.TestQuestions.from_data(data.data_dir)
  differences = paired.claim_differences(
      TABLE1.claims, paired.grid_accuracies(grid, questions), questions)
  return differences, paired.markdown(differences, title)


def main(argv):
  del argv
  setup = common.start(TABLE1)
  grid = common.run_rows(TABLE1, setup)

  # Columns: the test split's question types, most frequent first, then Overall.
  labels = [r.label for r in grid.rows]
  main_row = "VQA Only" if "VQA Only" in labels else labels[0]  # its config is recorded
  config = grid.config(main_row)
  columns, counts = common.test_columns(setup, config)
  table = Table.from_grid(
      f"Table 1 on {setup.dataset}: official VQA multiple-choice accuracy (%), "
      f"test split, {over_seeds(grid.seeds)}.", grid, columns, common.test_accuracy)

  chance = [r["chance"] for r in grid.results(main_row).values()]
  chance = round(sum(chance) / len(chance), 2)
  paper = "; ".join(f"{row} {cells['Overall']}" + (f" (\"what color\" {cells['what color']})"
                                                    if "what color" in cells else "")
                    for row, cells in TABLE1.paper.items()
                    if row not in ("chance", "Language Only"))
  prior = TABLE1.paper["Language Only"]["Overall"]
  notes = (f"\nChance (uniformly random choice, official metric): {chance:.2f}\n\n"
           f"Paper (real VQA v1 val, Table 1), Overall: {paper}; chance "
           f"{TABLE1.paper['chance']} (1/18). Language prior cited in Sec. 5.2 "
           f"(a question-and-answer-only model, its ref. [49]): {prior}.\n"
           + common.stale_note(grid))
  differences, claims = paired_section(
      grid, setup.data,
      "The paper's claims as paired differences (row A - row B, points; the same "
      "test questions and seeds), with 95% intervals over seeds "
      f"{list(grid.seeds)} and test questions:")   # issue 22: method under the table
  notes += "\n" + claims
  results = dict(table.to_json(), chance=chance, dataset=setup.dataset,
                 config=config.to_dict(), question_type_counts=dict(counts), paper=TABLE1.paper,
                 paired_differences=differences,
                 pos_backend=setup.data.meta.get("pos_backend"))
  common.write_results("table1", results, table.markdown() + notes, table.text() + notes)


if __name__ == "__main__":
  common.run(main, TABLE1)
