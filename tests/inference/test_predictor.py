"""Predictor: answers, open-vocabulary recognition, the bundle and tools.ask / export."""

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from svlr_tf.runtime.errors import DataError
from svlr_tf.training.experiment import config_for_data
from svlr_tf.inference import Predictor
from svlr_tf.inference import bundle
from svlr_tf.inference.vocabulary import OpenVocabulary
from svlr_tf.training.trainer import Trainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(args, cwd):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  return subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                        capture_output=True, text=True, timeout=600)


def _train(data, workdir, experiment):
  cfg = config_for_data("tiny", experiment, data, seed=0, steps=10)
  Trainer(cfg, data, str(workdir), log=lambda s: None).fit()
  return str(workdir)


@pytest.fixture(scope="module")
def runs(tiny_data, tmp_path_factory):
  root = tmp_path_factory.mktemp("runs")
  return {name: _train(tiny_data, root / name, name)
          for name in ("joint_svlr", "genome_only")}


@pytest.fixture(scope="module")
def predictor(runs):
  return Predictor.from_workdir(runs["joint_svlr"])


def _heldout(data, cfg, index=0):
  split = data.load_vqa("heldout", cfg.data.max_question_words,
                        cfg.data.max_answer_words, cfg.data.num_choices)
  return split, index


def _model_scores(predictor, data, split, i):
  """The model's scores of held-out question i from the prepared records."""
  store = data.feature_store("vqa")
  features, mask = store.gather_images(split.image_ids[[i]])
  batch = dict(split.batch(np.array([i])), image_features=features, region_mask=mask)
  scores, attention = predictor.model.vqa_scores(batch, training=False)
  return np.asarray(scores)[0], np.asarray(attention)[0]


