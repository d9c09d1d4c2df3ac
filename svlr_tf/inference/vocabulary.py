"""Word ids for inference over an open vocabulary (Sec. 3.2.1).

g(w) applies to any word with a pretrained vector, so a trained model can score
words it never saw in training. ``OpenVocabulary`` starts from the run's table
(vocab.json + word_vectors.npy, the rows the model was trained with) and gives
every new word a row by the same rules the training table was built with
(``svlr_tf.text.word_vectors.build_table``): the pretrained vector of the word (as is,
lowercased, capitalized), else the mean of its parts' vectors, else a fixed
pseudo-random vector. Which rule each new word took is kept in ``notes`` so the
caller can say it.

The pretrained vectors are named by the prepared data's meta.json
(``word_vectors``): the GloVe registry package, or the file the real data was
prepared from (its base name; pass the path when it is not in the working
directory). Without them, a new word gets the pseudo-random vector of rule 4,
scaled to the mean norm of the trained table, and the note says so.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence

import numpy as np

from svlr_tf.text import word_vectors as wv
from svlr_tf.data.prepared.layout import PAD_ID
from svlr_tf.runtime.errors import DataError

# Names under which the GloVe registry package appears in meta.json.
_GLOVE_NAMES = (wv.GLOVE_PACKAGE_NAME, "glove.6B.50d")


def load_pretrained(reference: str) -> Optional[wv.WordVectors]:
  """The pretrained vectors named by ``reference`` or None when not available.

  ``reference``: a registry package name (``glove-6b-50d``) or a file path.
  """
  if not reference:
    return None
  try:
    if reference in _GLOVE_NAMES:
      return wv.load_glove_package()
    if os.path.isfile(reference):
      return wv.load_word_vectors(reference)
  except DataError:
    return None
  return None


class OpenVocabulary:
  """Word -> id over the trained table, growing with new words.

  Args:
    words: the run's vocabulary (row i of ``vectors`` is ``words[i]``).
    vectors: float32 [V, d], the table the model was trained with.
    reference: name or path of the pretrained vectors (meta.json
      ``word_vectors``); see the module docstring.
    mean_norm: mean norm of the pretrained vectors, for rule 4 when they are
      not available (default: the mean norm of the table's rows).

  Attributes:
    notes: {new word: how its vector was made}, in order of first use.
  """

  def __init__(self, words: Sequence[str], vectors: np.ndarray, reference: str = "",
               mean_norm: Optional[float] = None):
    self.words = list(words)
    self.word_to_id = {w: i for i, w in enumerate(self.words)}
    self.num_trained = len(self.words)
    self._rows: List[np.ndarray] = []
    self.vectors = np.asarray(vectors, np.float32)
    self.reference = reference
    self._pretrained = None
    self._pretrained_loaded = False
    if mean_norm is None:
      norms = np.linalg.norm(self.vectors[1:], axis=1)
      mean_norm = float(norms.mean()) if len(norms) else 1.0
    self.mean_norm = float(mean_norm)
    self.notes: Dict[str, str] = {}

  @property
  def pretrained(self) -> Optional[wv.WordVectors]:
    if not self._pretrained_loaded:
      self._pretrained = load_pretrained(self.reference)
      self._pretrained_loaded = True
    return self._pretrained

  def is_trained(self, word: str) -> bool:
    """Whether ``word`` has a row of the table the model was trained with."""
    i = self.word_to_id.get(word)
    return i is not None and i < self.num_trained

  def word_id(self, word: str) -> int:
    """The id of ``word``, adding a row for a word the training never saw."""
    i = self.word_to_id.get(word)
    if i is not None:
      return i
    vector, how = self._new_vector(word)
    i = len(self.words)
    self.words.append(word)
    self.word_to_id[word] = i
    self._rows.append(vector)
    self.notes[word] = how
    return i

  def ids(self, words: Sequence[str], length: int) -> np.ndarray:
    """int32 [length]: ids of ``words`` (truncated), padded with ``PAD_ID``."""
    out = np.full(length, PAD_ID, np.int32)
    for j, w in enumerate(list(words)[:length]):
      out[j] = self.word_id(w)
    return out

  def notes_for(self, words) -> Dict[str, str]:
    """The notes of those of ``words`` that the training vocabulary lacks."""
    return {w: self.notes[w] for w in dict.fromkeys(words) if w in self.notes}

  def table(self) -> np.ndarray:
    """float32 [len(words), d]: the trained rows, then the new words' rows."""
    if self._rows:
      self.vectors = np.concatenate([self.vectors, np.stack(self._rows)])
      self._rows = []
    return self.vectors

  def _new_vector(self, word: str):
    pretrained = self.pretrained
    if pretrained is not None:
      vector, how = wv.word_vector(pretrained, word)
      return vector, {
          "pretrained": f"not in the training vocabulary: its {pretrained.name} vector",
          "parts": f"no {pretrained.name} vector: the mean of its parts' vectors",
          "pseudo-random": (f"no {pretrained.name} vector: a fixed pseudo-random "
                            "vector, as unknown words get in training")}[how]
    source = self.reference or "the pretrained vectors"
    return (wv.unknown_word_vector(word, self.vectors.shape[1], self.mean_norm),
            f"{source} not available here: a fixed pseudo-random vector, as "
            "unknown words get in training")
