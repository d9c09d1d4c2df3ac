"""One VQA question as a picture: the image with each model's attention a(R).

  fig = question_figure(image, boxes, question, true_answer,
                        [Panel("Joint SVLR", weights, "brown", correct=True,
                               top_answers=[("brown", 4.1), ("tan", 3.2)]), ...],
                        legend=WORLD_LEGEND)
  draw.save_png(fig, path)  or  draw.to_array(fig)

Every panel is veiled on one relevance scale (the highest of the panels), shown by
the colour bar under them; each panel's outlined regions are listed in its legend
(rank, a(R)); ``legend`` explains the picture (``WORLD_LEGEND`` for the embedded
world's drawings).  Used by ``reproduce.attention`` (Fig. 4 / Fig. 6), the
trainer's TensorBoard ``validation/attention`` images and ``tools.ask``.
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Optional, Sequence, Tuple

import numpy as np

from svlr_tf.viz import draw

CORRECT_COLOR = "#1a7f37"
WRONG_COLOR = "#c62828"
# How the embedded world draws an image (svlr_tf/world/picture.py).
WORLD_LEGEND = ("Simulated picture: a box's fill is the object's first colour (a band "
                "across its bottom: a second colour); its tab names the class, then its "
                "other attributes (a second colour among them: a red dog tabbed "
                "\"dog brown\" is red and brown).")


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
    top_answers: the model's best answers with their scores S(Q, I, A) (Eq. 7),
      best first (the runner-ups are written under the answer).
  """

  name: str
  weights: np.ndarray
  predicted: str
  correct: Optional[bool] = None
  note: str = ""
  top_answers: Sequence[Tuple[str, float]] = ()


def panel_title(panel: Panel, true_answer: Optional[str] = None) -> str:
  """"name: answer ✓" (✗ and the true answer when wrong), then the top answers
  with their Eq. 7 scores and the panel's note, one line each."""
  mark = "" if panel.correct is None else ("  ✓" if panel.correct else "  ✗")
  title = f"{panel.name}: {panel.predicted}{mark}"
  if panel.correct is False and true_answer is not None:
    title += f" (true: {true_answer})"
  if panel.top_answers:
    ranked = ", ".join(f"{a} {s:.2f}" for a, s in list(panel.top_answers)[:4])
    title += "\n" + "\n".join(textwrap.wrap(f"top answers (Eq. 7): {ranked}", 46))
  if panel.note:
    title += f"\n{panel.note}"
  return title


def question_figure(image: Optional[np.ndarray], boxes, question: str,
                    true_answer: Optional[str], panels: Sequence[Panel],
                    top_k: int = 3, image_size=(640, 480), panel_width: float = 3.6,
                    dpi: int = 100, caption: str = "", legend: str = ""):
  """A row of attention panels (one per model) under the question, one relevance
  scale across them with its colour bar, and the legend and caption lines.

  Args:
    image: uint8 [H, W, 3] RGB, or None (a grey canvas of ``image_size``).
    boxes: [n, 4] pixel boxes [x, y, w, h] of the image's regions.
    question: the question text.
    true_answer: the correct answer (None: unknown, e.g. a new question).
    panels: one per model.
    caption: a small line at the bottom (e.g. the image and question ids).
    legend: a line explaining the picture (``WORLD_LEGEND``).
  Returns: a matplotlib Figure.
  """
  boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
  height, width = (image.shape[:2] if image is not None
                   else (image_size[1], image_size[0]))
  weights = [np.asarray(p.weights, np.float64)[:len(boxes)] for p in panels]
  scale = draw.relevance_scale((width, height), boxes, weights)
  aspect = height / max(width, 1)
  fig_width = panel_width * len(panels)
  wrap = int(10 * fig_width)                  # characters of 11 pt per line
  head = "\n".join(textwrap.wrap(f"Q: {question}", wrap))
  if true_answer is not None:
    head += f"    A: {true_answer}"
  notes = [f"Outlined: each model's {top_k} regions of highest a(R) "
           f"(>= {draw.MIN_OUTLINE_WEIGHT:.2f}), listed under its picture."]
  if legend:
    notes.append(legend)
  if caption:
    notes.append(caption)
  notes = "\n".join(line for n in notes  # 7 pt
                    for line in textwrap.wrap(n, int(16.5 * fig_width)))
  header = 0.3 + 0.2 * head.count("\n")       # inches above the panels
  title_lines = max(panel_title(p, true_answer).count("\n") for p in panels) + 1
  label_below = fig_width < 6.0   # the colour bar's label: right of it, or under it
  bar = 0.55 + (0.3 if label_below else 0.0)  # the colour bar, its ticks and label
  footer = bar + 0.16 * (notes.count("\n") + 1) + 0.1
  panel_height = (panel_width - 0.2) * aspect + 0.17 * title_lines + 0.3  # + legend
  total = panel_height + header + footer
  fig = draw.new_figure(columns=len(panels), rows=1,
                        panel_size=(panel_width, total), dpi=dpi)
  for ax, panel, w in zip(fig.axes, panels, weights):
    color = ("black" if panel.correct is None
             else CORRECT_COLOR if panel.correct else WRONG_COLOR)
    draw.attention_panel(ax, image, boxes, w, top_k=top_k,
                         title=panel_title(panel, true_answer), image_size=image_size,
                         title_color=color, scale=scale)
    ax.set_anchor("S")  # the picture sits on its legend, the colour bar under it
  fig.suptitle(head, fontsize=11, x=0.01, ha="left", y=1.0 - 0.05 / total, va="top")
  fig.tight_layout(rect=(0.0, footer / total, 1.0, 1.0 - header / total))
  bar_width = min(2.4, 0.6 * fig_width) / fig_width
  bar_ax = fig.add_axes((0.3 / fig_width, (footer - 0.28) / total, bar_width, 0.2 / total))
  draw.attention_scale_bar(bar_ax, scale, below=label_below)
  fig.text(0.01, 0.03 / total, notes, fontsize=7, color="#444444", va="bottom",
           ha="left", linespacing=1.3)
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
  from svlr_tf.runtime.files import iter_jsonl, read_json  # pylint: disable=import-outside-toplevel
  from svlr_tf.world.picture import load_picture  # pylint: disable=import-outside-toplevel

  if not boxes_paths(data_dir, "vqa"):
    return None
  n = min(max_images, len(attention))
  records = [r for _, r in itertools.islice(
      iter_jsonl(os.path.join(data_dir, "vqa", f"{split}.jsonl")), n)]
  meta = os.path.join(data_dir, "meta.json")
  simulated = os.path.exists(meta) and bool(read_json(meta).get("simulated"))
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
        caption=f"question {r['question_id']}",
        legend=WORLD_LEGEND if simulated and image is not None else "")
    arrays.append(draw.to_array(fig))
  height = max(a.shape[0] for a in arrays)
  width = max(a.shape[1] for a in arrays)
  out = np.full((len(arrays), height, width, 3), 255, np.uint8)
  for i, a in enumerate(arrays):
    out[i, :a.shape[0], :a.shape[1]] = a
  return out
