"""Tests for the official VQA accuracy: every normalization rule, hand-computed."""

import json

import pytest

from svlr_tf.evaluation import vqa_eval
from svlr_tf.runtime.errors import DataError


def humans(*groups):
  """humans(("2", 3), ("3", 7)) -> ["2", "2", "2", "3", ... ] (10 answers)."""
  out = []
  for answer, count in groups:
    out += [answer] * count
  return out


# ---------------------------------------------------------------- normalization


@pytest.mark.parametrize("raw, expected", [
    # punctuation not touching a space becomes a space
    ("hot-dog", "hot dog"),
    ("blue/green", "blue green"),
    ("yes!", "yes"),
    ("(red)", "red"),
    # punctuation touching a space anywhere is deleted everywhere
    ("x-ray -", "xray"),
    ("red, white", "red white"),
    ("red,white", "red white"),
    # a comma between digits deletes every punctuation mark
    ("1,000", "1000"),
    ("1,000-ish", "1000ish"),
    # periods: deleted unless a digit follows
    ("3.5", "3.5"),
    ("st. louis", "st louis"),
    ("a.m.", "am"),
    ("5.", "5"),
    (".5", ".5"),
    ("." * 40 + "x", "." * 8 + "x"),  # the official script deletes at most 32
    # apostrophes and colons are not punctuation here
    ("o'clock", "o'clock"),
    ("10:30", "10:30"),
    # lowercase, number words, articles, contractions
    ("Two", "2"),
    ("none", "0"),
    ("zero", "0"),
    ("ten dogs", "10 dogs"),
    ("eleven", "eleven"),
    ("The Dog", "dog"),
    ("a man and an apple", "man and apple"),
    ("dont know", "don't know"),
    ("isnt", "isn't"),
    ("Dont", "don't"),
    ("couldnt've", "couldn't've"),
    ("oclock", "o'clock"),
    ("somebody'd", "somebodyd"),        # historical entry of the official table
    # whitespace
    (" yes\n", "yes"),
    ("black\tand  white", "black and white"),
])
def test_normalize_answer(raw, expected):
  assert vqa_eval.normalize_answer(raw) == expected


def test_contraction_table():
  assert vqa_eval.CONTRACTIONS["wont"] == "won't"
  assert vqa_eval.CONTRACTIONS["y'allll"] == "y'all'll"
  assert vqa_eval.CONTRACTIONS["'ow'sat"] == "'ow's'at"
  assert len(vqa_eval.CONTRACTIONS) == 120  # as in the official table
  assert all(" " not in key for key in vqa_eval.CONTRACTIONS)


# ---------------------------------------------------------------- accuracy


@pytest.mark.parametrize("prediction, human_answers, expected", [
    # unanimous humans: no processing beyond whitespace
    ("yes", humans(("yes", 10)), 1.0),
    (" yes\n", humans(("yes", 10)), 1.0),
    ("Yes", humans(("yes", 10)), 0.0),
    ("yes.", humans(("yes", 10)), 0.0),
    ("two", humans(("2", 10)), 0.0),
    ("yes", humans(("yes\n", 10)), 1.0),        # whitespace before the check
    # leave-one-out: 1 match -> 9 x 1/3 / 10
    ("2", humans(("2", 1), ("3", 9)), 0.3),
    # 2 matches: (2 x 1/3 + 8 x 2/3) / 10
    ("2", humans(("2", 2), ("3", 8)), 0.6),
    # 3 matches: (3 x 2/3 + 7 x 1) / 10
    ("2", humans(("2", 3), ("3", 7)), 0.9),
    ("2", humans(("2", 4), ("3", 6)), 1.0),
    ("4", humans(("2", 4), ("3", 6)), 0.0),
    # processing when humans disagree
    ("two", humans(("2", 3), ("3", 7)), 0.9),
    ("Two!", humans(("2", 3), ("3", 7)), 0.9),
    ("the dog", humans(("a dog", 4), ("cat", 6)), 1.0),
    ("hot-dog", humans(("hot dog", 2), ("pizza", 8)), 0.6),
    ("1,000", humans(("1000", 3), ("100", 7)), 0.9),
    ("dont know", humans(("don't know", 1), ("no", 9)), 0.3),
    ("st. louis", humans(("st louis", 4), ("chicago", 6)), 1.0),
    ("3.5", humans(("3.5", 2), ("3", 8)), 0.6),
])
def test_answer_accuracy(prediction, human_answers, expected):
  assert vqa_eval.answer_accuracy(prediction, human_answers) == \
      pytest.approx(expected)


def test_answer_accuracy_needs_answers():
  with pytest.raises(ValueError):
    vqa_eval.answer_accuracy("yes", [])


# ---------------------------------------------------------------- evaluate


