r"""Official VQA accuracy of a results file.

    python -m tools.evaluate_vqa \
        --questions MultipleChoice_mscoco_val2014_questions.json \
        --annotations mscoco_val2014_annotations.json \
        --results results.json [--out accuracy.json] [--allow_missing]

``results.json`` is ``[{"question_id": int, "answer": str}, ...]`` with one result
per question. Prints overall, per answer type and per question type accuracy (the
metric of :mod:`svlr_tf.evaluation.vqa_eval`, in percent) and, with ``--out``,
writes them as JSON (atomically). Bad input prints one line on stderr and exits 1.
"""

from __future__ import annotations

from typing import Dict, List

from absl import flags

from svlr_tf.evaluation import vqa_eval
from tools._common import atomic_write_json, run_main

FLAGS = flags.FLAGS
flags.DEFINE_string("questions", None, "Official VQA question JSON file.")
flags.DEFINE_string("annotations", None, "Official VQA annotation JSON file.")
flags.DEFINE_string("results", None,
                    'Results JSON: [{"question_id": int, "answer": str}, ...].')
flags.DEFINE_string("out", None, "Optional JSON file for the accuracies.")
flags.DEFINE_alias("output", "out")  # the name before the --out convention
flags.DEFINE_bool("allow_missing", False,
                  "Evaluate only the answered questions instead of failing.")


def format_report(report: Dict) -> str:
  """A readable table of an :func:`vqa_eval.evaluate` report."""
  lines: List[str] = [
      f"Overall accuracy: {report['overall']:.2f}  "
      f"({report['num_questions']} questions"
      + (f", {report['num_missing']} without result skipped"
         if report.get("num_missing") else "") + ")", ""]
  for title, key in (("Answer type", "answer_type"),
                     ("Question type", "question_type")):
    accuracies = report[f"per_{key}"]
    counts = report[f"num_per_{key}"]
    width = max([len(title)] + [len(name) for name in accuracies])
    lines.append(f"{title:<{width}}  {'Accuracy':>8}  {'Questions':>9}")
    lines.append(f"{'-' * width}  {'-' * 8}  {'-' * 9}")
    for name in sorted(accuracies):
      lines.append(f"{name:<{width}}  {accuracies[name]:>8.2f}  {counts[name]:>9d}")
    lines.append("")
  return "\n".join(lines).rstrip() + "\n"


def main(argv):
  del argv
  report = vqa_eval.evaluate_files(FLAGS.questions, FLAGS.annotations,
                                   FLAGS.results,
                                   allow_missing=FLAGS.allow_missing)
  print(format_report(report), end="")
  if FLAGS.out:
    atomic_write_json(FLAGS.out, report, indent=2)
    print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
  flags.mark_flags_as_required(["questions", "annotations", "results"])
  run_main(main)
