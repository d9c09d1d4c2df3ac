r"""A local web page that keeps a trained model loaded: browse, ask, see where it looks.

    python -m tools.serve --workdir runs/table1/seed0/joint_svlr [--port 8000]
    python -m tools.serve --workdir model_dir --data_dir runs/data/world-default

``--workdir`` is a run's work directory or a bundle of ``tools.export`` (a bundle
needs ``--data_dir``: the images come from prepared data). The page lists the
data's VQA images (thumbnails of their pictures, filtered by question type), shows
an image's dataset questions with their true answers, ranks the answers of a
picked or typed question (the true answer marked) with the attention a(R) of
Eq. 4 drawn over the picture, and scores any typed words on every region
(open-vocabulary recognition, Sec. 3.2.1). docs/inference.md describes it.

Served by Flask (the page and its JSON API: routing, JSON, static files, the WSGI
test client the tests use; a small, long-maintained library) under waitress, a
production WSGI server in pure Python (threads, request limits, no C build, runs
wherever Python does). The standard library's http.server is a development
server. The server binds 127.0.0.1 unless --host says otherwise: the page runs a
model on request and is meant for one user's machine.
"""

from __future__ import annotations

import random
import statistics
import time

from absl import flags

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.entry_points import quiet_tensorflow
from tools import _run_data
from tools._common import run_main

FLAGS = flags.FLAGS


def load(workdir: str, data_dir=None, word_vectors=None):
  """(predictor, catalog) of a run or a bundle; the paths are checked before
  TensorFlow loads."""
  source = _run_data.find_source(workdir, data_dir)
  if source.data_dir is None:
    raise DataError(workdir, "a bundle has no images of its own: give the prepared "
                    "data with --data_dir")
  if not _run_data.vqa_splits(source.data_dir):
    raise DataError(source.data_dir, "has no VQA questions (vqa/<split>.jsonl) to "
                    "browse")
  quiet_tensorflow()
  from tools.ask import load_predictor  # pylint: disable=import-outside-toplevel
  from tools.serve.catalog import Catalog  # pylint: disable=import-outside-toplevel
  predictor = load_predictor(source.workdir, source.data_dir, word_vectors)
  return predictor, Catalog(source.data_dir, predictor.boxes("vqa"))


def time_questions(predictor, catalog, count: int = 20, seed: int = 0) -> list:
  """Seconds to answer ``count`` random dataset questions of the default split
  (open-ended, as the page asks a typed question), after one warm-up answer."""
  split = catalog.default_split
  questions = catalog.all_questions(split)
  chosen = random.Random(seed).sample(questions, min(count + 1, len(questions)))
  predictor.vocabulary.pretrained  # pylint: disable=pointless-statement  (loaded once, for new words)
  seconds = []
  for q in chosen:
    start = time.perf_counter()
    predictor.answer(int(q["image_id"]), q["question"])
    seconds.append(time.perf_counter() - start)
  return seconds[1:]  # the first one builds the model's functions


def main(argv):
  del argv
  import waitress  # pylint: disable=import-outside-toplevel
  from tools.serve.app import create_app  # pylint: disable=import-outside-toplevel
  start = time.perf_counter()
  predictor, catalog = load(FLAGS.workdir, FLAGS.data_dir, FLAGS.word_vectors)
  for note in predictor.notes:
    print(f"note: {note}")
  seconds = time_questions(predictor, catalog, FLAGS.time_questions)
  if seconds:
    print(f"loaded in {time.perf_counter() - start:.0f} s; answered "
          f"{len(seconds)} {catalog.default_split} questions in "
          f"{statistics.median(seconds):.3f} s each (median; max {max(seconds):.3f} s)",
          flush=True)
  title = f"{predictor.config.name} ({FLAGS.workdir})"
  app = create_app(predictor, catalog, title=title)
  server = waitress.create_server(app, host=FLAGS.host, port=FLAGS.port,
                                  threads=FLAGS.threads, ident="svlr_tf")
  print(f"serving http://{FLAGS.host}:{server.effective_port}/ (Ctrl-C stops)",
        flush=True)
  try:
    server.run()
  except KeyboardInterrupt:
    pass
  finally:
    server.close()


def define_flags() -> None:
  flags.DEFINE_string("workdir", None, "A run's work directory, or an export bundle.")
  flags.DEFINE_string("data_dir", None, "The prepared data (default: the run's, in "
                      "data.json; required with a bundle).")
  flags.DEFINE_string("word_vectors", None, "Pretrained vectors for new words "
                      "(default: the ones named in the data's meta.json).")
  flags.DEFINE_string("host", "127.0.0.1", "Address to listen on (127.0.0.1: this "
                      "machine only).")
  flags.DEFINE_integer("port", 8000, "Port (0: any free port; the line 'serving "
                       "http://...' says which).")
  flags.DEFINE_integer("threads", 4, "waitress worker threads (the model answers "
                       "one request at a time; pictures are served in parallel).")
  flags.DEFINE_integer("time_questions", 20, "Dataset questions answered at start "
                       "to measure and print the time per question (0: none).")
  flags.mark_flags_as_required(["workdir"])


if __name__ == "__main__":
  define_flags()
  run_main(main)
