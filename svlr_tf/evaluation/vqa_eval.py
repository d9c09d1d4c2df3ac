"""The official VQA accuracy (Antol et al. 2015; the metric of Table 1).

For one question with human answers h_1..h_10 and a prediction p:

1. Whitespace: newlines and tabs become spaces; leading / trailing space is
   stripped (prediction and human answers).
2. Only when the human answers are not all identical (after step 1), the
   prediction and every human answer are normalized further
   (:func:`normalize_answer`):

   - punctuation: each of ``; / [ ] " { } ( ) = + \\ _ - > < @ ` , ? !`` is deleted
     if it touches a space in the text, or if the text contains a comma between
     two digits ("1,000"); otherwise it becomes a space. Then every period not
     followed by a digit is deleted ("3.5" keeps its period, "a.m." -> "am").
   - lowercase; number words none / zero .. ten -> "0" .. "10"; the articles
     a / an / the are removed; the standard contraction fixes ("dont" -> "don't",
     "isnt" -> "isn't", ... :data:`CONTRACTIONS`).

   With unanimous human answers nothing else is done: the prediction must equal
   the answer exactly (case included).
3. acc(p) = mean over i of min(1, #{j != i : h_j == p} / 3)  -- leave-one-out over
   the human answers.

Reported numbers are ``round(100 * mean acc, 2)`` overall, per question type and
per answer type, as the official evaluation script does (per-question values are
not rounded before averaging). Two details follow the official script exactly: the
period rule deletes at most 32 periods (the script passes ``re.UNICODE`` as the
``count`` argument of ``re.sub``), and the contraction table keeps its historical
entries verbatim (including ``"somebody'd" -> "somebodyd"`` and capitalized keys that
never match after lowercasing).

Results files are ``[{"question_id": int, "answer": str}, ...]``.
"""

from __future__ import annotations

import collections
import functools
import re
from typing import Any, Dict, List, Mapping, Sequence

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import read_json

PUNCTUATION = (";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\",
               "_", "-", ">", "<", "@", "`", ",", "?", "!")
NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3",
                "four": "4", "five": "5", "six": "6", "seven": "7",
                "eight": "8", "nine": "9", "ten": "10"}
ARTICLES = frozenset(("a", "an", "the"))
_DIGIT_COMMA_DIGIT = re.compile(r"\d,\d")
_PERIOD_NOT_BEFORE_DIGIT = re.compile(r"\.(?!\d)")
_MAX_PERIODS_REMOVED = 32


def _contractions() -> Dict[str, str]:
  """The official contraction fixes: misspelling -> contraction."""
  table = {}
  # Entries are separated by "|" or a line break: the contraction, then its
  # misspellings in the official table.
  entries = """
      ain't aint | aren't arent | can't cant | could've couldve
      couldn't couldnt | couldn't've couldn'tve couldnt've | didn't didnt
      doesn't doesnt | don't dont | hadn't hadnt | hadn't've hadnt've hadn'tve
      hasn't hasnt | haven't havent | he'd hed | he'd've hed've he'dve
      he's hes | how'd howd | how'll howll | how's hows | I'd've Id've I'dve
      I'm Im | I've Ive | isn't isnt | it'd itd | it'd've itd've it'dve
      it'll itll | let's let's | ma'am maam | mightn't mightnt
      mightn't've mightnt've mightn'tve | might've mightve | mustn't mustnt
      must've mustve | needn't neednt | not've notve | o'clock oclock
      oughtn't oughtnt | 'ow's'at ow's'at 'ows'at 'ow'sat | shan't shant
      she'd've shed've she'dve | she's she's | should've shouldve
      shouldn't shouldnt | shouldn't've shouldnt've shouldn'tve
      somebodyd somebody'd | somebody'd've somebodyd've somebody'dve
      somebody'll somebodyll | somebody's somebodys | someone'd someoned
      someone'd've someoned've someone'dve | someone'll someonell
      someone's someones | something'd somethingd
      something'd've somethingd've something'dve | something'll somethingll
      that's thats | there'd thered | there'd've thered've there'dve
      there're therere | there's theres | they'd theyd
      they'd've theyd've they'dve | they'll theyll | they're theyre
      they've theyve | 'twas twas | wasn't wasnt | we'd've wed've we'dve
      we've weve | weren't werent | what'll whatll | what're whatre
      what's whats | what've whatve | when's whens | where'd whered
      where's wheres | where've whereve | who'd whod | who'd've whod've who'dve
      who'll wholl | who's whos | who've whove | why'll whyll | why're whyre
      why's whys | won't wont | would've wouldve | wouldn't wouldnt
      wouldn't've wouldnt've wouldn'tve | y'all yall | y'all'll yall'll y'allll
      y'all'd've yall'd've y'alld've y'all'dve | you'd youd
      you'd've youd've you'dve | you'll youll | you're youre | you've youve
  """
  for entry in re.split(r"[|\n]", entries):
    if not entry.strip():
      continue
    correct, *misspellings = entry.split()
    for misspelling in misspellings:
      table[misspelling] = correct
  return table


