"""Results files for the VQA v1 evaluation server (Table 3's test-dev / test-std).

The server takes ``[{"question_id": int, "answer": str}, ...]`` with one result per
question of the test subset, in a file named after the VQA convention
``vqa_<task>_<data type><data subtype>_<algorithm>_results.json``, for example
``vqa_MultipleChoice_mscoco_test-dev2015_svlr_results.json``, uploaded zipped.
:func:`write_submission` checks a results list against the official question file
(every question answered once, with one of its 18 choices, no other ids) and only
then writes the JSON and its zip, atomically.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from typing import Any, Dict, List, Sequence

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_path, atomic_write_json, read_json

TASK = "MultipleChoice"
DATA_TYPE = "mscoco"
# Prepared split -> the official data subtype of its questions file.
DATA_SUBTYPES = {"test-dev": "test-dev2015", "test-std": "test2015"}
_ALGORITHM = re.compile(r"^[A-Za-z0-9\-]+$")


def results_file_name(split: str, algorithm: str) -> str:
  """``vqa_MultipleChoice_mscoco_<subtype>_<algorithm>_results.json``."""
  if split not in DATA_SUBTYPES:
    raise ValueError(f"Unknown test split {split!r}; expected one of "
                     f"{sorted(DATA_SUBTYPES)}.")
  if not _ALGORITHM.match(algorithm):
    # The server splits the name on "_": the algorithm name must not contain one.
    raise ValueError(f"Algorithm name {algorithm!r}: letters, digits and '-' only.")
  return f"vqa_{TASK}_{DATA_TYPE}_{DATA_SUBTYPES[split]}_{algorithm}_results.json"


def question_choices(questions: Any, source: str) -> Dict[int, List[str]]:
  """Official multiple-choice question file (parsed) -> {question_id: choices}."""
  if not isinstance(questions, dict) or not isinstance(questions.get("questions"), list):
    raise DataError(source, "expected a JSON object with a 'questions' list")
  out = {}
  for i, q in enumerate(questions["questions"]):
    if (not isinstance(q, dict) or not isinstance(q.get("question_id"), int)
        or not isinstance(q.get("multiple_choices"), list)):
      raise DataError(source, f"questions[{i}]: needs an integer 'question_id' and "
                      "a 'multiple_choices' list")
    out[q["question_id"]] = q["multiple_choices"]
  return out


def check_results(results: Any, choices: Dict[int, Sequence[str]], source: str) -> None:
  """DataError (naming ``source``) unless ``results`` answers every question of
  ``choices`` exactly once with one of its choices, and nothing else."""
  if not isinstance(results, list):
    raise DataError(source, "results should be a JSON list")
  seen = set()
  for i, r in enumerate(results):
    if (not isinstance(r, dict) or set(r) != {"question_id", "answer"}
        or not isinstance(r["question_id"], int) or isinstance(r["question_id"], bool)
        or not isinstance(r["answer"], str)):
      raise DataError(source, f"results[{i}]: expected {{\"question_id\": int, "
                      f"\"answer\": str}}, got {r!r:.80}")
    qid = r["question_id"]
    if qid not in choices:
      raise DataError(source, f"results[{i}]: question {qid} is not in the "
                      "question file")
    if qid in seen:
      raise DataError(source, f"results[{i}]: question {qid} answered twice")
    if r["answer"] not in choices[qid]:
      raise DataError(source, f"results[{i}]: answer {r['answer']!r} is not one of "
                      f"question {qid}'s choices")
    seen.add(qid)
  if len(seen) != len(choices):
    missing = sorted(set(choices) - seen)
    raise DataError(source, f"{len(missing)} questions have no result (e.g. "
                    f"{missing[0]})")


def write_submission(out_dir: str, split: str, algorithm: str,
                     results: List[dict], questions_path: str) -> str:
  """Checks ``results`` against ``questions_path``, writes the JSON and its zip.

  Returns the path of the JSON file; the zip beside it (``<name>.zip``) holds it,
  for the upload.
  """
  choices = question_choices(read_json(questions_path), questions_path)
  name = results_file_name(split, algorithm)
  path = os.path.join(out_dir, name)
  check_results(json.loads(json.dumps(results)), choices, path)
  atomic_write_json(path, results)
  with atomic_path(path[:-len(".json")] + ".zip") as tmp:
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
      z.write(path, arcname=name)
  return path
