r"""VQA v1 (multiple choice) -> the prepared format's VQA splits (Sec. 5.1).

    python -m tools.prepare_vqa --vqa_dir raw --data_dir prepared \
        [--word_vectors raw/GoogleNews-vectors-negative300.bin.gz]

Reads ``MultipleChoice_mscoco_{train,val}2014_questions.json`` and
``mscoco_{train,val}2014_annotations.json`` from ``--vqa_dir`` (or the per-file
flags) and writes ``vqa/{train,heldout,test}.jsonl`` plus the official
question / annotation files of each split (``PreparedWriter.write_vqa``):

- ``train`` / ``heldout``: the paper's train-subset / train-held-out split of VQA
  train (236,277 / 12,072 questions). Rule: train images are ordered by
  ``md5(str(image_id))`` and the first ``round(--heldout_fraction x images)``
  are held out (default fraction 12,072 / 248,349; VQA v1 has exactly 3
  questions per image, so the full train set gives 4,024 held-out images =
  12,072 questions and 236,277 train-subset questions). Every question of an
  image goes to the same split.
- ``test``: VQA val (121,512 questions), Table 1's test set.

Each record carries the question's 4 bins and lemmatized nouns / adjectives,
the 18 choices with their tokens / nouns / adjectives (``svlr_tf.text``), the
answer and its index among the choices, the 10 human answers, question_type and
answer_type. A question whose answer is not among its choices is skipped and
counted; a repeated question id keeps the first. A question without an
annotation is an error (the annotation file must annotate every question; the
error says when the two files' ids follow different VQA versions, e.g. v1
questions with v2 annotations), and so is a split that would be empty; nothing
is written then. Splits whose files exist are kept unless ``--overwrite``.

Vocabulary: vocab.json / word_vectors.npy must also cover the Genome class
names, so they are built by ``tools.prepare_vocab`` after both this tool and
``tools.prepare_genome``; ``--word_vectors`` runs that step at the end when
classes.json is already there.
"""

from __future__ import annotations

import hashlib
import os
import sys
from typing import Any, Dict, Iterator, NamedTuple, Optional, Sequence, Tuple

from absl import flags, logging

from svlr_tf import text
from svlr_tf.data.prepared import NUM_HUMAN_ANSWERS, PreparedWriter
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_write_json
from svlr_tf.runtime.json_stream import iter_json_array
from tools._common import Progress, run_main

FLAGS = flags.FLAGS
PAPER_HELDOUT = 12072
PAPER_TRAIN_QUESTIONS = 248349
DEFAULT_HELDOUT_FRACTION = PAPER_HELDOUT / PAPER_TRAIN_QUESTIONS
NUM_CHOICES = 18
TEXT_PROCESSING_FILE = "text_processing.json"
FILE_NAMES = {
    "train_questions": "MultipleChoice_mscoco_train2014_questions.json",
    "train_annotations": "mscoco_train2014_annotations.json",
    "val_questions": "MultipleChoice_mscoco_val2014_questions.json",
    "val_annotations": "mscoco_val2014_annotations.json",
}


def _field(path: str, where: str, entry: Dict[str, Any], key: str, kind):
  value = entry.get(key)
  if value is None:
    raise DataError(path, f"{where}: missing field {key!r}")
  if kind is int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
      raise DataError(path, f"{where}: field {key!r} should be an integer")
    return int(value)
  if not isinstance(value, kind):
    raise DataError(path, f"{where}: field {key!r} should be a {kind.__name__}")
  return value


class Question(NamedTuple):
  """What a prepared record uses of a question (choices' strings interned)."""
  image_id: int
  question: str
  choices: Tuple[str, ...]


class Annotation(NamedTuple):
  """What a prepared record uses of an annotation (image_id None when absent)."""
  image_id: Optional[int]
  question_type: str
  answer_type: str
  answer: str
  answers: Tuple[str, ...]


def read_questions(path: str) -> Dict[int, Question]:
  """Multiple-choice question file -> {question_id: Question}.

  The file is read one question at a time (svlr_tf.runtime.json_stream) and
  kept as compact tuples: the full VQA v1 files are ~1 GB of JSON.
  """
  out = {}
  duplicates = 0
  for i, q in iter_json_array(path, "questions"):
    where = f"questions[{i}]"
    if not isinstance(q, dict):
      raise DataError(path, f"{where} is not a JSON object")
    qid = _field(path, where, q, "question_id", int)
    choices = _field(path, where, q, "multiple_choices", list)
    if len(choices) != NUM_CHOICES or not all(isinstance(c, str) for c in choices):
      raise DataError(path, f"{where}: 'multiple_choices' should be {NUM_CHOICES} "
                      f"strings, got {len(choices)} items")
    if qid in out:
      duplicates += 1
      continue
    out[qid] = Question(_field(path, where, q, "image_id", int),
                        _field(path, where, q, "question", str),
                        tuple(sys.intern(c) for c in choices))
  if duplicates:
    logging.info("%s: %d repeated question ids (first kept)", path, duplicates)
  return out