CONTRACTIONS = _contractions()


def normalize_whitespace(answer: str) -> str:
  """Newlines and tabs -> spaces, then strip (always applied)."""
  return answer.replace("\n", " ").replace("\t", " ").strip()


def process_punctuation(answer: str) -> str:
  """The official punctuation rule (see the module docstring)."""
  delete_all = _DIGIT_COMMA_DIGIT.search(answer) is not None
  out = answer
  for mark in PUNCTUATION:
    if delete_all or (mark + " ") in answer or (" " + mark) in answer:
      out = out.replace(mark, "")
    else:
      out = out.replace(mark, " ")
  return _PERIOD_NOT_BEFORE_DIGIT.sub("", out, count=_MAX_PERIODS_REMOVED)


def process_digits_articles(answer: str) -> str:
  """Lowercase, number words -> digits, drop articles, fix contractions."""
  words = []
  for word in answer.lower().split():
    word = NUMBER_WORDS.get(word, word)
    if word not in ARTICLES:
      words.append(CONTRACTIONS.get(word, word))
  return " ".join(words)


def normalize_answer(answer: str) -> str:
  """The full normalization applied when the human answers disagree.

  >>> normalize_answer("Two dogs!")
  '2 dogs'
  """
  return process_digits_articles(process_punctuation(normalize_whitespace(answer)))


@functools.lru_cache(maxsize=1 << 18)
def _process(answer: str) -> str:
  # Cached: the trainer scores every one of the 18 choices against the same
  # 10 human answers.
  return process_digits_articles(process_punctuation(answer))


def answer_accuracy(prediction: str, human_answers: Sequence[str]) -> float:
  """Official accuracy in [0, 1] of one prediction against the human answers."""
  if not human_answers:
    raise ValueError("no human answers")
  humans = [normalize_whitespace(h) for h in human_answers]
  predicted = normalize_whitespace(prediction)
  if len(set(humans)) > 1:
    humans = [_process(h) for h in humans]
    predicted = _process(predicted)
  matches = sum(h == predicted for h in humans)
  total = 0.0
  for h in humans:
    others = matches - (h == predicted)  # leave this human answer out
    total += min(1.0, others / 3.0)
  return total / len(humans)


# ----------------------------------------------------------------------------
# Whole result sets
# ----------------------------------------------------------------------------


def _percent(values: List[float]) -> float:
  return round(100.0 * sum(values) / len(values), 2)


def _records(obj: Any, key: str, source: str) -> list:
  records = obj.get(key) if isinstance(obj, Mapping) else obj
  if not isinstance(records, list):
    raise DataError(source, f"expected a JSON object with a {key!r} list")
  return records


def _question_id(record: Any, where: str, source: str) -> int:
  if not isinstance(record, Mapping):
    raise DataError(source, f"{where}: not a JSON object")
  if "question_id" not in record:
    raise DataError(source, f"{where}: missing field 'question_id'")
  qid = record["question_id"]
  if isinstance(qid, bool) or not isinstance(qid, int):
    raise DataError(source, f"{where}: question_id {qid!r} is not an integer")
  return qid


def _field(record: Mapping, name: str, kind, where: str, source: str):
  if name not in record:
    raise DataError(source, f"{where}: missing field {name!r}")
  value = record[name]
  if not isinstance(value, kind):
    raise DataError(source, f"{where}: field {name!r} has the wrong type "
                    f"({type(value).__name__})")
  return value