def test_answer_scores_a_world_question_as_the_model_does(predictor, tiny_data):
  split, i = _heldout(tiny_data, predictor.config)
  answer = predictor.answer(int(split.image_ids[i]), split.questions[i],
                            split.choices[i])
  expected, attention = _model_scores(predictor, tiny_data, split, i)
  order = np.argsort(-expected, kind="stable")
  # Same text processing as the prepared records: the same scores and a(R).
  assert answer.answers == [split.choices[i][j] for j in order]
  np.testing.assert_allclose(answer.scores, expected[order], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(answer.attention, attention[order], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(answer.attention.sum(axis=1), 1.0, rtol=1e-5)
  assert answer.scorer == "Eq. 7" and not answer.open_ended
  assert answer.question_type == split.question_type_names[split.question_type[i]]
  assert len(answer.region_words.objects) == len(answer.regions)
  assert answer.new_words == {}


def test_open_ended_ranks_the_training_answers_of_the_question_type(predictor):
  answer = predictor.answer(int(predictor.data.feature_store("vqa").image_ids[0]),
                            "What color is the dog?")
  assert answer.open_ended and answer.question_type == "what color is the"
  assert sorted(answer.answers) == sorted(predictor.answers["what color is the"])
  assert list(answer.scores) == sorted(answer.scores, reverse=True)


def test_genome_only_run_answers_zero_shot(runs, tiny_data):
  predictor = Predictor.from_workdir(runs["genome_only"])
  image = int(tiny_data.feature_store("vqa").image_ids[0])
  answer = predictor.answer(image, "What color is the dog?", ["brown", "white", "yes"])
  assert answer.scorer == "Eq. 9 (zero-shot)"
  assert set(answer.answers) == {"brown", "white", "yes"}


def test_recognize_ranks_words_that_are_not_classes(predictor, tiny_data):
  image = int(tiny_data.feature_store("genome").image_ids[0])
  assert "puppy" not in tiny_data.word_to_id   # not even in the vocabulary
  words = ["dog", "puppy", "red", "red car", "qwzxvk"]
  result = predictor.recognize(image, words)
  k = len(result.regions)
  assert result.object_scores.shape == (k, 5) and result.attribute_scores.shape == (k, 5)
  assert result.classes.tolist() == [True, False, True, False, False]
  # A class word scores as the recognition head scores its class.
  objects, attributes = predictor.model.recognition_scores(result.regions.features)
  np.testing.assert_allclose(result.object_scores[:, 0],
                             np.asarray(objects)[:, tiny_data.objects.index("dog")],
                             rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(result.attribute_scores[:, 2],
                             np.asarray(attributes)[:, tiny_data.attributes.index("red")],
                             rtol=1e-5, atol=1e-5)
  ranked = result.ranked(0)
  assert [w for w, _ in ranked].count("puppy") == 1
  assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
  # A word of the pretrained vectors scores unlike an unknown one, and both are said.
  assert not np.allclose(result.object_scores[:, 1], result.object_scores[:, 4])
  assert "glove" in result.new_words["puppy"]
  assert "pseudo-random" in result.new_words["qwzxvk"]
  assert set(result.new_words) == {"puppy", "qwzxvk"}


def test_new_words_without_pretrained_vectors_get_the_training_rule():
  vectors = np.vstack([np.zeros((1, 4)), np.eye(4)[:2] * 3.0]).astype(np.float32)
  vocabulary = OpenVocabulary(["<pad>", "<unk>", "dog"], vectors, reference="")
  ids = vocabulary.ids(["dog", "zebra", "dog"], 4)
  assert ids.tolist() == [2, 3, 2, 0]
  table = vocabulary.table()
  assert table.shape == (4, 4)
  np.testing.assert_allclose(np.linalg.norm(table[3]), 3.0, rtol=1e-5)
  assert "not available" in vocabulary.notes["zebra"]
  assert vocabulary.is_trained("dog") and not vocabulary.is_trained("zebra")


def test_a_picture_for_simulated_data_is_a_one_line_error(predictor, tmp_path):
  picture = tmp_path / "cat.png"
  picture.write_bytes(b"\x89PNG not really")
  with pytest.raises(DataError, match="simulated"):
    predictor.answer(str(picture), "What is this?", ["cat", "dog"])
  with pytest.raises(DataError, match="config.json"):
    Predictor.from_workdir(str(tmp_path))


def test_export_reloads_in_a_fresh_process_with_the_same_scores(
    predictor, tiny_data, tmp_path):
  out = bundle.export_bundle(predictor, str(tmp_path / "model"))
  mask = os.umask(0o022)
  os.umask(mask)
  # The directory gets the umask's permissions, not mkdtemp's 0700.
  assert stat.S_IMODE(os.stat(out).st_mode) == 0o777 & ~mask
  assert bundle.check_saved_model(predictor, out) < 1e-5
  assert sorted(os.listdir(out)) == ["answers.json", "classes.json", "config.json",
                                     "meta.json", "model.keras", "saved_model",
                                     "vocab.json"]
  features = np.asarray(tiny_data.feature_store("vqa").regions(
      int(tiny_data.feature_store("vqa").image_ids[1])), np.float32)
  np.save(tmp_path / "regions.npy", features)
  question, words = "What color is the dog?", ["dog", "puppy", "red car"]
  script = (
      "import json, sys, numpy as np\n"
      "from svlr_tf.inference import Predictor\n"
      f"p = Predictor.load({out!r})\n"
      f"r = np.load({str(tmp_path / 'regions.npy')!r})\n"
      f"a = p.answer(r, {question!r})\n"
      f"g = p.recognize(r, {words!r})\n"
      "json.dump({'answers': a.answers, 'scores': a.scores.tolist(),\n"
      "           'attention': a.attention.tolist(),\n"
      "           'objects': g.object_scores.tolist()}, sys.stdout)\n")
  proc = _run(["-c", script], cwd=str(tmp_path))
  assert proc.returncode == 0, proc.stderr[-2000:]
  reloaded = json.loads(proc.stdout.strip().splitlines()[-1])
  answer = predictor.answer(features, question)
  assert reloaded["answers"] == answer.answers
  np.testing.assert_allclose(reloaded["scores"], answer.scores, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(reloaded["attention"], answer.attention, rtol=1e-5,
                             atol=1e-6)
  np.testing.assert_allclose(reloaded["objects"],
                             predictor.recognize(features, words).object_scores,
                             rtol=1e-5, atol=1e-5)
  with pytest.raises(DataError, match="exists already"):
    bundle.export_bundle(predictor, out)
def test_ask_describes_a_world_answer_and_draws_it_on_the_picture(predictor, tiny_data,
                                                                  tmp_path):
  from tools import ask
  from svlr_tf.viz import draw
  image = int(tiny_data.feature_store("vqa").image_ids[0])
  answer = predictor.answer(image, "What color is the dog?")
  recognition = predictor.recognize(answer.regions, ["dog", "puppy"])
  lines = ask.describe(answer, top_regions=2, recognition=recognition)
  assert lines[0] == "question: What color is the dog?"
  assert lines[2].startswith(f"image {image}: ")
  region_lines = [line for line in lines if line.startswith("  region ")]
  assert len(region_lines) == 2 and "box [" in region_lines[0]
  assert any(line.startswith("new word 'puppy'") for line in lines)
  # The world draws its pictures: the attention goes on the picture, boxes outlined.
  assert answer.regions.picture and os.path.isfile(answer.regions.picture)
  out = draw.save_png(ask.attention_figure(answer), str(tmp_path / "a.png"))
  assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_tools_ask_answers_a_world_question_and_writes_a_png(runs, tiny_data, tmp_path):
  image = str(int(tiny_data.feature_store("vqa").image_ids[0]))
  png = tmp_path / "attention.png"
  proc = _run(["-m", "tools.ask", "--workdir", runs["joint_svlr"], "--image", image,
               "--question", "What color is the dog?", "--words", "dog,puppy",
               "--out", str(png)], cwd=str(tmp_path))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "answers:\n  1. " in proc.stdout
  assert "regions with the most attention a(R)" in proc.stdout
  assert "new word 'puppy'" in proc.stdout
  assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  bad = _run(["-m", "tools.ask", "--workdir", str(tmp_path), "--image", image,
              "--question", "What?"], cwd=str(tmp_path))
  assert bad.returncode == 1
  assert bad.stderr.strip().splitlines()[-1].startswith("error: ")
