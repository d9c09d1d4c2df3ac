"""The vectors of a few words from a binary word2vec file, streamed.

GoogleNews-vectors-negative300.bin.gz holds 3,000,000 x 300 float32 vectors
(3.6 GB); gensim's reader keeps all of them (and a Python object per word) in
memory, several GB, to build a vocabulary table of some 10-20 thousand rows.
:func:`read_word2vec_subset` reads the file once, row by row, keeps only the
rows whose word is in ``keep`` (the first row of a repeated word, as
gensim's reader does), and computes the mean L2 norm of all rows the way
``WordVectors.mean_norm`` does on gensim's array (float64, blocks of 65,536
rows; a repeated word's row is dropped and gensim leaves a zero row in its
place at the end, so the count stays the header's), so ``build_table`` gives
the same table as from the whole file, bit for bit.

Memory: one block of 65,536 rows (~80 MB at d = 300), the kept rows, and the
set of words read (to drop repeats as gensim does: ~300 MB for 3 M words).
"""

from __future__ import annotations

import gzip
import os
from typing import Iterable, Optional

import numpy as np

from svlr_tf.runtime.errors import DataError

BLOCK = 65536  # rows per norm block, as WordVectors.mean_norm
_READ = 1 << 22


def read_word2vec_rows(path: str, keep: Iterable[str], limit: Optional[int] = None):
  """(words, [N, dim] vectors, the whole file's mean norm) of ``keep``'s words:
  ``svlr_tf.text.word_vectors.read_word2vec_subset`` makes the ``WordVectors``.

  Args:
    path: a binary word2vec file (``.bin`` or ``.bin.gz``).
    keep: the words to keep (exact strings; callers add case variants).
    limit: read only the first ``limit`` rows (as gensim's ``limit``).

  Raises:
    DataError: missing file, bad header, truncated file, a word not UTF-8,
      a NaN or infinite vector.
  """
  if not os.path.isfile(path):
    raise DataError(path, "file not found")
  keep = set(keep)
  opener = gzip.open if path.endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      header = f.readline().split()
      if len(header) != 2 or not all(h.isdigit() for h in header):
        raise DataError(path, "not a binary word2vec file (no '<count> <dim>' header)")
      count, dim = int(header[0]), int(header[1])
      if limit is not None:
        count = min(count, limit)
      width = 4 * dim
      words, rows, seen = [], [], set()
      block = np.empty((BLOCK, dim), np.float32)
      total, filled = 0.0, 0
      buf, pos = b"", 0
      for number in range(count):
        space = buf.find(b" ", pos)
        while space < 0 or space + 1 + width > len(buf):
          more = f.read(_READ)
          if not more:
            raise DataError(path, f"truncated at vector {number + 1} of {count}")
          buf, pos = buf[pos:] + more, 0
          space = buf.find(b" ", pos)
        try:
          word = buf[pos:space].lstrip(b"\n").decode("utf-8")
        except UnicodeDecodeError as err:
          raise DataError(path, f"vector {number + 1}: word not UTF-8 ({err})") from None
        vector = np.frombuffer(buf, "<f4", dim, space + 1)
        pos = space + 1 + width
        if word not in seen:  # a repeated word's row is dropped, as gensim does
          seen.add(word)
          block[filled] = vector
          filled += 1
          if word in keep:
            words.append(word)
            rows.append(vector.astype(np.float32))
        if filled == BLOCK or (number == count - 1 and filled):
          part = block[:filled].astype(np.float64)
          if not np.all(np.isfinite(part)):
            raise DataError(path, "vectors contain NaN or infinity")
          total += float(np.linalg.norm(part, axis=1).sum())
          filled = 0
  except (OSError, EOFError) as err:
    raise DataError(path, f"unreadable ({err})") from None
  if count <= 0:
    raise DataError(path, "no vectors")
  vectors = np.stack(rows) if rows else np.zeros((0, dim), np.float32)
  return words, vectors, total / count
