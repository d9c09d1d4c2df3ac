"""Tests for tools/evaluate_vqa.py, run as a subprocess on files written here."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _write_inputs(tmp_path):
  questions = {"questions": [
      {"question_id": 10, "image_id": 1, "question": "What color is the car?"},
      {"question_id": 11, "image_id": 1, "question": "How many cars are there?"},
  ]}

  def ann(qid, qtype, atype, answers):
    return {"question_id": qid, "image_id": 1, "question_type": qtype,
            "answer_type": atype,
            "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": i}
                        for i, a in enumerate(answers, 1)]}

  annotations = {"annotations": [
      ann(10, "what color is the", "other", ["red"] * 10),
      ann(11, "how many", "number", ["2"] * 2 + ["3"] * 8),
  ]}
  results = [{"question_id": 10, "answer": "red"},
             {"question_id": 11, "answer": "Two"}]
  paths = {}
  for name, obj in (("questions", questions), ("annotations", annotations),
                    ("results", results)):
    paths[name] = tmp_path / f"{name}.json"
    paths[name].write_text(json.dumps(obj))
  return paths


def _run(*args):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  return subprocess.run([sys.executable, "-m", "tools.evaluate_vqa", *args],
                        cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=120)


def _flags(paths):
  return [f"--{name}={path}" for name, path in paths.items()]


def test_cli_prints_and_writes_accuracy(tmp_path):
  paths = _write_inputs(tmp_path)
  output = tmp_path / "out" / "accuracy.json"
  proc = _run(*_flags(paths), f"--out={output}")
  assert proc.returncode == 0, proc.stderr
  # question 10: 1.0; question 11: "Two" -> "2", 2 matches -> 0.6
  assert "Overall accuracy: 80.00  (2 questions)" in proc.stdout
  assert any(line.split() == ["how", "many", "60.00", "1"]
             for line in proc.stdout.splitlines())
  assert any(line.split() == ["other", "100.00", "1"]
             for line in proc.stdout.splitlines())
  report = json.loads(output.read_text())
  assert report["overall"] == 80.0
  assert report["per_question_type"] == {"how many": 60.0,
                                         "what color is the": 100.0}
  assert report["per_answer_type"] == {"number": 60.0, "other": 100.0}
  assert report["num_questions"] == 2
  assert [p.name for p in output.parent.iterdir()] == ["accuracy.json"]


def test_cli_malformed_file_exits_1_with_one_line(tmp_path):
  paths = _write_inputs(tmp_path)
  paths["results"].write_text('[{"question_id": 10, "answer": ')
  output = tmp_path / "accuracy.json"
  proc = _run(*_flags(paths), f"--output={output}")
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1, proc.stderr
  assert str(paths["results"]) in lines[0] and "malformed JSON" in lines[0]
  assert "Traceback" not in proc.stderr
  assert not output.exists()


def test_cli_bad_results_exit_1(tmp_path):
  paths = _write_inputs(tmp_path)
  paths["results"].write_text(json.dumps([{"question_id": 10, "answer": "red"}]))
  proc = _run(*_flags(paths))
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines() == [
      f"error: {paths['results']}: no result for 1 of 2 questions "
      "(e.g. question_id 11); pass allow_missing to evaluate a subset"]
  proc = _run(*_flags(paths), "--allow_missing")
  assert proc.returncode == 0, proc.stderr
  assert "Overall accuracy: 100.00  (1 questions, 1 without result skipped)" \
      in proc.stdout
