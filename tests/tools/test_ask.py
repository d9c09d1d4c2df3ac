"""tools.ask: mistakes found before TensorFlow loads, --list_images, --questions,
one-line errors of the Predictor's checks, the question-type line."""

import collections
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

from svlr_tf.runtime.errors import DataError
from tools import _run_data, ask

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Runs tools.ask and reports at exit whether TensorFlow was imported.
_PROBE = ("import atexit, sys\n"
          "atexit.register(lambda: print('tensorflow loaded:', 'tensorflow' in "
          "sys.modules))\n"
          "from tools import ask\n"
          "sys.argv = ['ask'] + sys.argv[1:]\n"
          "ask.define_flags()\n"
          "ask.run_main(ask.main)\n")


def _ask(args, cwd):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  return subprocess.run([sys.executable, "-c", _PROBE] + args, cwd=cwd, env=env,
                        capture_output=True, text=True, timeout=300)


@pytest.fixture()
def fake_run(tiny_world, tmp_path):
  """A directory that looks like a run (config.json, data.json): enough for the
  checks made before the model loads."""
  run = tmp_path / "run"
  run.mkdir()
  (run / "config.json").write_text("{}")
  (run / "data.json").write_text(json.dumps({"data_dir": tiny_world}))
  return str(run)


def _error(proc):
  assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
  lines = proc.stderr.strip().splitlines()
  assert "Traceback" not in proc.stderr
  assert "tensorflow loaded: False" in proc.stdout   # found before TensorFlow
  return lines[-1]


def test_a_wrong_workdir_or_image_is_reported_before_tensorflow_loads(
    fake_run, tmp_path):
  q = ["--question", "What color is the dog?"]
  line = _error(_ask(["--workdir", str(tmp_path / "nope"), "--image", "1"] + q,
                     str(tmp_path)))
  assert line.startswith("error: ") and "nope: no such directory" in line
  line = _error(_ask(["--workdir", str(tmp_path), "--image", "1"] + q, str(tmp_path)))
  assert "neither a run's work directory" in line
  line = _error(_ask(["--workdir", fake_run, "--image", "1004520"] + q, str(tmp_path)))
  assert "image 1004520 is in neither feature store" in line
  assert "--list_images" in line
  line = _error(_ask(["--workdir", fake_run, "--image", "1000000", "--data_dir",
                      str(tmp_path / "gone")] + q, str(tmp_path)))
  assert "gone: the prepared data directory does not exist" in line


def test_empty_questions_and_bad_choices_are_one_line_errors_before_tensorflow(
    fake_run, tmp_path):
  base = ["--workdir", fake_run, "--image", "1000000"]
  cases = {("--question", "   "): "--question: the question is empty",
           ("--question", "What?", "--choices", ",,"): "--choices: choice 1 of 3 is empty",
           ("--question", "What?", "--choices", "red,blue,Red"):
               "--choices: choices 1 and 3 are the same answer ('red', 'Red')"}
  for args, expected in cases.items():
    assert _error(_ask(base + list(args), str(tmp_path))) == f"error: {expected}"


def test_list_images_prints_each_split_with_question_counts(fake_run, tiny_world,
                                                            tmp_path):
  proc = _ask(["--workdir", fake_run, "--list_images"], str(tmp_path))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "tensorflow loaded: False" in proc.stdout
  lines = proc.stdout.splitlines()
  for split in ("train", "heldout", "test"):
    with open(os.path.join(tiny_world, "vqa", f"{split}.jsonl")) as f:
      counts = collections.Counter(json.loads(line)["image_id"] for line in f)
    header = [l for l in lines if l.startswith(f"vqa {split}: ")]
    assert header == [f"vqa {split}: {len(counts)} images, {sum(counts.values())} "
                      f"questions ({os.path.join(tiny_world, 'vqa', split)}.jsonl)"]
    start = lines.index(header[0]) + 1
    listed = {int(l.split()[0]): int(l.split()[1]) for l in lines[start:start + len(counts)]}
    assert listed == dict(counts)
  assert any(l.startswith("genome: 120 images") for l in lines)


def test_a_bad_questions_file_names_its_line_before_tensorflow(fake_run, tmp_path):
  path = tmp_path / "q.jsonl"
  base = ["--workdir", fake_run, "--questions", str(path)]
  cases = {'{"image": 1000000, "question": "Is it red?"}\n{"question": ""}\n':
               "line 2: needs an image (or --image)",
           '{"image": 1000000, "question": ""}\n': "line 1: question: the question is empty",
           '{"image": 1000000, "question": "Why?", "colour": 1}\n':
               "line 1: unknown field(s) ['colour']",
           '{"image": 5, "question": "Why?", "choices": ["a", "a"]}\n':
               "line 1: choices: choices 1 and 2 are the same answer",
           '{"image": 1004520, "question": "Why?"}\n':
               "line 1: /", "not json\n": "line 1: malformed JSON", "": "no questions"}
  for content, expected in cases.items():
    path.write_text(content)
    line = _error(_ask(base, str(tmp_path)))
    assert line.startswith(f"error: {path}") and expected in line, line


def test_the_bundle_format_is_the_one_the_bundle_writes():
  from svlr_tf.inference import bundle
  assert _run_data.BUNDLE_FORMAT == bundle.FORMAT


def _answer(question_type, open_ended, count=19):
  return types.SimpleNamespace(
      question="Why?", question_type=question_type, open_ended=open_ended,
      answers=[f"a{i}" for i in range(count)], scores=np.zeros(count), notes=[],
      scorer="Eq. 7")


def test_the_type_line_does_not_contradict_itself():
  line = ask.type_line(_answer(None, True))
  assert line == ("no training question type starts it; open-ended: the 19 most "
                  "frequent training answers of all types")
  assert "this type" not in line
  assert ask.type_line(_answer("what color is the", True, 8)) == (
      "question type 'what color is the'; open-ended: the 8 training answers of "
      "this type")
  assert ask.type_line(_answer(None, False, 3)).endswith("; 3 choices")


class _Multitask:
  """The Joint Multitask baseline's recognize: class names only."""

  def answer(self, image, question, choices):
    return types.SimpleNamespace(regions=None)

  def recognize(self, regions, words):
    raise ValueError("the Joint Multitask baseline scores class names only: ['puppy']")


def test_a_recognize_error_is_one_line_naming_words():
  one = ask.Ask("1", "What color is the dog?", None, ["dog", "puppy"], None, "")
  with pytest.raises(DataError, match=r"^--words: the Joint Multitask baseline"):
    ask.ask_one(_Multitask(), one)
  one.where = "q.jsonl line 3"
  with pytest.raises(DataError, match=r"^q.jsonl line 3: words: the Joint"):
    ask.ask_one(_Multitask(), one)
