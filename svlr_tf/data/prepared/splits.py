"""A loaded split as numpy arrays: the Genome regions and the VQA questions."""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List

import numpy as np

from svlr_tf.data import sparse_labels
from svlr_tf.data.aligned import aligned_zeros


@dataclasses.dataclass
class RecognitionSplit:
  """A Genome split as arrays (one row per region), labels kept sparse.

  Labels are CSR (svlr_tf/data/sparse_labels.py): ~4 bytes per label instead
  of dense [n, O] rows (3 KB per region for the three matrices at O = T =
  1000).  :meth:`batch` builds the dense float32 targets of a batch's M rows
  only.  The properties ``object_targets``, ``object_labels`` and
  ``attribute_targets`` densify the WHOLE split (bool [n, O] / [n, T]: O(n * O)
  time and memory on every access) for evaluation code and tests.

  Attributes:
    image_ids: int64 [n].
    rows: int32 [n], row of the region in the image's features/genome entry.
    object_indptr: int64 [n + 1], object_ids: int32 [nnz]: the annotated names
      of region i are ``object_ids[object_indptr[i]:object_indptr[i + 1]]``
      (accuracy, Sec. 5.3).
    attribute_indptr: int64 [n + 1], attribute_ids: int32: annotated
      attributes (T_j of Eq. 2).
    hypernym_indptr: int64 [O + 1], hypernym_ids: int32: class o and its
      hypernyms; H_j of Eq. 1 is their union over region j's names.
    num_objects: O.
    num_attributes: T.
  """

  image_ids: np.ndarray
  rows: np.ndarray
  object_indptr: np.ndarray
  object_ids: np.ndarray
  attribute_indptr: np.ndarray
  attribute_ids: np.ndarray
  hypernym_indptr: np.ndarray
  hypernym_ids: np.ndarray
  num_objects: int
  num_attributes: int

  def __post_init__(self):
    """ValueError if the arrays are inconsistent (e.g. a stale cache)."""
    self.num_objects, self.num_attributes = int(self.num_objects), int(self.num_attributes)
    n = len(self.image_ids)
    if self.image_ids.shape != (n,) or self.rows.shape != (n,):
      raise ValueError(f"image_ids {self.image_ids.shape} and rows {self.rows.shape} "
                       "differ in shape")
    sparse_labels.check_csr(self.object_indptr, self.object_ids, n, self.num_objects,
                            "object labels")
    sparse_labels.check_csr(self.attribute_indptr, self.attribute_ids, n,
                            self.num_attributes, "attribute labels")
    sparse_labels.check_csr(self.hypernym_indptr, self.hypernym_ids, self.num_objects,
                            self.num_objects, "hypernym closure")

  def __len__(self) -> int:
    return len(self.image_ids)

  @property
  def _objects(self) -> sparse_labels.Csr:
    return self.object_indptr, self.object_ids

  @property
  def _attributes(self) -> sparse_labels.Csr:
    return self.attribute_indptr, self.attribute_ids

  @property
  def _hypernyms(self) -> sparse_labels.Csr:
    return self.hypernym_indptr, self.hypernym_ids

  @property
  def object_targets(self) -> np.ndarray:
    """bool [n, O]: annotated names plus their hypernyms (H_j, Eq. 1); O(n * O)."""
    return sparse_labels.dense(self._objects, self.num_objects, self._hypernyms)

  @property
  def object_labels(self) -> np.ndarray:
    """bool [n, O]: annotated names only (accuracy, Sec. 5.3); O(n * O)."""
    return sparse_labels.dense(self._objects, self.num_objects)

  @property
  def attribute_targets(self) -> np.ndarray:
    """bool [n, T]: annotated attributes (Eq. 2); O(n * T)."""
    return sparse_labels.dense(self._attributes, self.num_attributes)

  def batch(self, indices: np.ndarray,
            zeros: Callable[..., np.ndarray] = aligned_zeros) -> Dict[str, np.ndarray]:
    """Targets of the "recognition" batch (without features).

    ``zeros`` makes each zero-filled array from (shape, dtype) (e.g. a
    ``BufferPool.zeros``; by default a new one).

    Returns:
      {"object_targets": [M, O], "object_labels": [M, O], "attribute_targets":
      [M, T]} float32 multi-hot, 64-byte-aligned arrays (M = len(indices)).
    """
    return {"object_targets": sparse_labels.multi_hot(
                self._objects, indices, self.num_objects, expand=self._hypernyms,
                zeros=zeros),
            "object_labels": sparse_labels.multi_hot(self._objects, indices,
                                                     self.num_objects, zeros=zeros),
            "attribute_targets": sparse_labels.multi_hot(
                self._attributes, indices, self.num_attributes, zeros=zeros)}


# Keys of the "vqa" batch that come from the split (not the feature store).
VQA_TEXT_KEYS = ("question_bins", "question_nouns", "question_adjectives",
                 "choice_words", "choice_nouns", "choice_adjectives", "label",
                 "question_id", "question_type")


@dataclasses.dataclass
class VQASplit:
  """A VQA split as padded arrays (one row per question; 0 = <pad>).

  Attributes:
    question_ids: int64 [n].
    image_ids: int64 [n].
    question_bins: int32 [n, 4, Lq] word ids of the 4 question bins.
    question_nouns, question_adjectives: int32 [n, Lq] lemma ids.
    choice_words, choice_nouns, choice_adjectives: int32 [n, C, La].
    label: int32 [n], index of the correct choice.
    question_type: int32 [n], index into ``question_type_names``.
    question_type_names: the split's question types, sorted.
    answer_type: int32 [n], index into ``answer_type_names``.
    answer_type_names: the split's answer types, sorted.
    questions: [n] question strings.
    choices: [n][C] choice strings.
    answer: [n] correct answer strings (choices[i][label[i]]).
    answers: [n][10] human answers.
  """

  question_ids: np.ndarray
  image_ids: np.ndarray
  question_bins: np.ndarray
  question_nouns: np.ndarray
  question_adjectives: np.ndarray
  choice_words: np.ndarray
  choice_nouns: np.ndarray
  choice_adjectives: np.ndarray
  label: np.ndarray
  question_type: np.ndarray
  question_type_names: List[str]
  answer_type: np.ndarray
  answer_type_names: List[str]
  questions: List[str]
  choices: List[List[str]]
  answer: List[str]
  answers: List[List[str]]

  def __len__(self) -> int:
    return len(self.question_ids)

  def batch(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
    """Text part of the "vqa" batch (keys ``VQA_TEXT_KEYS``)."""
    return {"question_bins": self.question_bins[indices],
            "question_nouns": self.question_nouns[indices],
            "question_adjectives": self.question_adjectives[indices],
            "choice_words": self.choice_words[indices],
            "choice_nouns": self.choice_nouns[indices],
            "choice_adjectives": self.choice_adjectives[indices],
            "label": self.label[indices],
            "question_id": self.question_ids[indices],
            "question_type": self.question_type[indices]}
