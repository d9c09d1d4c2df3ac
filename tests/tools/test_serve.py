"""tools.serve: the demo page's API with the WSGI test client (answers, true
answers, word scores, every bad request a 4xx and the server still serving), and
a real headless Chromium that loads the page, asks and sees the answer and picture."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from svlr_tf.inference import Predictor
from tools import _run_data
from tools.serve import browser
from tools.serve.app import LIMITS, create_app
from tools.serve.catalog import Catalog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def predictor(tiny_joint_svlr_run):
  return Predictor.from_workdir(tiny_joint_svlr_run)


@pytest.fixture(scope="module")
def catalog(predictor, tiny_world):
  return Catalog(tiny_world, predictor.boxes("vqa"))


@pytest.fixture(scope="module")
def client(predictor, catalog):
  return create_app(predictor, catalog, title="tiny").test_client()


def _test_questions(tiny_world):
  return _run_data.read_questions(tiny_world, "test")


def test_the_page_lists_the_test_images_filtered_by_question_type(client, tiny_world):
  info = client.get("/api/info").get_json()
  assert info["experiment"] == "joint_svlr" and info["scorer"] == "Eq. 7"
  assert info["splits"] == ["train", "heldout", "test"]
  assert info["default_split"] == "test"
  questions = _test_questions(tiny_world)
  page = client.get("/api/images?per_page=200").get_json()
  assert page["total"] == len({q["image_id"] for q in questions})
  assert [i["id"] for i in page["images"]] == list(dict.fromkeys(
      q["image_id"] for q in questions))
  qtype, images = info["question_types"]["test"][0]
  typed = client.get(f"/api/images?type={qtype}&per_page=200").get_json()
  assert typed["total"] == images == len({q["image_id"] for q in questions
                                         if q["question_type"] == qtype})
  second = client.get("/api/images?per_page=5&page=1").get_json()["images"]
  assert [i["id"] for i in second] == [i["id"] for i in page["images"][5:10]]
  picture = client.get(f"/picture/{page['images'][0]['id']}")
  assert picture.status_code == 200 and picture.data[:8] == b"\x89PNG\r\n\x1a\n"
  index = client.get("/")
  assert index.status_code == 200 and b"/static/app.js" in index.data
  assert client.get("/static/app.js").status_code == 200


def test_a_dataset_question_is_answered_with_its_true_answer_marked(
    client, predictor, tiny_world):
  record = _test_questions(tiny_world)[0]
  image = client.get(f"/api/images/{record['image_id']}").get_json()
  assert image["split"] == "test" and image["picture"]
  assert len(image["boxes"]) == image["regions"] == 6
  assert record["question"] in [q["question"] for q in image["questions"]]
  body = {"image": record["image_id"], "question": record["question"],
          "question_id": record["question_id"], "split": "test"}
  reply = client.post("/api/answer", json=body).get_json()
  expected = predictor.answer(record["image_id"], record["question"])
  assert [a["answer"] for a in reply["answers"]] == expected.answers[:10]
  np.testing.assert_allclose([a["score"] for a in reply["answers"]],
                             expected.scores[:10], atol=1e-4)
  np.testing.assert_allclose(reply["attention"][0], expected.attention[0], atol=1e-4)
  assert reply["true_answer"] == record["answer"]
  marked = [a["answer"] for a in reply["answers"] if a["true"]]
  if record["answer"] in expected.answers[:10]:
    assert marked == [record["answer"]]
    assert reply["true_rank"] == expected.answers.index(record["answer"]) + 1
  # Typed again by hand, the same text still finds its true answer.
  typed = client.post("/api/answer", json={"image": record["image_id"],
                                          "question": record["question"]}).get_json()
  assert typed["true_answer"] == record["answer"]
  # The dataset's multiple choices when asked for.
  mc = client.post("/api/answer", json=dict(body, multiple_choice=True)).get_json()
  assert mc["candidates"] == len(record["choices"]) and not mc["open_ended"]
  assert sum(a["true"] for a in mc["answers"]) <= 1
  other = client.post("/api/answer", json={"image": record["image_id"],
                                          "question": "Is it made of wood?"}).get_json()
  assert other["true_answer"] is None and not any(a["true"] for a in other["answers"])


def test_typed_words_are_scored_on_every_region(client, predictor, tiny_world):
  image = _test_questions(tiny_world)[0]["image_id"]
  reply = client.post("/api/recognize",
                      json={"image": image, "words": "dog, puppy, red car"}).get_json()
  expected = predictor.recognize(image, ["dog", "puppy", "red car"])
  assert reply["words"] == ["dog", "puppy", "red car"]
  assert reply["classes"] == [True, False, False]
  np.testing.assert_allclose(reply["object_scores"], expected.object_scores, atol=1e-4)
  np.testing.assert_allclose(reply["attribute_scores"], expected.attribute_scores,
                             atol=1e-4)
  assert "puppy" in reply["new_words"] and len(reply["boxes"]) == 6


def _bad_requests(image):
  post = lambda body, path="/api/answer": ("POST", path, body)  # noqa: E731
  q = "What color is the dog?"
  return [
      (post({"image": 999999999, "question": q}), 404, "image 999999999 is not in this data"),
      (post({"image": "12ab", "question": q}), 400, "must be an image id"),
      (post({"question": q}), 400, "no image given"),
      (post({"image": image, "question": ""}), 400, "the question is empty"),
      (post({"image": image, "question": " \t "}), 400, "the question is empty"),
      (post({"image": image, "question": "?!"}), 400, "has no words"),
      (post({"image": image, "question": "a" * 10000}), 400,
       f"the question has 10000 characters; at most {LIMITS['question_chars']}"),
      (post({"image": image, "question": q, "choices": ["", "", ""]}), 400, "empty"),
      (post({"image": image, "question": q, "choices": ["red", "Red"]}), 400,
       "the same answer"),
      (post({"image": image, "question": q, "choices": "red"}), 400, "list of strings"),
      (post({"image": image, "question": 7}), 400, "must be text"),
      (post({"image": image, "question": q, "question_id": 1, "split": "test"}), 400,
       "is not a test question of image"),
      (post(b'{"image": 1, "question": "\xff\xfe"}'), 400, "not UTF-8"),
      (post(b'{"image": 1, "question": '), 400, "not JSON"),
      (post(b'[1, 2]'), 400, "must be a JSON object"),
      (post(b'{"image": 1, "question": "' + b"a" * (70 * 1024) + b'"}'), 413,
       "larger than 64 KiB"),
      (post({"image": image, "words": ""}, "/api/recognize"), 400, "no words given"),
      (post({"image": image, "words": ["dog"] * 50}, "/api/recognize"), 400,
       "at most 20"),
      (post({"image": image, "words": ["dog", "?"]}, "/api/recognize"), 400,
       "has no letters"),
      (("GET", "/api/images?split=nope", None), 400, "unknown split 'nope'"),
      (("GET", "/api/images?split=%FF%FE", None), 400, "unknown split"),
      (("GET", "/api/images?type=why%20not", None), 400, "unknown question type"),
      (("GET", "/api/images?page=-1", None), 400, "page must be a whole number"),
      (("GET", "/api/images?per_page=100000", None), 400, "per_page must be"),
      (("GET", "/api/images/1e9", None), 400, "must be an image id"),
      (("GET", "/api/images/123456789", None), 404, "not in this data"),
      (("GET", "/picture/123456789", None), 404, "has no picture"),
      (("GET", "/api/answer", None), 405, "GET is not allowed"),
      (("GET", "/nowhere", None), 404, "no such page: /nowhere"),
  ]


def test_bad_requests_get_a_4xx_with_one_line_and_the_server_keeps_serving(
    client, tiny_world):
  image = _test_questions(tiny_world)[0]["image_id"]
  for (method, path, body), status, message in _bad_requests(image):
    if isinstance(body, bytes):
      reply = client.open(path, method=method, data=body,
                          content_type="application/json")
    else:
      reply = client.open(path, method=method, json=body)
    assert reply.status_code == status, (path, body, reply.data[:300])
    error = reply.get_json()["error"]
    assert message in error, (path, error)
    assert "\n" not in error and "Traceback" not in reply.get_data(as_text=True)
  ok = client.post("/api/answer", json={"image": image, "question": "What is it?"})
  assert ok.status_code == 200 and ok.get_json()["answers"]


def test_a_bug_is_a_500_without_traceback_and_the_next_request_is_answered(
    predictor, catalog, tiny_world, monkeypatch, caplog):
  client = create_app(predictor, catalog).test_client()
  image = _test_questions(tiny_world)[0]["image_id"]

  def broken(*args, **kwargs):
    raise RuntimeError("a bug")

  monkeypatch.setattr(predictor, "answer", broken)
  reply = client.post("/api/answer", json={"image": image, "question": "Why?"})
  assert reply.status_code == 500
  assert reply.get_json()["error"].startswith("internal error (RuntimeError)")
  assert "Traceback" not in reply.get_data(as_text=True)
  assert "a bug" in caplog.text   # the log keeps the details
  monkeypatch.undo()
  assert client.post("/api/answer", json={"image": image,
                                         "question": "Why?"}).status_code == 200


def _start_server(workdir, cwd):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  proc = subprocess.Popen([sys.executable, "-m", "tools.serve", "--workdir", workdir,
                           "--port", "0", "--time_questions", "3"], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  lines = []
  deadline = time.monotonic() + 300
  while time.monotonic() < deadline:
    line = proc.stdout.readline()
    if not line:
      break
    lines.append(line)
    if line.startswith("serving http://"):
      return proc, line.split()[1], lines
  proc.kill()
  raise AssertionError("the server did not start:\n" + "".join(lines)[-3000:])


@pytest.mark.slow
@pytest.mark.skipif(browser.find_chromium() is None, reason="no chromium installed")
def test_a_browser_loads_the_page_asks_and_sees_the_answer_and_the_picture(
    tiny_joint_svlr_run, predictor, tiny_world, tmp_path):
  proc, url, lines = _start_server(tiny_joint_svlr_run, str(tmp_path))
  try:
    assert url.startswith("http://127.0.0.1:")
    assert any("questions in" in line and "s each (median" in line for line in lines)
    record = _test_questions(tiny_world)[0]
    with browser.Browser() as page:
      page.open(url)
      page.wait_for("document.querySelectorAll('.thumb img').length > 0")
      page.wait_for("[...document.querySelectorAll('.thumb img')].every("
                    "i => i.complete && i.naturalWidth > 0)")
      page.click(f".thumb[data-id='{record['image_id']}']")
      page.wait_for(f"document.querySelector('#image-title').textContent"
                    f".includes('{record['image_id']}')")
      page.wait_for("document.querySelector('#picture').complete && "
                    "document.querySelector('#picture').naturalWidth > 0")
      page.type_text("#question", record["question"])
      page.click("#ask-button")
      page.wait_for("document.querySelector('#ranked') !== null")
      best = page.evaluate("document.querySelector('#ranked tr.answer td:nth-child(2)')"
                           ".firstChild.textContent")
      assert best == predictor.answer(record["image_id"], record["question"]).best
      summary = page.evaluate("document.querySelector('#answers').innerText")
      assert f"true answer: {record['answer']}" in summary
      # The attention picture: the picture and one box per region over it.
      assert page.evaluate("document.querySelectorAll('#overlay rect').length") == 6
      assert page.evaluate("document.querySelector('#caption').textContent").startswith(
          "Where the model looks for")
      page.type_text("#words", "dog, puppy")
      page.click("#words-form button")
      page.wait_for("document.querySelectorAll('#words-result tr.word').length === 2")
      bad = "a" * 600
      page.evaluate(f"document.querySelector('#question').removeAttribute('maxlength')")
      page.type_text("#question", bad)
      page.click("#ask-button")
      error = page.wait_for("!document.querySelector('#error').hidden && "
                            "document.querySelector('#error').textContent")
      assert "at most 500" in error
      png = page.screenshot(str(tmp_path / "page.png"))
      assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000
  finally:
    proc.terminate()
    proc.wait(timeout=30)


def test_a_wrong_workdir_stops_the_server_with_one_line_before_tensorflow(tmp_path):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, "-m", "tools.serve", "--workdir",
                         str(tmp_path / "nope"), "--port", "0"], cwd=str(tmp_path),
                        env=env, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 1 and "Traceback" not in proc.stderr
  assert proc.stderr.strip().splitlines()[-1] == (
      f"error: {tmp_path / 'nope'}: no such directory (give a run's work directory "
      "or a bundle of tools.export)")
