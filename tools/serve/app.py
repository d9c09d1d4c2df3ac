"""The demo page's web application (Flask): the page, its JSON API, the pictures.

    app = create_app(predictor, catalog, title="joint_svlr seed 0")
    app.test_client().post("/api/answer", json={"image": 1000048, "question": "Is it red?"})

Routes (every API answer is JSON; a bad request is a 4xx with ``{"error": one
line}``, never a traceback, and the server keeps serving):

  GET  /                               the page (static/index.html)
  GET  /api/info                       the model, the splits, question types, limits
  GET  /api/images?split=&type=&page=  a page of the split's images
  GET  /api/images/<id>?split=         one image: size, boxes, its dataset questions
  GET  /picture/<id>                   the image's picture file
  POST /api/answer     {"image", "question", "choices"?, "question_id"?, "split"?}
  POST /api/recognize  {"image", "words": "dog, red car" or [...]}
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import List, Optional

import flask
from werkzeug import exceptions

from svlr_tf.runtime.errors import DataError
from tools.serve import views

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
# Longer input is refused with a 4xx before it reaches the model (a question of
# the datasets has at most ~25 words).
LIMITS = {"question_chars": 500, "choices": 100, "choice_chars": 100, "words": 20,
          "word_chars": 60, "request_bytes": 64 * 1024, "per_page": 200}
log = logging.getLogger("svlr_tf.serve")


class BadRequest(exceptions.BadRequest):
  """A 400 whose description is the one line the page shows."""


def create_app(predictor, catalog, title: str = "") -> flask.Flask:
  """The Flask app answering with ``predictor`` (a ``Predictor``) about the
  images of ``catalog`` (a ``Catalog``). The model is used by one request at a
  time (its open vocabulary grows as new words arrive)."""
  app = flask.Flask("svlr_tf.serve", static_folder=STATIC, static_url_path="/static")
  app.config["MAX_CONTENT_LENGTH"] = LIMITS["request_bytes"]
  app.json.sort_keys = False
  model_lock = threading.Lock()
  app.extensions["svlr_timings"] = timings = []

  @app.errorhandler(exceptions.HTTPException)
  def http_error(err):
    message = err.description if isinstance(err, BadRequest) else _http_message(err)
    return flask.jsonify(error=message, status=err.code), err.code

  @app.errorhandler(Exception)
  def internal_error(err):  # a bug: logged with its traceback, one line to the page
    log.exception("error in %s %s", flask.request.method, flask.request.path)
    return flask.jsonify(error=f"internal error ({type(err).__name__}); the server "
                         "log has the details", status=500), 500

  @app.get("/")
  def index():
    return flask.send_from_directory(STATIC, "index.html")

  @app.get("/api/info")
  def info():
    split = catalog.default_split
    return flask.jsonify(
        title=title, experiment=predictor.config.name,
        scorer="Eq. 7" if predictor.config.uses_vqa else "Eq. 9 (zero-shot)",
        open_vocabulary=not predictor.model.model_config.multitask,
        splits=catalog.splits, default_split=split,
        question_types={s: catalog.question_types(s) for s in catalog.splits},
        limits=LIMITS)

  @app.get("/api/images")
  def images():
    split = _split(flask.request.args.get("split"))
    question_type = flask.request.args.get("type", "")
    page = _int(flask.request.args.get("page", "0"), "page", 0, 10 ** 9)
    per_page = _int(flask.request.args.get("per_page", "48"), "per_page", 1,
                    LIMITS["per_page"])
    known = {t for t, _ in catalog.question_types(split)}
    if question_type and question_type not in known:
      raise BadRequest(f"unknown question type {question_type[:80]!r} in the {split} "
                       "split")
    return flask.jsonify(catalog.page(split, question_type, page, per_page))

  @app.get("/api/images/<image_id>")
  def image(image_id):
    image_id = _image_id(image_id)
    split = flask.request.args.get("split") or catalog.split_of(image_id)
    questions = []
    if split:
      split = _split(split)
      try:
        questions = catalog.questions(split, image_id)
      except KeyError:
        questions = []
    with model_lock:
      regions = predictor.regions(image_id)
    return flask.jsonify(views.image_view(image_id, split, regions, questions,
                                          catalog.picture(image_id) is not None))

  @app.get("/picture/<image_id>")
  def picture(image_id):
    path = catalog.picture(_image_id(image_id, check_data=False))
    if path is None:
      flask.abort(404, f"image {image_id} has no picture in this data")
    return flask.send_file(path, max_age=3600)

  @app.post("/api/answer")
  def answer():
    body = _json_body()
    image_id = _image_id(body.get("image"))
    question = _text(body.get("question"), "question", LIMITS["question_chars"])
    record = _dataset_question(body, image_id, question)
    choices = body.get("choices")
    if choices is not None:
      choices = _texts(choices, "choices", LIMITS["choices"], LIMITS["choice_chars"])
    elif body.get("multiple_choice") and record is not None and record.get("choices"):
      choices = list(record["choices"])
    start = time.perf_counter()
    with model_lock:
      try:
        result = predictor.answer(image_id, question, choices)
      except DataError:  # the data is at fault, not the request: a 500
        raise
      except ValueError as err:
        raise BadRequest(_one_line(err)) from None
    seconds = time.perf_counter() - start
    timings.append(seconds)
    return flask.jsonify(views.answer_view(result, record, seconds))

  @app.post("/api/recognize")
  def recognize():
    body = _json_body()
    image_id = _image_id(body.get("image"))
    words = body.get("words")
    if isinstance(words, str):
      words = [w.strip() for w in words.split(",") if w.strip()]
    words = _texts(words, "words", LIMITS["words"], LIMITS["word_chars"])
    with model_lock:
      try:
        result = predictor.recognize(image_id, words)
      except DataError:  # the data is at fault, not the request: a 500
        raise
      except ValueError as err:
        raise BadRequest(_one_line(err)) from None
    return flask.jsonify(views.recognition_view(result))

  def _split(split: Optional[str]) -> str:
    split = split or catalog.default_split
    if split not in catalog.splits:
      raise BadRequest(f"unknown split {str(split)[:40]!r}; this data has "
                       f"{', '.join(catalog.splits) or 'no questions'}")
    return split

  def _image_id(value, check_data: bool = True) -> int:
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
      raise BadRequest(f"the image must be an image id (digits), not "
                       f"{text[:40]!r}" if text else "no image given")
    image_id = int(text)
    if check_data and not predictor.has_image(image_id):
      flask.abort(404, f"image {image_id} is not in this data (neither the VQA nor "
                  "the Genome features)")
    return image_id

  def _dataset_question(body: dict, image_id: int, question: str) -> Optional[dict]:
    """The dataset record of the question asked (its true answer), if it is one."""
    qid = body.get("question_id")
    if qid is not None:
      split = _split(body.get("split"))
      record = catalog.question(split, _int(str(qid), "question_id", 0, 10 ** 18))
      if record is None or int(record["image_id"]) != image_id:
        raise BadRequest(f"question {qid} is not a {split} question of image "
                         f"{image_id}")
      if " ".join(record["question"].split()) == " ".join(question.split()):
        return record
    return catalog.find_question(image_id, question)

  return app


def _http_message(err: exceptions.HTTPException) -> str:
  if isinstance(err, exceptions.RequestEntityTooLarge):
    return (f"the request is larger than {LIMITS['request_bytes'] // 1024} KiB; "
            "questions are short")
  if isinstance(err, exceptions.NotFound) and err.description.startswith("The "):
    return f"no such page: {flask.request.path[:100]}"
  if isinstance(err, exceptions.MethodNotAllowed):
    return f"{flask.request.method} is not allowed on {flask.request.path[:100]}"
  return " ".join(str(err.description).split())


def _json_body() -> dict:
  raw = flask.request.get_data(cache=False)
  try:
    text = raw.decode("utf-8")
  except UnicodeDecodeError as err:
    raise BadRequest(f"the request is not UTF-8 text (byte {err.start}); send the "
                     "question as UTF-8 JSON") from None
  try:
    body = json.loads(text) if text.strip() else None
  except json.JSONDecodeError as err:
    raise BadRequest(f"the request is not JSON ({err.msg} at column {err.colno})") from None
  if not isinstance(body, dict):
    raise BadRequest("the request must be a JSON object such as "
                     '{"image": 1000000, "question": "What color is the dog?"}')
  return body


def _text(value, name: str, limit: int) -> str:
  if not isinstance(value, str):
    raise BadRequest(f"no {name} given" if value is None else
                     f"the {name} must be text, not {type(value).__name__}")
  if not value.strip():
    raise BadRequest(f"the {name} is empty")
  if len(value) > limit:
    raise BadRequest(f"the {name} has {len(value)} characters; at most {limit} are "
                     "accepted")
  return value


def _texts(values, name: str, count: int, chars: int) -> List[str]:
  if not isinstance(values, list) or not values:
    raise BadRequest(f"no {name} given" if not values else
                     f"{name} must be a list of strings")
  if len(values) > count:
    raise BadRequest(f"{len(values)} {name}; at most {count} are accepted")
  return [_text(v, f"{name[:-1] if name.endswith('s') else name} {i}", chars)
          for i, v in enumerate(values, 1)]


def _int(text: str, name: str, low: int, high: int) -> int:
  text = str(text).strip()
  if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
    raise BadRequest(f"{name} must be a whole number from {low} to {high}, not "
                     f"{text[:20]!r}")
  return int(text)


def _one_line(err: Exception) -> str:
  return " ".join(str(err).split())
