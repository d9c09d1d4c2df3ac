r"""VQA v1 test-dev (or test-standard) questions -> an unannotated prepared split.

    python -m tools.prepare_vqa_test --data_dir prepared \
        --questions raw/MultipleChoice_mscoco_test-dev2015_questions.json

For Table 3's submission (``python -m reproduce.table3``): writes
``vqa/test-dev.jsonl`` (``--split test-std`` for the full
``MultipleChoice_mscoco_test2015_questions.json``) and ``vqa/test-dev_questions.json``.
The records hold the question fields of docs/architecture.md (question bins, nouns,
adjectives, the 18 choices with their words) and no answers: the test annotations
are not public, the evaluation server scores the results file.

Order: run it before ``tools.prepare_vocab`` (the vocabulary covers these questions
too, and the model's frozen word-vector table is fixed once training starts). The
questions' images (COCO test2015) need region proposals and features in
``features/vqa`` like the train / val images: run ``tools.propose_regions`` on
``raw/test2015`` into its own boxes file and ``tools.extract_features`` with both
boxes files (docs/real_data.md, "Table 3").
"""

from __future__ import annotations

import os
from typing import Dict

from absl import flags, logging

from svlr_tf import text
from svlr_tf.data.prepared import UNANNOTATED_VQA_SPLITS, PreparedWriter
from svlr_tf.runtime.errors import DataError
from tools._common import Progress, read_json, run_main
from tools.prepare_vqa import TEXT_PROCESSING_FILE, question_record, read_questions

FLAGS = flags.FLAGS


def prepare_vqa_test(data_dir: str, questions_path: str, split: str = "test-dev",
                     overwrite: bool = False) -> int:
  """Writes vqa/<split>.jsonl (+ <split>_questions.json); returns its size."""
  if split not in UNANNOTATED_VQA_SPLITS:
    raise DataError(None, f"--split {split!r}: expected one of {UNANNOTATED_VQA_SPLITS}")
  out = os.path.join(data_dir, "vqa", f"{split}.jsonl")
  if os.path.exists(out) and not overwrite:
    logging.info("%s exists (use --overwrite to redo)", out)
    return -1
  questions = read_questions(questions_path)
  if not questions:
    raise DataError(questions_path, "no questions")
  # The test questions' nouns, adjectives and bins must come from the tagger that
  # made the training questions' (tools.prepare_vqa records it).
  recorded = os.path.join(data_dir, "vqa", TEXT_PROCESSING_FILE)
  backend = text.pos_backend()
  if os.path.exists(recorded):
    trained = read_json(recorded).get("pos_backend")
    if trained and trained != backend:
      raise DataError(recorded, f"the train / val questions were tagged with "
                      f"{trained!r} but this run uses {backend!r}: pass "
                      f"--pos_backend {trained}")
  progress = Progress(f"vqa {split}", total=len(questions), unit="questions")

  def records():
    for qid in sorted(questions):
      progress.update()
      yield question_record(qid, questions[qid])

  n = PreparedWriter(data_dir).write_vqa(split, records())
  progress.done()
  logging.info("vqa %s: %d questions", split, n)
  return n


def main(argv):
  del argv
  if not FLAGS.data_dir or not FLAGS.questions:
    raise DataError(None, "--data_dir and --questions are required")
  text.use_backend(FLAGS.pos_backend)
  prepare_vqa_test(FLAGS.data_dir, FLAGS.questions, FLAGS.split, FLAGS.overwrite)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_string("data_dir", None, "Prepared data directory to add the split to.")
  flags.DEFINE_string("questions", None,
                      "MultipleChoice_mscoco_test-dev2015_questions.json (or "
                      "MultipleChoice_mscoco_test2015_questions.json with "
                      "--split test-std).")
  flags.DEFINE_enum("split", "test-dev", list(UNANNOTATED_VQA_SPLITS),
                    "Name of the prepared split.")
  flags.DEFINE_boolean("overwrite", False, "Redo the split if its file exists.")
  flags.DEFINE_enum("pos_backend", text.taggers.DEFAULT_BACKEND, list(text.BACKENDS),
                    "Part-of-speech backend: the one tools.prepare_vqa used (checked).")


if __name__ == "__main__":
  define_flags()
  run_main(main)
