"""tools.prepare_vqa and tools.prepare_vocab on small VQA v1 files."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from svlr_tf.data.feature_store import FeatureStoreWriter
from svlr_tf.data.prepared import PreparedData, PreparedWriter
from svlr_tf.runtime.errors import DataError
from tools import prepare_vocab, prepare_vqa

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CHOICES = ["red", "blue", "green", "yes", "no", "2", "3", "dog", "cat", "white",
            "black", "fire hydrant", "tennis racket", "café", "man", "one", "four",
            "five"]
_QUESTIONS = ["What color is the fire hydrant?", "Is there a dog?",
              "How many cats are there?"]
_ANSWERS = ["red", "yes", "2"]
_TYPES = [("what color is the", "other"), ("is there a", "yes/no"),
          ("how many", "number")]


def write_vqa(root, subset, image_ids, extra_questions=(), drop_annotation=()):
  questions, annotations = [], []
  for image_id in image_ids:
    for k in range(3):
      qid = image_id * 10 + k
      questions.append({"image_id": image_id, "question": _QUESTIONS[k],
                        "question_id": qid, "multiple_choices": _CHOICES})
      if qid in drop_annotation:
        continue
      annotations.append({
          "question_id": qid, "image_id": image_id, "question_type": _TYPES[k][0],
          "answer_type": _TYPES[k][1], "multiple_choice_answer": _ANSWERS[k],
          "answers": [{"answer": _ANSWERS[k], "answer_confidence": "yes",
                       "answer_id": j + 1} for j in range(10)]})
  questions.extend(extra_questions)
  q_path = root / f"MultipleChoice_mscoco_{subset}2014_questions.json"
  a_path = root / f"mscoco_{subset}2014_annotations.json"
  q_path.write_text(json.dumps({"info": {}, "task_type": "Multiple-Choice",
                                "data_type": "mscoco", "data_subtype": f"{subset}2014",
                                "license": {}, "num_choices": 18,
                                "questions": questions}, ensure_ascii=False),
                    encoding="utf-8")
  a_path.write_text(json.dumps({"info": {}, "data_type": "mscoco",
                                "data_subtype": f"{subset}2014", "license": {},
                                "annotations": annotations}), encoding="utf-8")
  return str(q_path), str(a_path)


def _glove(path, words, dim=6):
  rng = np.random.default_rng(0)
  with open(path, "w", encoding="utf-8") as f:
    for w in words:
      f.write(w + " " + " ".join(f"{x:.4f}" for x in rng.standard_normal(dim)) + "\n")
  return str(path)


def _inputs(tmp_path):
  raw = tmp_path / "raw"
  raw.mkdir()
  duplicate = {"image_id": 1, "question": "Duplicate?", "question_id": 10,
               "multiple_choices": _CHOICES}
  train = write_vqa(raw, "train", range(1, 11), [duplicate])
  val = write_vqa(raw, "val", [100, 101])
  return raw, train, val


def test_prepare_vqa_then_vocab_gives_a_loadable_directory(tmp_path):
  raw, train, val = _inputs(tmp_path)
  data_dir = tmp_path / "prepared"
  sizes = prepare_vqa.prepare_vqa(str(data_dir), *train, *val, heldout_fraction=0.2)
  assert sizes == {"train": 24, "heldout": 6, "test": 6}
  rows = {s: [json.loads(l) for l in open(data_dir / "vqa" / f"{s}.jsonl",
                                          encoding="utf-8")]
          for s in ("train", "heldout", "test")}
  train_images = {r["image_id"] for r in rows["train"]}
  heldout_images = {r["image_id"] for r in rows["heldout"]}
  assert len(heldout_images) == 2 and not train_images & heldout_images
  assert heldout_images == prepare_vqa.heldout_images(range(1, 11), 0.2)
  first = next(r for r in rows["test"] if r["question_id"] == 1000)
  assert first["question_bins"] == [["what", "color"], ["hydrant"], ["fire"],
                                    ["is", "the"]]
  assert first["label"] == 0 and first["answers"] == ["red"] * 10
  assert first["question_type"] == "what color is the"
  assert first["choice_words"][11] == ["fire", "hydrant"]
  assert first["choice_nouns"][7] == ["dog"] and len(first["choices"]) == 18
  duplicate = next(r for r in rows["train"] + rows["heldout"] if r["question_id"] == 10)
  assert duplicate["question"] == _QUESTIONS[0]  # the first of the repeated ids
  official = json.load(open(data_dir / "vqa" / "test_questions.json"))
  assert len(official["questions"]) == 6 and official["num_choices"] == 18

  # Classes (as prepare_genome writes them) and a small feature store, then vocab.
  writer = PreparedWriter(str(data_dir))
  writer.write_classes(["man", "fire hydrant", "tennis_racket", "person"],
                       ["white", "standing"], {"man": ["person"]})
  with FeatureStoreWriter(str(data_dir / "features" / "vqa"), 4, rows_per_image=3) as w:
    w.add(100, np.ones((2, 4)))
  glove = _glove(tmp_path / "glove.txt", ["what", "color", "is", "the", "dog",
                                          "red", "man", "fire", "hydrant"])
  n = prepare_vocab.prepare_vocab(str(data_dir), glove)
  data = PreparedData(str(data_dir))
  assert len(data.words) == n and data.words[:2] == ["<pad>", "<unk>"]
  for word in ("hydrant", "tennis", "racket", "café", "standing", "cats"):
    assert word in data.word_to_id
  assert data.meta["source"] == "real" and data.meta["simulated"] is False
  # The tagger that made the nouns / adjectives / bins is recorded.
  from svlr_tf import text
  assert data.meta["pos_backend"] == text.pos_backend()
  assert data.feature_dim == 4 and data.regions_per_image == 3
  assert data.word_vectors.shape == (n, 6)
  split = data.load_vqa("test", max_question_words=8, max_answer_words=4,
                        num_choices=18)
  assert len(split) == 6 and split.label.tolist().count(0) == 2
  assert data.class_word_ids("objects", 3).shape == (4, 3)
  # Restartable: a second run keeps the existing splits.
  assert prepare_vqa.prepare_vqa(str(data_dir), *train, *val) == {}


def test_questions_without_annotation_are_an_error_naming_the_vqa_version(tmp_path):
  raw = tmp_path / "raw"
  raw.mkdir()
  train = write_vqa(raw, "train", range(1, 6))
  val = write_vqa(raw, "val", [100, 101], drop_annotation={1001})
  data_dir = str(tmp_path / "prepared")
  with pytest.raises(DataError, match=r"mscoco_val2014_annotations.json: 1 of 6 "
                     r"questions .* no annotation here \(first: question_id 1001\)"):
    prepare_vqa.prepare_vqa(data_dir, *train, *val)
  assert not os.path.exists(os.path.join(data_dir, "vqa"))  # nothing written
  # VQA v2 annotations (question_id = image_id * 1000 + k) with v1 questions.
  v2 = json.load(open(val[1]))
  for a in v2["annotations"]:
    a["question_id"] = a["image_id"] * 1000 + a["question_id"] % 10
  with open(val[1], "w") as f:
    json.dump(v2, f)
  with pytest.raises(DataError, match=r"6 of 6 questions.*look like VQA v1 and the "
                     r"annotations' like VQA v2"):
    prepare_vqa.prepare_vqa(data_dir, *train, *val)


def test_an_empty_split_is_an_error(tmp_path):
  raw = tmp_path / "raw"
  raw.mkdir()
  train = write_vqa(raw, "train", [1])  # one image: nothing left for train-subset
  val = write_vqa(raw, "val", [100])
  with pytest.raises(DataError, match="the (train|heldout) split would be empty"):
    prepare_vqa.prepare_vqa(str(tmp_path / "p"), *train, *val, heldout_fraction=0.5)
  assert not os.path.exists(tmp_path / "p" / "vqa")


def test_heldout_rule_matches_the_paper_at_full_size():
  # VQA v1 train: 82,783 images x 3 questions = 248,349.
  heldout = prepare_vqa.heldout_images(range(82783))
  assert len(heldout) * 3 == 12072
  assert 248349 - len(heldout) * 3 == 236277


def test_malformed_inputs(tmp_path):
  raw, train, val = _inputs(tmp_path)
  data_dir = tmp_path / "prepared"
  data = json.load(open(val[1]))
  data["annotations"][0]["answers"] = data["annotations"][0]["answers"][:9]
  open(val[1], "w").write(json.dumps(data))
  with pytest.raises(DataError, match=r"annotations\[0\]: 9 human answers"):
    prepare_vqa.prepare_vqa(str(data_dir), *train, *val)
  assert not (data_dir / "vqa").exists()  # nothing written, not even train

  data = json.load(open(train[0]))
  del data["questions"][3]["question_id"]
  open(train[0], "w").write(json.dumps(data))
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  result = subprocess.run(
      [sys.executable, "-m", "tools.prepare_vqa", "--vqa_dir", str(raw),
       "--data_dir", str(data_dir)],
      capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1] == (
      f"error: {train[0]}: questions[3]: missing field 'question_id'")


def test_streamed_reading_keeps_what_a_whole_file_load_gives(tmp_path):
  """read_questions / read_annotations stream the files (issue 25); their values
  are those of the whole-file json.load, first of a repeated id kept."""
  raw, train, val = _inputs(tmp_path)
  for questions_path, annotations_path in (train, val):
    whole = {}
    for q in json.load(open(questions_path))["questions"]:
      whole.setdefault(q["question_id"], (q["image_id"], q["question"],
                                          tuple(q["multiple_choices"])))
    assert {k: tuple(v) for k, v in prepare_vqa.read_questions(questions_path).items()
            } == whole
    whole = {}
    for a in json.load(open(annotations_path))["annotations"]:
      whole.setdefault(a["question_id"], (
          a["image_id"], a["question_type"], a["answer_type"],
          a["multiple_choice_answer"], tuple(x["answer"] for x in a["answers"])))
    assert {k: tuple(v) for k, v in prepare_vqa.read_annotations(
        annotations_path).items()} == whole


def test_a_cut_question_file_is_one_line_with_the_byte_offset(tmp_path):
  raw, train, val = _inputs(tmp_path)
  text = open(train[0], "rb").read()
  open(train[0], "wb").write(text[:len(text) // 2])
  with pytest.raises(DataError) as err:
    prepare_vqa.prepare_vqa(str(tmp_path / "prepared"), *train, *val)
  assert str(err.value).startswith(f"{train[0]}: malformed JSON at byte ")
  assert not (tmp_path / "prepared" / "vqa").exists()
  open(train[0], "w").write(json.dumps({"info": {}, "questions": {}}))
  with pytest.raises(DataError, match="expected a JSON object with a 'questions' list"):
    prepare_vqa.read_questions(train[0])