def read_annotations(path: str) -> Dict[int, Annotation]:
  """Annotation file -> {question_id: Annotation}, read one annotation at a time."""
  out = {}
  for i, a in iter_json_array(path, "annotations"):
    where = f"annotations[{i}]"
    if not isinstance(a, dict):
      raise DataError(path, f"{where} is not a JSON object")
    qid = _field(path, where, a, "question_id", int)
    answers = _field(path, where, a, "answers", list)
    human = []
    for answer in answers:
      value = answer.get("answer") if isinstance(answer, dict) else answer
      if not isinstance(value, str):
        raise DataError(path, f"{where}: an answer has no 'answer' string")
      human.append(sys.intern(value))
    if len(human) != NUM_HUMAN_ANSWERS:
      raise DataError(path, f"{where}: {len(human)} human answers, expected "
                      f"{NUM_HUMAN_ANSWERS}")
    if qid not in out:
      out[qid] = Annotation(
          a.get("image_id") if isinstance(a.get("image_id"), int) else None,
          sys.intern(_field(path, where, a, "question_type", str)),
          sys.intern(_field(path, where, a, "answer_type", str)),
          sys.intern(_field(path, where, a, "multiple_choice_answer", str)),
          tuple(human))
  return out


def heldout_images(image_ids: Sequence[int],
                   fraction: float = DEFAULT_HELDOUT_FRACTION) -> set:
  """The train-held-out images: the first round(fraction x n) by md5(str(id))."""
  ordered = sorted(set(image_ids),
                   key=lambda i: (hashlib.md5(str(i).encode()).hexdigest(), i))
  n = int(round(fraction * len(ordered)))
  if fraction > 0 and n == 0 and len(ordered) > 1:
    n = 1
  return set(ordered[:n])


def question_record(qid: int, question: Question) -> Dict[str, Any]:
  """The question fields of a prepared VQA record (what test-dev records hold)."""
  choices = list(question.choices)
  return {
      "question_id": qid, "image_id": question.image_id,
      "question": question.question, "choices": choices,
      **text.question_text_fields(question.question, choices)}


def make_record(qid: int, question: Question,
                annotation: Annotation) -> Dict[str, Any]:
  """One prepared VQA record (docs/architecture.md) from a question + annotation."""
  record = question_record(qid, question)
  record.update(
      question_type=annotation.question_type,
      answer_type=annotation.answer_type, answer=annotation.answer,
      label=question.choices.index(annotation.answer),
      answers=list(annotation.answers))
  return record


def _id_scheme(pairs) -> Optional[str]:
  """Which VQA version's question ids these (question_id, image_id) pairs follow.

  VQA v1: question_id = image_id * 10 + k (k < 10); VQA v2: image_id * 1000 + k.
  None when the ids follow neither (or both, e.g. empty).
  """
  pairs = list(pairs)
  if not pairs:
    return None
  v1 = all(0 <= q - 10 * i < 10 for q, i in pairs)
  v2 = all(0 <= q - 1000 * i < 1000 for q, i in pairs)
  return "VQA v1" if v1 and not v2 else "VQA v2" if v2 and not v1 else None


def check_annotations(questions_path: str, annotations_path: str,
                      questions: Dict[int, Question],
                      annotations: Dict[int, Annotation]) -> None:
  """DataError unless the annotation file annotates every question.

  Names the count, a first missing id, and the likely cause when the two files'
  question ids follow different VQA versions (v1 questions with v2 annotations).
  """
  if not questions:
    raise DataError(questions_path, "no questions")
  missing = [q for q in questions if q not in annotations]
  if not missing:
    return
  problem = (f"{len(missing)} of {len(questions)} questions of {questions_path} have "
             f"no annotation here (first: question_id {min(missing)})")
  q_scheme = _id_scheme((q, v.image_id) for q, v in questions.items())
  a_scheme = _id_scheme((q, v.image_id) for q, v in annotations.items()
                        if v.image_id is not None)
  if q_scheme and a_scheme and q_scheme != a_scheme:
    problem += (f"; the questions' ids look like {q_scheme} and the annotations' like "
                f"{a_scheme}: use the annotation file of the same VQA version")
  raise DataError(annotations_path, problem)


