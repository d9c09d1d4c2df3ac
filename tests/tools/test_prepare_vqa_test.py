"""tools.prepare_vqa_test (unannotated test-dev split) and the results-file writer."""

import json
import zipfile

import numpy as np
import pytest

from svlr_tf.data.feature_store import FeatureStoreWriter
from svlr_tf.data.prepared import PreparedData, PreparedWriter
from svlr_tf.runtime.errors import DataError
from svlr_tf.evaluation import vqa_results
from tools import prepare_vocab, prepare_vqa, prepare_vqa_test
from tests.tools.test_prepare_vqa import _CHOICES, _glove, write_vqa


def write_test_dev(root, image_ids):
  questions = [{"image_id": i, "question": "What color is the café?",
                "question_id": i * 10 + k, "multiple_choices": _CHOICES}
               for i in image_ids for k in range(3)]
  path = root / "MultipleChoice_mscoco_test-dev2015_questions.json"
  path.write_text(json.dumps({"info": {}, "task_type": "Multiple-Choice",
                              "data_type": "mscoco", "data_subtype": "test-dev2015",
                              "license": {}, "num_choices": 18,
                              "questions": questions}, ensure_ascii=False),
                  encoding="utf-8")
  return str(path)


def test_test_dev_split_is_loadable_without_annotations(tmp_path):
  raw = tmp_path / "raw"
  raw.mkdir()
  train = write_vqa(raw, "train", range(1, 6))
  val = write_vqa(raw, "val", [100])
  test_dev = write_test_dev(raw, [500, 501])
  data_dir = str(tmp_path / "prepared")
  prepare_vqa.prepare_vqa(data_dir, *train, *val, heldout_fraction=0.2)
  assert prepare_vqa_test.prepare_vqa_test(data_dir, test_dev) == 6
  record = json.loads(open(f"{data_dir}/vqa/test-dev.jsonl").readline())
  assert "answers" not in record and "label" not in record
  assert "café" in record["question_nouns"]
  assert not (tmp_path / "prepared" / "vqa" / "test-dev_annotations.json").exists()

  writer = PreparedWriter(data_dir)
  writer.write_classes(["man"], ["white"], {})
  with FeatureStoreWriter(f"{data_dir}/features/vqa", 4, rows_per_image=3) as w:
    w.add(100, np.ones((2, 4)))
  prepare_vocab.prepare_vocab(data_dir, _glove(tmp_path / "g.txt", ["what", "color"]))
  data = PreparedData(data_dir)
  assert "café" in data.word_to_id  # the vocabulary covers test-dev's words
  split = data.load_vqa("test-dev", 8, 4, 18)
  assert len(split) == 6 and split.label.tolist() == [-1] * 6
  assert split.answers == [[]] * 6 and split.choices[0] == _CHOICES
  assert sorted(split.question_ids.tolist()) == [5000, 5001, 5002, 5010, 5011, 5012]
  # Annotated splits still need their annotations.
  # Test-dev must be tagged like the train / val questions (the recorded backend).
  with open(f"{data_dir}/vqa/text_processing.json", "w") as f:
    json.dump({"pos_backend": "some-other-tagger"}, f)
  with pytest.raises(DataError, match="tagged with 'some-other-tagger'"):
    prepare_vqa_test.prepare_vqa_test(data_dir, test_dev, overwrite=True)
  with pytest.raises(DataError, match="missing field 'answers'"):
    bad = f"{data_dir}/vqa/heldout.jsonl"
    rows = [json.loads(l) for l in open(bad)]
    del rows[0]["answers"]
    open(bad, "w").write("\n".join(json.dumps(r) for r in rows) + "\n")
    PreparedData(data_dir, cache=False).load_vqa("heldout", 8, 4, 18)


def test_results_file_name_follows_the_vqa_convention():
  assert (vqa_results.results_file_name("test-dev", "svlr") ==
          "vqa_MultipleChoice_mscoco_test-dev2015_svlr_results.json")
  assert (vqa_results.results_file_name("test-std", "svlr-r152") ==
          "vqa_MultipleChoice_mscoco_test2015_svlr-r152_results.json")
  with pytest.raises(ValueError, match="'-' only"):
    vqa_results.results_file_name("test-dev", "my_alg")


def test_write_submission_checks_every_question(tmp_path):
  raw = tmp_path
  questions = write_test_dev(raw, [7])
  good = [{"question_id": q, "answer": "blue"} for q in (70, 71, 72)]
  path = vqa_results.write_submission(str(tmp_path / "out"), "test-dev", "svlr", good,
                                      questions)
  assert json.load(open(path)) == good
  with zipfile.ZipFile(path[:-5] + ".zip") as z:
    assert z.namelist() == [path.rsplit("/", 1)[1]]
  cases = [
      (good[:2], "1 questions have no result"),
      (good + [{"question_id": 70, "answer": "red"}], "answered twice"),
      (good[:2] + [{"question_id": 72, "answer": "purple"}], "not one of"),
      (good[:2] + [{"question_id": 99, "answer": "red"}], "not in the question"),
      (good[:2] + [{"question_id": "72", "answer": "red"}], "expected"),
  ]
  for results, problem in cases:
    with pytest.raises(DataError, match=problem):
      vqa_results.write_submission(str(tmp_path / "bad"), "test-dev", "svlr",
                                   results, questions)
  assert not (tmp_path / "bad").exists() or not list((tmp_path / "bad").iterdir())