def _dataset():
  questions = {"questions": [
      {"question_id": 10, "image_id": 1, "question": "What color is the car?"},
      {"question_id": 11, "image_id": 1, "question": "How many cars?"},
      {"question_id": 20, "image_id": 2, "question": "What color is the bus?"},
  ]}

  def ann(qid, qtype, atype, answers):
    return {"question_id": qid, "image_id": qid // 10, "question_type": qtype,
            "answer_type": atype, "multiple_choice_answer": answers[0],
            "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": i}
                        for i, a in enumerate(answers, 1)]}

  annotations = {"annotations": [
      ann(10, "what color is the", "other", humans(("red", 10))),
      ann(11, "how many", "number", humans(("2", 2), ("3", 8))),
      ann(20, "what color is the", "other", humans(("blue", 5), ("white", 5))),
  ]}
  results = [{"question_id": 10, "answer": "red"},
             {"question_id": 11, "answer": "two"},
             {"question_id": 20, "answer": "green"}]
  return questions, annotations, results


def test_evaluate_aggregates_per_type():
  report = vqa_eval.evaluate(*_dataset())
  # per question: 1.0, 0.6, 0.0
  assert report["overall"] == 53.33
  assert report["per_question_type"] == {"how many": 60.0,
                                         "what color is the": 50.0}
  assert report["per_answer_type"] == {"number": 60.0, "other": 50.0}
  assert report["num_questions"] == 3 and report["num_missing"] == 0
  assert report["num_per_question_type"] == {"how many": 1, "what color is the": 2}
  assert report["num_per_answer_type"] == {"number": 1, "other": 2}


def test_evaluate_accepts_bare_lists():
  questions, annotations, results = _dataset()
  report = vqa_eval.evaluate(questions["questions"], annotations["annotations"],
                             results)
  assert report["overall"] == 53.33


def test_evaluate_rounds_to_two_decimals():
  questions, annotations, results = _dataset()
  results[2]["answer"] = "blue"   # 1.0 -> (1 + 0.6 + 1) / 3 = 86.666...
  assert vqa_eval.evaluate(questions, annotations, results)["overall"] == 86.67


def test_evaluate_missing_results():
  questions, annotations, results = _dataset()
  with pytest.raises(DataError, match="no result for 1 of 3 questions"):
    vqa_eval.evaluate(questions, annotations, results[:2])
  report = vqa_eval.evaluate(questions, annotations, results[:2],
                             allow_missing=True)
  assert report["overall"] == 80.0 and report["num_missing"] == 1
  assert report["per_question_type"] == {"how many": 60.0,
                                         "what color is the": 100.0}


@pytest.mark.parametrize("mutate, problem", [
    (lambda q, a, r: r.append({"question_id": 99, "answer": "x"}),
     "unknown question_id 99"),
    (lambda q, a, r: r.append({"question_id": 10, "answer": "x"}),
     "duplicate result for question_id 10"),
    (lambda q, a, r: r[0].pop("answer"), "missing field 'answer'"),
    (lambda q, a, r: r[0].update(question_id="10"), "not an integer"),
    (lambda q, a, r: r[0].update(answer=3), "wrong type"),
    (lambda q, a, r: a["annotations"][1].pop("answers"),
     "missing field 'answers'"),
    (lambda q, a, r: a["annotations"][1].pop("question_type"),
     "missing field 'question_type'"),
    (lambda q, a, r: a["annotations"][1].update(answers=[]), "no human answers"),
    (lambda q, a, r: a["annotations"][1].update(answers=[{"x": 1}]),
     "lacks an 'answer'"),
    (lambda q, a, r: a["annotations"].pop(), "have no annotation"),
    (lambda q, a, r: q["questions"].pop(), "missing from the question file"),
    (lambda q, a, r: q.pop("questions"), "'questions' list"),
])
def test_evaluate_errors(mutate, problem):
  questions, annotations, results = _dataset()
  mutate(questions, annotations, results)
  with pytest.raises(DataError, match=problem) as err:
    vqa_eval.evaluate(questions, annotations, results)
  assert "\n" not in str(err.value)


def test_evaluate_results_must_be_a_list():
  questions, annotations, _ = _dataset()
  with pytest.raises(DataError, match="results: expected a JSON list"):
    vqa_eval.evaluate(questions, annotations, {"question_id": 10})


def _write(tmp_path, questions, annotations, results):
  paths = []
  for name, obj in (("q.json", questions), ("a.json", annotations),
                    ("r.json", results)):
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    paths.append(str(path))
  return paths


def test_evaluate_files(tmp_path):
  paths = _write(tmp_path, *_dataset())
  assert vqa_eval.evaluate_files(*paths)["overall"] == 53.33
  (tmp_path / "r.json").write_text("[{\"question_id\": 10,")
  with pytest.raises(DataError, match="r.json: malformed JSON"):
    vqa_eval.evaluate_files(*paths)
  with pytest.raises(DataError, match="nope.json: missing file"):
    vqa_eval.evaluate_files(paths[0], paths[1], str(tmp_path / "nope.json"))
  questions, annotations, results = _dataset()
  results.append({"question_id": 7, "answer": "x"})
  paths = _write(tmp_path, questions, annotations, results)
  with pytest.raises(DataError, match=r"r\.json: result 3: unknown question_id 7"):
    vqa_eval.evaluate_files(*paths)