def prepare_vqa(data_dir: str, train_questions: str, train_annotations: str,
                val_questions: str, val_annotations: str,
                heldout_fraction: float = DEFAULT_HELDOUT_FRACTION,
                overwrite: bool = False) -> Dict[str, int]:
  """Writes vqa/{train,heldout,test}.jsonl (+ official files); returns sizes."""
  sources = {"train": (train_questions, train_annotations),
             "test": (val_questions, val_annotations)}
  loaded = {}
  questions_path_of = {k: v[0] for k, v in sources.items()}
  for source, (questions_path, annotations_path) in sources.items():
    splits = ("train", "heldout") if source == "train" else ("test",)
    outputs = [os.path.join(data_dir, "vqa", f"{s}.jsonl") for s in splits]
    if not overwrite and all(os.path.exists(p) for p in outputs):
      logging.info("%s exist (use --overwrite to redo)", ", ".join(outputs))
      continue
    # Read (and validate) every input before writing anything.
    questions = read_questions(questions_path)
    annotations = read_annotations(annotations_path)
    check_annotations(questions_path, annotations_path, questions, annotations)
    loaded[source] = (questions, annotations)
  plan = []  # (split, questions, annotations, qids): every split checked first
  for source, (questions, annotations) in loaded.items():
    answerable = [i for i in sorted(questions)
                  if annotations[i].answer in questions[i].choices]
    if len(answerable) < len(questions):
      logging.info("vqa %s: %d questions whose answer is not among their choices "
                   "(skipped)", source, len(questions) - len(answerable))
    if source == "train":
      heldout = heldout_images([q.image_id for q in questions.values()],
                               heldout_fraction)
      by_split = {
          "train": [i for i in answerable if questions[i].image_id not in heldout],
          "heldout": [i for i in answerable if questions[i].image_id in heldout]}
    else:
      by_split = {"test": answerable}
    for split, qids in by_split.items():
      if not qids:
        raise DataError(questions_path_of[source], f"the {split} split would be empty "
                        f"({len(questions)} questions, {len(answerable)} answerable"
                        + (f", --heldout_fraction {heldout_fraction}"
                           if source == "train" else "") + ")")
      plan.append((split, questions, annotations, qids))
  writer = PreparedWriter(data_dir)
  backend = text.pos_backend()  # fails here, before writing, if it cannot run
  sizes = {}
  for split, questions, annotations, qids in plan:
    progress = Progress(f"vqa {split}", total=len(qids), unit="questions")
    sizes[split] = writer.write_vqa(
        split, (make_record(q, questions[q], annotations[q]) for q in qids))
    progress.count = len(qids)
    progress.done()
  if loaded:
    # Which tagger made the nouns / adjectives / bins: tools.prepare_vocab copies
    # it into meta.json.
    atomic_write_json(os.path.join(data_dir, "vqa", TEXT_PROCESSING_FILE),
                      {"pos_backend": backend})
  logging.info("VQA questions per split: %s (part-of-speech backend %s)", sizes,
               backend)
  return sizes


def main(argv):
  del argv
  if not FLAGS.data_dir:
    raise DataError(None, "--data_dir is required")
  text.use_backend(FLAGS.pos_backend)
  paths = {}
  for key, name in FILE_NAMES.items():
    value = getattr(FLAGS, key) or (os.path.join(FLAGS.vqa_dir, name)
                                    if FLAGS.vqa_dir else None)
    if not value:
      raise DataError(None, f"--{key} (or --vqa_dir) is required")
    paths[key] = value
  prepare_vqa(FLAGS.data_dir, heldout_fraction=FLAGS.heldout_fraction,
              overwrite=FLAGS.overwrite, **paths)
  if FLAGS.word_vectors:
    from tools import prepare_vocab
    if os.path.exists(os.path.join(FLAGS.data_dir, "classes.json")):
      prepare_vocab.prepare_vocab(FLAGS.data_dir, FLAGS.word_vectors)
    else:
      logging.warning("classes.json not there yet: run tools.prepare_genome, then "
                      "python -m tools.prepare_vocab --data_dir %s --word_vectors %s",
                      FLAGS.data_dir, FLAGS.word_vectors)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_string("data_dir", None, "Prepared data directory to write.")
  flags.DEFINE_string("vqa_dir", None, "Directory holding the 4 VQA v1 JSON files.")
  for key, name in FILE_NAMES.items():
    flags.DEFINE_string(key, None, f"{name} (overrides --vqa_dir).")
  flags.DEFINE_float("heldout_fraction", DEFAULT_HELDOUT_FRACTION,
                     "Fraction of train images held out for model selection "
                     "(default: the paper's 12,072 of 248,349 questions).")
  flags.DEFINE_string("word_vectors", None,
                      "Also build the vocab at the end (needs classes.json): a "
                      "word2vec .bin(.gz) path or 'glove-6b-50d'.")
  flags.DEFINE_boolean("overwrite", False, "Redo splits whose files exist.")
  flags.DEFINE_enum("pos_backend", text.taggers.DEFAULT_BACKEND, list(text.BACKENDS),
                    "Part-of-speech backend for the nouns, adjectives and bins "
                    "(docs/interpretations.md, entry 15); recorded in meta.json.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
