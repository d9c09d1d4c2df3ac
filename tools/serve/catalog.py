"""The images and questions a page can browse: the run's VQA splits, grouped by
image, with their question types, true answers and pictures (no TensorFlow).

    catalog = Catalog(data_dir, boxes)          # boxes: {image id: ImageBoxes}
    catalog.splits                              # ["train", "heldout", "test"]
    catalog.page("test", question_type="what color is the", page=0, per_page=48)
    catalog.questions("test", 1000048)          # [{question_id, question, answer, ...}]
"""

from __future__ import annotations

import collections
from typing import Dict, List, Optional

from tools import _run_data


class Catalog:
  """The data's VQA questions by split and image (each split read on first use).

  Args:
    data_dir: the prepared data.
    boxes: {image id: ``ImageBoxes``} (the picture file of each image); {} when
      the data has no boxes file.
  """

  def __init__(self, data_dir: str, boxes: Dict[int, object]):
    self.data_dir = data_dir
    self.boxes = boxes
    self.splits = _run_data.vqa_splits(data_dir)
    self._by_image: Dict[str, Dict[int, List[dict]]] = {}
    self._by_id: Dict[str, Dict[int, dict]] = {}

  @property
  def default_split(self) -> Optional[str]:
    """"test" when there, else the last split (None: no questions at all)."""
    if "test" in self.splits:
      return "test"
    return self.splits[-1] if self.splits else None

  def _load(self, split: str) -> Dict[int, List[dict]]:
    if split not in self.splits:
      raise KeyError(f"unknown split {split!r}; this data has {self.splits}")
    if split not in self._by_image:
      questions = _run_data.read_questions(self.data_dir, split)
      self._by_image[split] = _run_data.group_by_image(questions)
      self._by_id[split] = {int(q["question_id"]): q for q in questions
                            if "question_id" in q}
    return self._by_image[split]

  def question_types(self, split: str) -> List[list]:
    """[[question type, number of images with such a question]], most images first."""
    counts = collections.Counter()
    for questions in self._load(split).values():
      counts.update({q.get("question_type") for q in questions} - {None})
    return [[t, n] for t, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]

  def page(self, split: str, question_type: str = "", page: int = 0,
           per_page: int = 48) -> dict:
    """One page of the split's images (those with a question of the type, if given)."""
    images = [(image_id, questions) for image_id, questions in self._load(split).items()
              if not question_type or any(q.get("question_type") == question_type
                                          for q in questions)]
    start = page * per_page
    return {"split": split, "question_type": question_type, "page": page,
            "per_page": per_page, "total": len(images),
            "images": [{"id": image_id, "questions": len(questions),
                        "picture": self.picture(image_id) is not None}
                       for image_id, questions in images[start:start + per_page]]}

  def questions(self, split: str, image_id: int) -> List[dict]:
    """The questions of one image in a split (KeyError: not in that split)."""
    by_image = self._load(split)
    if image_id not in by_image:
      raise KeyError(f"image {image_id} has no questions in the {split} split")
    return by_image[image_id]

  def all_questions(self, split: str) -> List[dict]:
    return [q for questions in self._load(split).values() for q in questions]

  def question(self, split: str, question_id: int) -> Optional[dict]:
    self._load(split)
    return self._by_id[split].get(question_id)

  def find_question(self, image_id: int, text: str) -> Optional[dict]:
    """The dataset question of that image with exactly this text, in any split
    already read (the true answer of a question typed again by hand)."""
    wanted = " ".join(text.split()).lower()
    for split in self._by_image:
      for q in self._by_image[split].get(image_id, []):
        if " ".join(str(q.get("question", "")).split()).lower() == wanted:
          return q
    return None

  def split_of(self, image_id: int) -> Optional[str]:
    """The first split (default split first) whose questions are about the image."""
    order = [self.default_split] + [s for s in self.splits if s != self.default_split]
    for split in order:
      if split and image_id in self._load(split):
        return split
    return None

  def picture(self, image_id: int) -> Optional[str]:
    """The picture file of the image (None: unknown or missing)."""
    entry = self.boxes.get(image_id)
    return getattr(entry, "file", None) if entry is not None else None
