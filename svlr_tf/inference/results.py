"""What the Predictor returns: regions of one image, answers, recognition scores."""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

import numpy as np


@dataclasses.dataclass
class Regions:
  """The regions R of one image.

  Attributes:
    features: float32 [K, D] region features (CNN features of the boxes).
    mask: bool [K], False for padded rows.
    boxes: float32 [K, 4] ``[x, y, w, h]`` pixels, or None when unknown (no
      boxes file in the prepared data).
    image_id: the prepared data's image id, if the regions came from there.
    picture: the picture file (the one given, or the prepared data's), if known.
    image_size: (width, height) of the picture, (0, 0) if unknown.
  """

  features: np.ndarray
  mask: np.ndarray
  boxes: Optional[np.ndarray] = None
  image_id: Optional[int] = None
  picture: Optional[str] = None
  image_size: Tuple[int, int] = (0, 0)

  def __len__(self) -> int:
    return len(self.features)


@dataclasses.dataclass
class RegionWords:
  """The best object and attribute class of each region (Sec. 3.2.1 scores).

  Attributes:
    objects / attributes: [K] class names, argmax of f_o(R)^T g(y) / f_a(R)^T g(y).
    object_scores / attribute_scores: [K] their scores.
  """

  objects: List[str]
  object_scores: np.ndarray
  attributes: List[str]
  attribute_scores: np.ndarray


@dataclasses.dataclass
class Answer:
  """Ranked answers to one question about one image.

  Attributes:
    question: the question.
    question_type: the training question type the question starts with (None
      when it matches none).
    scorer: "Eq. 7" (the trained VQA model) or "Eq. 9 (zero-shot)" (a run
      without VQA training).
    open_ended: True when the candidates are the training answers (no choices).
    answers: candidate answers, best first.
    scores: float32 [C] their scores S(Q, I, A), best first.
    attention: float32 [C, K] a(R) (Eq. 4) for each ranked answer (the
      answer's words take part in Eq. 3).
    regions: the image's regions.
    region_words: best object / attribute class per region.
    new_words: {word: how its vector was made} for words the training
      vocabulary lacks.
    notes: what the model did not read (a question or choice longer than its
      word window is cut), one line each.
  """

  question: str
  question_type: Optional[str]
  scorer: str
  open_ended: bool
  answers: List[str]
  scores: np.ndarray
  attention: np.ndarray
  regions: Regions
  region_words: RegionWords
  new_words: Dict[str, str]
  notes: List[str] = dataclasses.field(default_factory=list)

  @property
  def best(self) -> str:
    return self.answers[0]

  def top_regions(self, count: int = 3, answer: int = 0) -> List[int]:
    """Indices of the ``count`` valid regions with the most attention."""
    att = np.where(self.regions.mask, self.attention[answer], -np.inf)
    order = np.argsort(-att, kind="stable")
    return [int(k) for k in order[:min(count, int(self.regions.mask.sum()))]]


@dataclasses.dataclass
class Recognition:
  """Region-word scores for any words or phrases (open vocabulary, Sec. 3.2.1).

  Attributes:
    words: the words / phrases scored, as given.
    object_scores: float32 [K, W] f_o(R)^T g(w) (a phrase: mean of g over its
      words, as class names in training).
    attribute_scores: float32 [K, W] f_a(R)^T g(w).
    classes: [W] bool, whether each word is a class of the recognition heads.
    regions: the regions scored.
    new_words: {word: how its vector was made} for words the training
      vocabulary lacks.
  """

  words: List[str]
  object_scores: np.ndarray
  attribute_scores: np.ndarray
  classes: np.ndarray
  regions: Regions
  new_words: Dict[str, str]

  def ranked(self, region: int, kind: str = "object") -> List[Tuple[str, float]]:
    """The words ranked for one region by ``kind`` ("object" or "attribute")."""
    scores = {"object": self.object_scores,
              "attribute": self.attribute_scores}[kind][region]
    order = np.argsort(-scores, kind="stable")
    return [(self.words[i], float(scores[i])) for i in order]
