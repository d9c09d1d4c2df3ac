r"""Table 3: the real-data test-dev submission (Sec. 5, "External comparisons").

    python -m reproduce.table3 --data_dir DIR --preset paper

The paper's own row of Table 3: SVLR with ResNet-152 features, trained on VQA train
(here train-subset, selected on train-held-out, as every row of Table 1), reported on
VQA val (66.2) and by the evaluation server on test-dev (64.8) and test-std (64.8).
This module trains (or reuses) Joint SVLR in --workdir, prints its VQA val accuracy
beside the paper's Table 3, and writes the test-dev predictions of the run with the
best held-out accuracy in the official results format under the name the server
expects, ``vqa_MultipleChoice_mscoco_test-dev2015_<--algorithm>_results.json`` (and
a .zip of it for the upload), after checking that every test-dev question is
answered once with one of its 18 choices.  Test-dev cannot be scored here.

The data directory needs the test-dev questions (``tools.prepare_vqa_test``, before
``tools.prepare_vocab``) and features of their COCO test2015 images, ResNet-152 for
the paper's setting (docs/real_data.md, "Table 3"); both are checked before training.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from reproduce import common
from svlr_tf.runtime.errors import DataError
from svlr_tf.evaluation import vqa_results
from svlr_tf.training.grid import Run
from svlr_tf.tables import mean_std

FLAGS = flags.FLAGS
common.define_common_flags("runs/table3")
flags.DEFINE_string("algorithm", "svlr", "Algorithm name in the results file name "
                    "(letters, digits, '-').")
flags.DEFINE_enum("test_split", "test-dev", list(vqa_results.DATA_SUBTYPES),
                  "The unannotated split to write results for.")
flags.adopt_module_key_flags(common)  # list them in --help
FLAGS.set_default("seeds", 1)

ROW = Run("SVLR (ours, trained on train)", "joint_svlr")

# The paper's Table 3 (real VQA v1; accuracy %).
PAPER = {
    "WTL": {"val": 58.9, "test-dev": 62.4, "test-std": 63.5, "trained on": "train+val"},
    "FDA": {"val": None, "test-dev": 64.0, "test-std": 64.2, "trained on": "-"},
    "MLP": {"val": 63.6, "test-dev": 65.9, "test-std": None, "trained on": "train"},
    "MCB": {"val": None, "test-dev": 69.9, "test-std": None, "trained on": "train+val"},
    "HiCo": {"val": None, "test-dev": 65.8, "test-std": 66.1, "trained on": "train+val"},
    "SVLR (paper)": {"val": 66.2, "test-dev": 64.8, "test-std": 64.8,
                     "trained on": "train"},
}


def check_test_split(data, cfg_data, split: str):
  """The unannotated split and its images in the VQA store, before training."""
  questions = data.path("vqa", f"{split}_questions.json")
  if not os.path.exists(data.path("vqa", f"{split}.jsonl")) or not os.path.exists(questions):
    raise DataError(data.path("vqa", f"{split}.jsonl"),
                    f"missing: run python -m tools.prepare_vqa_test --split {split} "
                    "before tools.prepare_vocab (docs/real_data.md, \"Table 3\")")
  test = data.load_vqa(split, cfg_data.max_question_words, cfg_data.max_answer_words,
                       cfg_data.num_choices)
  present = data.feature_store("vqa").has_images(test.image_ids)
  if not np.all(present):
    raise DataError(data.path("vqa", f"{split}.jsonl"),
                    f"{int((~present).sum())} questions refer to images without "
                    f"features in features/vqa (e.g. image "
                    f"{int(test.image_ids[~present][0])}): extract the COCO test2015 "
                    "features first")
  return test, questions


def predictions(trainer, data, split, test):
  """Official results of the trainer's restored model on ``split``: [{"question_id",
  "answer"}], the best-scoring choice (Eq. 7) of each question."""
  from svlr_tf.evaluation.multiple_choice import best_choice, chosen_answers
  scores, _ = trainer.task.vqa_split_scores(
      trainer.task.eval_functions(trainer.model)["vqa"], data, trainer.stores["vqa"],
      split)
  return chosen_answers(test, best_choice(scores))


def main(argv):
  del argv
  vqa_results.results_file_name(FLAGS.test_split, FLAGS.algorithm)  # a bad name fails now
  setup = common.start("Table 3")
  data = setup.data
  from svlr_tf.training.grid import restore_run
  from svlr_tf.presets import preset_config
  test, questions = check_test_split(data, preset_config(FLAGS.preset).data,
                                     FLAGS.test_split)
  if data.meta.get("simulated"):
    print("Note: simulated data; Table 3 is about the real VQA v1 test-dev.", flush=True)
  print(f"{FLAGS.test_split}: {len(test)} questions; the paper's Table 3 uses "
        "ResNet-152 features (tools.extract_features --backbone resnet152).", flush=True)
  grid = common.run_grid([ROW], setup)
  runs = grid.results(ROW.label)
  best_seed = max(runs, key=lambda s: runs[s]["heldout_metric"])
  trainer = restore_run(grid.run_dir(ROW.label, best_seed), data,
                        log=lambda line: print(line, flush=True))
  path = vqa_results.write_submission(
      FLAGS.workdir, FLAGS.test_split, FLAGS.algorithm,
      predictions(trainer, data, FLAGS.test_split, test), questions)

  val = {"Overall": mean_std([r["vqa_test"]["overall"] for r in runs.values()])}
  for kind in sorted(runs[best_seed]["vqa_test"]["per_answer_type"]):
    val[kind] = mean_std([r["vqa_test"]["per_answer_type"][kind] for r in runs.values()])
  out = {"dataset": setup.dataset, "seeds": list(grid.seeds), "val": val,
         "submitted_seed": best_seed, "results_file": path,
         "zip_file": path[:-len(".json")] + ".zip", "test_split": FLAGS.test_split,
         "test_questions": len(test), "paper": PAPER}
  common.write_results("table3", out, render(out))


def render(out) -> str:
  m, s = out["val"]["Overall"]
  ours = f"{m:.2f}" if s is None else f"{m:.2f} ± {s:.2f}"
  lines = [f"Table 3 on {out['dataset']}: VQA multiple-choice accuracy (%).", "",
           "| | val | test-dev | test-std | trained on |", "|---|---:|---:|---:|---|"]
  cell = lambda v: "-" if v is None else f"{v:.1f}"
  for name, row in out["paper"].items():
    lines.append(f"| {name} | {cell(row['val'])} | {cell(row['test-dev'])} | "
                 f"{cell(row['test-std'])} | {row['trained on']} |")
  lines.append(f"| **this run** (seeds {out['seeds']}) | {ours} | submit | submit | "
               "train |")
  lines += ["", f"Val by answer type: " + ", ".join(
      f"{k} {v[0]:.2f}" for k, v in out["val"].items() if k != "Overall") + ".",
            f"{out['test_split']} predictions ({out['test_questions']} questions, seed "
            f"{out['submitted_seed']}, the best on train-held-out): "
            f"`{out['results_file']}`; upload `{out['zip_file']}` to the VQA evaluation "
            "server (Multiple-Choice, Real images)."]
  return "\n".join(lines) + "\n"


if __name__ == "__main__":
  common.run(main)
