"""One VQA question as a picture: the image with each model's attention a(R).

  fig = question_figure(image, boxes, question, true_answer,
                        [Panel("Joint SVLR", weights, "brown", correct=True), ...])
  draw.save_png(fig, path)  or  draw.to_array(fig)

Used by ``reproduce.attention`` (Fig. 4 / Fig. 6), the trainer's TensorBoard
``validation/attention`` images and ``tools.ask``.
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Optional, Sequence

import numpy as np

from svlr_tf.viz import draw

CORRECT_COLOR = "#1a7f37"
WRONG_COLOR = "#c62828"


@dataclasses.dataclass
class Panel:
  """One model's view of the question.

  Attributes:
    name: the model ("Joint SVLR").
    weights: [K] a(R) (entries past the image's boxes are padding, dropped).
    predicted: the model's answer.
    correct: whether ``predicted`` is right (colours the panel title); None
      leaves it black.
    note: an extra line under the answer (e.g. "a(R) of its answer").
  """

  name: str
  weights: np.ndarray
  predicted: str
  correct: Optional[bool] = None
  note: str = ""


def question_figure(image: Optional[np.ndarray], boxes, question: str,
                    true_answer: Optional[str], panels: Sequence[Panel],
                    top_k: int = 3, image_size=(640, 480), panel_width: float = 3.6,
                    dpi: int = 100, caption: str = ""):
  """A row of attention panels (one per model) under the question.

  Args:
    image: uint8 [H, W, 3] RGB, or None (a grey canvas of ``image_size``).
    boxes: [n, 4] pixel boxes [x, y, w, h] of the image's regions.
    question: the question text.
    true_answer: the correct answer (None: unknown, e.g. a new question).
    panels: one per model.
    caption: a small line at the bottom (e.g. the image and question ids).
  Returns: a matplotlib Figure.
  """
  boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
  height, width = (image.shape[:2] if image is not None
                   else (image_size[1], image_size[0]))
  aspect = height / max(width, 1)
  head = "\n".join(textwrap.wrap(f"Q: {question}", 22 * len(panels) + 20))
  if true_answer is not None:
    head += f"    A: {true_answer}"
  header = 0.25 + 0.2 * head.count("\n")   # inches above the panels
  footer = 0.2 if caption else 0.0
  panel_height = panel_width * aspect + 0.6   # image and the panel's title
  fig = draw.new_figure(columns=len(panels), rows=1,
                        panel_size=(panel_width, panel_height + header + footer),
                        dpi=dpi)
  total = panel_height + header + footer
  for ax, panel in zip(fig.axes, panels):
    weights = np.asarray(panel.weights, np.float64)[:len(boxes)]
    color = ("black" if panel.correct is None
             else CORRECT_COLOR if panel.correct else WRONG_COLOR)
    mark = "" if panel.correct is None else ("  ✓" if panel.correct else "  ✗")
    title = f"{panel.name}: {panel.predicted}{mark}"
    if panel.note:
      title += f"\n{panel.note}"
    draw.attention_panel(ax, image, boxes, weights, top_k=top_k, title=title,
                         image_size=image_size, title_color=color)
  fig.suptitle(head, fontsize=11, x=0.01, ha="left", y=1.0 - 0.05 / total, va="top")
  if caption:
    fig.text(0.01, 0.02 / total, caption, fontsize=7, color="#555555", va="bottom")
  fig.tight_layout(rect=(0.0, footer / total, 1.0, 1.0 - header / total))
  return fig


def validation_images(data_dir: str, split: str, attention, predicted_answers,
                      max_images: int = 3, model_name: str = "model"):
  """The first questions of a split drawn with their attention, for TensorBoard.

  Args:
    data_dir: the prepared directory (its boxes/vqa.jsonl and pictures).
    split: the VQA split whose first questions ``attention`` belongs to.
    attention: [n, K] a(R) of the first n questions of the split, in order.
    predicted_answers: the model's answers to (at least) those questions.
  Returns: uint8 [m, H, W, 3] (m <= max_images, padded white to one size), or
    None when the data has no boxes file (nothing to draw on).
  """
  import itertools  # pylint: disable=import-outside-toplevel
  import os  # pylint: disable=import-outside-toplevel

  from svlr_tf.data.boxes import boxes_paths, load_boxes  # pylint: disable=import-outside-toplevel
  from svlr_tf.runtime.files import iter_jsonl  # pylint: disable=import-outside-toplevel
  from svlr_tf.world.picture import load_picture  # pylint: disable=import-outside-toplevel

  if not boxes_paths(data_dir, "vqa"):
    return None
  n = min(max_images, len(attention))
  records = [r for _, r in itertools.islice(
      iter_jsonl(os.path.join(data_dir, "vqa", f"{split}.jsonl")), n)]
  boxes = load_boxes(data_dir, "vqa", {r["image_id"] for r in records})
  arrays = []
  for r, weights, predicted in zip(records, attention, predicted_answers):
    entry = boxes[r["image_id"]]
    image = load_picture(entry.file) if entry.file else None
    fig = question_figure(
        image, entry.boxes, r["question"], r["answer"],
        [Panel(model_name, weights, str(predicted), str(predicted) == r["answer"],
               "a(R) of the correct answer")],
        image_size=(entry.width, entry.height), panel_width=4.0, dpi=80,
        caption=f"question {r['question_id']}")
    arrays.append(draw.to_array(fig))
  height = max(a.shape[0] for a in arrays)
  width = max(a.shape[1] for a in arrays)
  out = np.full((len(arrays), height, width, 3), 255, np.uint8)
  for i, a in enumerate(arrays):
    out[i, :a.shape[0], :a.shape[1]] = a
  return out
