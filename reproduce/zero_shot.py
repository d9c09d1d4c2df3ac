r"""Zero-shot VQA (Sec. 3.4, Sec. 5.2): recognition training only, VQA by Eq. 9.

    python -m reproduce.zero_shot                    # embedded dataset, 3 seeds
    python -m reproduce.zero_shot --data_dir DIR --preset paper

The SVLR module is trained on Genome object and attribute labels only (the
``genome_only`` experiment: alpha_ans = 0); no question or answer is seen.  Each of
the 18 choices of a test question is scored by Eq. 9 and the best one is the
prediction.  Prints official accuracy per question type next to chance (a uniformly
random choice scored with the official metric; 1/18 = 5.56% when exactly one choice
matches the humans) and writes ``zero_shot.json`` and ``zero_shot.md`` into --workdir.
"""

from __future__ import annotations

import numpy as np
from absl import flags

from reproduce import common
from svlr_tf.evaluation.multiple_choice import VQAScorer
from svlr_tf.training.grid import Run
from svlr_tf.tables import Table, over_seeds

FLAGS = flags.FLAGS
common.define_common_flags("runs/zero_shot")
flags.adopt_module_key_flags(common)  # list them in --help

ROWS = (Run("Zero-Shot VQA", "genome_only", zero_shot=True),)
PAPER = {"Overall": 16.4, "chance": 5.6}  # real VQA v1 val


def main(argv):
  del argv
  setup = common.start("Zero-shot VQA")
  grid = common.run_grid(ROWS, setup)

  # Chance per question type: the mean official accuracy of a split's choices.
  config = grid.config("Zero-Shot VQA")
  d = config.data
  test = setup.data.load_vqa("test", d.max_question_words, d.max_answer_words,
                             d.num_choices)
  scorer = VQAScorer(test)
  types = np.asarray(test.question_type_names)[test.question_type]
  chance = {t: round(100.0 * float(scorer.choice_accuracy[types == t].mean()), 2)
            for t in sorted(set(types.tolist()))}
  chance["Overall"] = scorer.chance()
  columns = sorted(chance, key=lambda t: (t == "Overall", -(types == t).sum()))

  table = Table.from_grid(
      f"Zero-shot VQA on {setup.dataset}: official accuracy (%), test split, "
      f"{over_seeds(grid.seeds)}.", grid, columns,
      lambda r, col: (r["zero_shot_test"]["overall"] if col == "Overall"
                      else r["zero_shot_test"]["per_question_type"].get(col)))
  table.per_seed["Chance"] = {str(grid.seeds[0]): chance}
  cells = table.to_json()
  notes = (f"\nPaper (real VQA v1 val): {PAPER['Overall']} overall, chance "
           f"{PAPER['chance']}.\n" + common.stale_note(grid))
  runs = grid.results("Zero-Shot VQA").values()
  results = {
      "columns": columns, "zero_shot": cells["rows"]["Zero-Shot VQA"],
      "std": cells["std"]["Zero-Shot VQA"], "chance": chance,
      "per_seed": cells["per_seed"]["Zero-Shot VQA"], "seeds": grid.seeds,
      "recognition_test": [{k: v for k, v in r["recognition_test"].items()
                            if k != "object_accuracy_per_class"} for r in runs],
      "dataset": setup.dataset, "config": config.to_dict(), "paper": PAPER}
  common.write_results("zero_shot", results, table.markdown() + notes,
                       table.text() + notes)


if __name__ == "__main__":
  common.run(main)