def evaluate(questions: Any, annotations: Any, results: Any,
             allow_missing: bool = False,
             sources: Sequence[str] = ("questions", "annotations", "results"),
             ) -> Dict[str, Any]:
  """Official VQA accuracy of ``results``.

  Args:
    questions: an official question file (``{"questions": [...]}``) or its list.
    annotations: an official annotation file (``{"annotations": [...]}``) or its
      list; every question needs ``question_type``, ``answer_type`` and
      ``answers`` (``[{"answer": str}, ...]``).
    results: ``[{"question_id": int, "answer": str}, ...]``.
    allow_missing: evaluate only the answered questions instead of failing when
      a question has no result.
    sources: names of the three inputs for error messages (file paths).

  Returns:
    ``{"overall": float, "per_question_type": {type: float},
    "per_answer_type": {type: float}, "num_questions": int, "num_missing": int,
    "num_per_question_type": {type: int}, "num_per_answer_type": {type: int}}``
    with accuracies in percent (2 decimals).

  Raises:
    DataError: a malformed record, a missing field, a question without
      annotation, a result for an unknown question, a duplicate result, or
      (unless ``allow_missing``) a question without result.
  """
  q_source, a_source, r_source = sources
  question_ids = set()
  for i, record in enumerate(_records(questions, "questions", q_source)):
    question_ids.add(_question_id(record, f"question {i}", q_source))

  truth = {}
  for i, record in enumerate(_records(annotations, "annotations", a_source)):
    qid = _question_id(record, f"annotation {i}", a_source)
    where = f"annotation {i} (question_id {qid})"
    answers = _field(record, "answers", list, where, a_source)
    if not answers:
      raise DataError(a_source, f"{where}: no human answers")
    human = []
    for answer in answers:
      if not isinstance(answer, Mapping) or not isinstance(answer.get("answer"), str):
        raise DataError(a_source, f"{where}: a human answer lacks an 'answer' string")
      human.append(answer["answer"])
    truth[qid] = (human, _field(record, "question_type", str, where, a_source),
                  _field(record, "answer_type", str, where, a_source))
  unannotated = question_ids - truth.keys()
  if unannotated:
    raise DataError(a_source, f"{len(unannotated)} questions have no annotation "
                    f"(e.g. question_id {min(unannotated)})")
  unasked = truth.keys() - question_ids
  if unasked:
    raise DataError(q_source, f"{len(unasked)} annotated questions are missing "
                    f"from the question file (e.g. question_id {min(unasked)})")

  if not isinstance(results, list):
    raise DataError(r_source, "expected a JSON list of "
                    "{\"question_id\": int, \"answer\": str}")
  predictions = {}
  for i, record in enumerate(results):
    qid = _question_id(record, f"result {i}", r_source)
    answer = _field(record, "answer", str, f"result {i} (question_id {qid})",
                    r_source)
    if qid not in truth:
      raise DataError(r_source, f"result {i}: unknown question_id {qid}")
    if qid in predictions:
      raise DataError(r_source, f"result {i}: duplicate result for question_id "
                      f"{qid}")
    predictions[qid] = answer
  missing = truth.keys() - predictions.keys()
  if missing and not allow_missing:
    raise DataError(r_source, f"no result for {len(missing)} of {len(truth)} "
                    f"questions (e.g. question_id {min(missing)}); pass "
                    f"allow_missing to evaluate a subset")
  if not predictions:
    raise DataError(r_source, "no results to evaluate")

  overall = []
  by_question_type = collections.defaultdict(list)
  by_answer_type = collections.defaultdict(list)
  for qid in sorted(predictions):
    human, question_type, answer_type = truth[qid]
    accuracy = answer_accuracy(predictions[qid], human)
    overall.append(accuracy)
    by_question_type[question_type].append(accuracy)
    by_answer_type[answer_type].append(accuracy)
  by_question_type = dict(sorted(by_question_type.items()))
  by_answer_type = dict(sorted(by_answer_type.items()))
  return {
      "overall": _percent(overall),
      "per_question_type": {t: _percent(v) for t, v in by_question_type.items()},
      "per_answer_type": {t: _percent(v) for t, v in by_answer_type.items()},
      "num_questions": len(overall),
      "num_missing": len(missing),
      "num_per_question_type": {t: len(v) for t, v in by_question_type.items()},
      "num_per_answer_type": {t: len(v) for t, v in by_answer_type.items()},
  }


def evaluate_files(questions_path: str, annotations_path: str, results_path: str,
                   allow_missing: bool = False) -> Dict[str, Any]:
  """:func:`evaluate` on an official question file, annotation file and results."""
  return evaluate(read_json(questions_path), read_json(annotations_path),
                  read_json(results_path), allow_missing=allow_missing,
                  sources=(questions_path, annotations_path, results_path))
