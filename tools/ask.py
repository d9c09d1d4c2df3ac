r"""Ask a trained model a question about an image; see where it looked.

    python -m tools.ask --workdir runs/table1/seed0/joint_svlr --image 1000000 \
        --question "What color is the dog?" [--choices brown,white,black] \
        [--words dog,puppy,red] [--out attention.png]

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
"""

from __future__ import annotations

import sys
from typing import List, Optional

import numpy as np
from absl import flags

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.entry_points import quiet_tensorflow
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
  kind = (f"open-ended: {len(answer.answers)} training answers of this type"
          if answer.open_ended else f"{len(answer.answers)} choices")
  lines = [f"question: {answer.question}",
           f"  type {answer.question_type or '(none of the training types)'}; "
           f"{kind}; scored by {answer.scorer}",
           f"{source}: {int(regions.mask.sum())} regions", "answers:"]
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
  quiet_tensorflow()
  picture = None
  if FLAGS.image and not FLAGS.image.strip().isdigit():
    picture = picture_regions(FLAGS.max_boxes, FLAGS.edge_model, FLAGS.backbone,
                              FLAGS.weights)
  predictor = load_predictor(FLAGS.workdir, FLAGS.data_dir, FLAGS.word_vectors, picture)
  for note in predictor.notes:
    print(f"note: {note}")
  try:  # a question or choices the model cannot score: one line, not a traceback
    answer = predictor.answer(FLAGS.image, FLAGS.question, FLAGS.choices or None)
  except ValueError as e:
    if isinstance(e, DataError):
      raise
    raise DataError(f"--question {FLAGS.question!r}", str(e)) from None
  recognition = (predictor.recognize(answer.regions, FLAGS.words)
                 if FLAGS.words else None)
  print("\n".join(describe(answer, FLAGS.top_answers, FLAGS.top_regions, recognition)))
  if FLAGS.out:
    from svlr_tf.viz import draw  # pylint: disable=import-outside-toplevel
    draw.save_png(attention_figure(answer, top_answers=FLAGS.top_answers), FLAGS.out)
    print(f"wrote {FLAGS.out}")


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
  flags.mark_flags_as_required(["workdir", "image", "question"])


if __name__ == "__main__":
  define_flags()
  run_main(main)
