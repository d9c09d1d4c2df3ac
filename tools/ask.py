r"""Ask a trained model a question about an image; see where it looked.

    python -m tools.ask --workdir runs/table1/seed0/joint_svlr --image 1000000 \
        --question "What color is the dog?" [--choices brown,white,black] \
        [--words dog,puppy,red] [--out attention.png]
    python -m tools.ask --workdir RUN --questions questions.jsonl   # many, one load
    python -m tools.ask --workdir RUN --list_images                 # the valid ids

``--workdir`` is a run's work directory or a bundle of ``tools.export``.
``--image`` is an image id of the run's prepared data, or (real data) a picture
file: Edge Boxes proposals (``--edge_model``, ``--max_boxes``) and the ResNet
features (``--backbone``, ``--weights``) of the real-data tools are computed for
it, as ``tools.propose_regions`` and ``tools.extract_features`` do for a dataset.
Without ``--choices`` the candidates are the training answers of the question's
type (open-ended). Prints the ranked answers, the regions with the most
attention a(R) and their best object and attribute words, the scores of
``--words`` (any words, classes or not) on those regions, and every word the
training vocabulary lacked with how it was handled; ``--out`` writes the
attention picture (PNG).

``--questions FILE`` asks every line of a JSON-lines file in one process (the
model loads once): ``{"image": 1000000, "question": "...", "choices": [...],
"words": [...], "out": "a.png"}``, all but ``question`` optional (``image``
defaults to ``--image``). ``--list_images`` prints the image ids of the data, per
split, with their question counts. The --workdir, its data, the image ids and
the questions are checked before TensorFlow and the model load (a mistake costs
a second, not a minute); for a web page that keeps the model loaded, see
``python -m tools.serve``.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import List, Optional

import numpy as np
from absl import flags

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.entry_points import quiet_tensorflow
from tools import _run_data
from tools._common import run_main

FLAGS = flags.FLAGS


def picture_regions(max_boxes: int = 100, edge_model: Optional[str] = None,
                    backbone: str = "resnet50", weights: str = "imagenet",
                    crop_size: int = 224):
  """A ``Predictor`` ``picture_regions``: path -> Regions via Edge Boxes + ResNet.

  The same steps as the real-data tools (``tools.propose_regions``: Edge Boxes,
  the whole-image box added when short; ``tools.extract_features``: crops resized
  to ``crop_size``, the ResNet's average pool). The backbone is built on first use.
  """
  from svlr_tf.inference import Regions  # pylint: disable=import-outside-toplevel
  from tools._common import read_image  # pylint: disable=import-outside-toplevel
  from tools.extract_features import (  # pylint: disable=import-outside-toplevel
      RegionFeatureExtractor, crop_regions)
  from tools.propose_regions import (  # pylint: disable=import-outside-toplevel
      EdgeBoxProposer, pad_boxes)
  proposer = EdgeBoxProposer(max_boxes, edge_model)
  extractor = []

  def regions(path: str) -> Regions:
    image = read_image(path)
    height, width = image.shape[:2]
    boxes = pad_boxes(proposer.propose(image), width, height, max_boxes, "mask")
    if not extractor:
      extractor.append(RegionFeatureExtractor(backbone, weights, crop_size=crop_size))
    features = extractor[0](crop_regions(image, boxes, crop_size))
    return Regions(features, np.ones(len(boxes), bool),
                   boxes=np.asarray(boxes, np.float32), picture=path,
                   image_size=(width, height))

  return regions


def load_predictor(path: str, data_dir: Optional[str] = None,
                   word_vectors: Optional[str] = None, picture=None):
  """``Predictor.load`` for a bundle, ``Predictor.from_workdir`` for a run."""
  import os  # pylint: disable=import-outside-toplevel
  from svlr_tf.inference import Predictor  # pylint: disable=import-outside-toplevel
  from svlr_tf.inference.bundle import FORMAT  # pylint: disable=import-outside-toplevel
  from svlr_tf.runtime.files import read_json  # pylint: disable=import-outside-toplevel
  meta = os.path.join(path, "meta.json")
  if os.path.isfile(meta) and read_json(meta).get("format") == FORMAT:
    return Predictor.load(path, word_vectors=word_vectors, picture_regions=picture,
                          data_dir=data_dir)
  return Predictor.from_workdir(path, data_dir=data_dir, word_vectors=word_vectors,
                                picture_regions=picture)


def describe(answer, top_answers: int = 5, top_regions: int = 3,
             recognition=None) -> List[str]:
  """The lines ``tools.ask`` prints for an ``Answer`` (and a ``Recognition``)."""
  regions = answer.regions
  source = (f"image {regions.image_id}" if regions.image_id is not None else
            f"picture {regions.picture}" if regions.picture else "regions")
  lines = [f"question: {answer.question}",
           f"  {type_line(answer)}; scored by {answer.scorer}"]
  lines += [f"note: {note}" for note in answer.notes]
  lines += [f"{source}: {int(regions.mask.sum())} regions", "answers:"]
  width = max(len(a) for a in answer.answers[:top_answers])
  for rank, (a, s) in enumerate(zip(answer.answers[:top_answers], answer.scores), 1):
    lines.append(f"  {rank}. {a:<{width}}  {s:8.4f}")
  words = answer.region_words
  lines.append(f"regions with the most attention a(R) for {answer.best!r}:")
  for k in answer.top_regions(top_regions):
    box = ("" if regions.boxes is None else
           "  box [" + ", ".join(f"{v:.0f}" for v in regions.boxes[k]) + "]")
    lines.append(f"  region {k:>3}  a(R) {answer.attention[0, k]:.3f}  object "
                 f"{words.objects[k]} ({words.object_scores[k]:.2f}), attribute "
                 f"{words.attributes[k]} ({words.attribute_scores[k]:.2f}){box}")
    if recognition is not None:
      for kind_name in ("object", "attribute"):
        ranked = ", ".join(f"{w} {s:.2f}" for w, s in recognition.ranked(k, kind_name))
        lines.append(f"      {kind_name} scores of the words: {ranked}")
  new_words = dict(answer.new_words)
  if recognition is not None:
    new_words.update(recognition.new_words)
  for word, how in new_words.items():
    lines.append(f"new word {word!r}: {how}")
  return lines


def type_line(answer) -> str:
  """Which question type the question starts with and what was ranked."""
  count = len(answer.answers)
  if answer.question_type:
    kind = (f"open-ended: the {count} training answers of this type"
            if answer.open_ended else f"{count} choices")
    return f"question type {answer.question_type!r}; {kind}"
  kind = (f"open-ended: the {count} most frequent training answers of all types"
          if answer.open_ended else f"{count} choices")
  return f"no training question type starts it; {kind}"


def attention_figure(answer, picture: Optional[np.ndarray] = None, top_answers: int = 5):
  """The attention picture: regions shaded by a(R) on the picture (``picture``
  RGB, else the regions' picture file, else a grey canvas) when the regions have
  boxes, else a heat map of a(R) (answers x regions)."""
  from svlr_tf.viz import draw  # pylint: disable=import-outside-toplevel
  regions = answer.regions
  title = f"{answer.question}\n-> {answer.best} ({answer.scorer})"
  if regions.boxes is not None:
    if picture is None and regions.picture:
      import cv2  # pylint: disable=import-outside-toplevel
      from tools._common import read_image  # pylint: disable=import-outside-toplevel
      picture = cv2.cvtColor(read_image(regions.picture), cv2.COLOR_BGR2RGB)
    fig = draw.new_figure(1, 1, panel_size=(6.0, 5.0))
    size = regions.image_size if regions.image_size[0] else (640, 480)
    draw.attention_panel(fig.axes[0], picture, regions.boxes, answer.attention[0],
                         top_k=3, title=title, image_size=size)
    return fig
  count = min(top_answers, len(answer.answers))
  words = answer.region_words
  columns = [f"{k}: {words.attributes[k]} {words.objects[k]}"
             for k in range(len(regions))]
  fig = draw.new_figure(1, 1, panel_size=(1.0 + 0.9 * len(columns), 1.2 + 0.4 * count))
  ax = fig.axes[0]
  values = np.where(regions.mask[None], answer.attention[:count], np.nan)
  draw.heat_map(ax, values, answer.answers[:count], columns,
                cell_text=[[f"{v:.2f}" for v in row] for row in values],
                colorbar_label="a(R), Eq. 4", title=title,
                xlabel="region: best attribute and object class",
                ylabel="answer (ranked)")
  ax.tick_params(axis="x", labelrotation=45)
  return fig



def main(argv):
  del argv
  source = check_flags()  # a wrong --workdir, --image or --questions: before TensorFlow
  if FLAGS.list_images:
    if source.data_dir is None:
      raise DataError(source.workdir, "a bundle has no data of its own: give the "
                      "prepared data with --data_dir")
    print("\n".join(_run_data.list_images(source.data_dir)))
    return
  asks = (read_questions_file(FLAGS.questions, source, FLAGS.image) if FLAGS.questions else
          [Ask(FLAGS.image, FLAGS.question, FLAGS.choices or None, FLAGS.words,
               FLAGS.out, "")])
  quiet_tensorflow()
  picture = None
  if any(not str(a.image).strip().isdigit() for a in asks):
    picture = picture_regions(FLAGS.max_boxes, FLAGS.edge_model, FLAGS.backbone,
                              FLAGS.weights)
  predictor = load_predictor(source.workdir, source.data_dir, FLAGS.word_vectors,
                             picture)
  for note in predictor.notes:
    print(f"note: {note}")
  failed = []
  for i, one in enumerate(asks):
    if len(asks) > 1:
      print(("\n" if i else "") + f"== {one.where}")
    try:
      ask_one(predictor, one, FLAGS.top_answers, FLAGS.top_regions)
    except DataError as e:  # a question the model cannot score: one line
      if len(asks) == 1:
        raise
      failed.append(one.where)
      sys.stdout.flush()
      print(f"error: {e}", file=sys.stderr, flush=True)
  if failed:
    raise DataError(FLAGS.questions, f"{len(failed)} of {len(asks)} questions not "
                    f"answered ({', '.join(failed[:5])}{', ...' if len(failed) > 5 else ''})")


@dataclasses.dataclass
class Ask:
  """One question to ask: image id or picture, question, choices (None:
  open-ended), words to score, PNG to write; ``where`` names its line."""

  image: str
  question: str
  choices: Optional[List[str]]
  words: List[str]
  out: Optional[str]
  where: str


def ask_one(predictor, one: Ask, top_answers: int = 5, top_regions: int = 3) -> None:
  """Answers one question and prints it (and writes its picture); a question,
  choices or words the model cannot score are a one-line DataError naming the
  flag (or the line of --questions)."""
  try:
    answer = predictor.answer(one.image, one.question, one.choices)
  except ValueError as e:
    raise _one_line(e, one, "question") from None
  try:
    recognition = (predictor.recognize(answer.regions, one.words) if one.words
                   else None)
  except ValueError as e:
    raise _one_line(e, one, "words") from None
  print("\n".join(describe(answer, top_answers, top_regions, recognition)))
  if one.out:
    from svlr_tf.viz import draw  # pylint: disable=import-outside-toplevel
    draw.save_png(attention_figure(answer, top_answers=top_answers), one.out)
    print(f"wrote {one.out}")


def _one_line(err: ValueError, one: Ask, what: str) -> DataError:
  """A ValueError of the Predictor as the one-line error of the flag (or the
  line of --questions) it came from."""
  if isinstance(err, DataError):
    return err
  if one.where:
    return DataError(one.where, f"{what}: {err}")
  return DataError(None, f"--{what}: {err}")


def check_flags() -> "_run_data.Source":
  """The flags checked against the files before TensorFlow and the model load:
  the --workdir (a run or a bundle), its data, the image id, the question."""
  source = _run_data.find_source(FLAGS.workdir, FLAGS.data_dir)
  if FLAGS.list_images:
    return source
  if FLAGS.questions:
    if FLAGS.question or FLAGS.out:
      raise DataError(None, "--questions FILE asks the questions of the file: give "
                      "--question and --out there (fields question, out)")
    return source
  if FLAGS.image is None or FLAGS.question is None:
    raise DataError(None, "give --image and --question (or --questions FILE, or "
                    "--list_images)")
  _check_texts(FLAGS.question, FLAGS.choices or None, FLAGS.words, "")
  _run_data.check_image(source, FLAGS.image)
  return source


def _check_texts(question, choices, words, where: str) -> None:
  from svlr_tf.inference import checks  # pylint: disable=import-outside-toplevel
  for what, check, value in (("question", checks.check_question, question),
                             ("choices", checks.check_choices, choices),
                             ("words", checks.check_words, words)):
    if value is None or (what == "words" and not value):
      continue
    try:
      check(value)
    except ValueError as e:
      raise DataError(where or None, f"{'' if where else '--'}{what}: {e}") from None


def read_questions_file(path: str, source, default_image: Optional[str] = None) -> List[Ask]:
  """The questions of a JSON-lines file, each checked before the model loads:
  ``{"image": id or picture (default --image), "question": "...", "choices":
  [...] (optional), "words": [...] (optional), "out": "x.png" (optional)}``."""
  from svlr_tf.runtime.files import iter_jsonl  # pylint: disable=import-outside-toplevel
  asks = []
  for lineno, record in iter_jsonl(path):
    where = f"{path} line {lineno}"
    if not isinstance(record, dict):
      raise DataError(path, f"line {lineno}: expected a JSON object with a question")
    unknown = sorted(set(record) - {"image", "question", "choices", "words", "out"})
    if unknown:
      raise DataError(path, f"line {lineno}: unknown field(s) {unknown} (fields: "
                      "image, question, choices, words, out)")
    image = record.get("image", default_image)
    if image is None or "question" not in record:
      raise DataError(path, f"line {lineno}: needs "
                      f"{'an image (or --image)' if image is None else 'a question'}")
    for field in ("choices", "words"):
      if field in record and not isinstance(record[field], list):
        raise DataError(path, f"line {lineno}: {field} must be a list of strings")
    _check_texts(record["question"], record.get("choices"), record.get("words", []),
                 where)
    try:
      _run_data.check_image(source, str(image))
    except DataError as e:
      raise DataError(path, f"line {lineno}: {e}") from None
    asks.append(Ask(str(image), str(record["question"]), record.get("choices"),
                    [str(w) for w in record.get("words", [])], record.get("out"),
                    where))
  if not asks:
    raise DataError(path, "no questions in the file")
  return asks


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_string("workdir", None, "A run's work directory, or an export bundle.")
  flags.DEFINE_string("image", None,
                      "An image id of the run's prepared data, or a picture file.")
  flags.DEFINE_string("question", None, "The question.")
  flags.DEFINE_list("choices", [],
                    "Candidate answers (comma separated); default: the training "
                    "answers of the question's type.")
  flags.DEFINE_list("words", [], "Words or phrases to score on the top regions "
                    "(any words: classes or not).")
  flags.DEFINE_string("out", None, "Write the attention picture here (PNG).")
  flags.DEFINE_integer("top_answers", 5, "Answers printed.")
  flags.DEFINE_integer("top_regions", 3, "Regions printed.")
  flags.DEFINE_string("data_dir", None, "The run's prepared data (default: the one "
                      "in data.json; with a bundle: for image ids).")
  flags.DEFINE_string("word_vectors", None, "Pretrained vectors for new words "
                      "(default: the ones named in the data's meta.json).")
  flags.DEFINE_integer("max_boxes", 100, "Edge Boxes proposals for a picture.")
  flags.DEFINE_string("edge_model", None, "Structured-edge model (model.yml.gz); "
                      "Sobel edges if unset (as tools.propose_regions).")
  flags.DEFINE_enum("backbone", "resnet50", ["resnet50", "resnet152"],
                    "The CNN of the run's data (as tools.extract_features).")
  flags.DEFINE_string("weights", "imagenet", "keras.applications weights.")
  flags.DEFINE_string("questions", None, "A JSON-lines file of questions to ask in "
                      "one process: {\"image\": ID, \"question\": \"...\", "
                      "\"choices\": [...], \"words\": [...], \"out\": \"x.png\"} "
                      "(all but question optional; image defaults to --image).")
  flags.DEFINE_bool("list_images", False, "List the image ids of the run's data, "
                    "per split, with their question counts, and stop.")
  flags.mark_flags_as_required(["workdir"])


if __name__ == "__main__":
  define_flags()
  run_main(main)
