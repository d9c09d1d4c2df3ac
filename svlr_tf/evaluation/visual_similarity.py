"""Does g move words towards visual neighbourhoods? (Sec. 5.5, tested directly)

Sec. 5.5 reads Table 4 as g's neighbours shifting from the input vectors'
co-occurrence neighbourhoods towards visual ones.  The embedded world knows the
true visual similarity of its object classes: each class's latent centre
(``svlr_tf.world.classes``: a decayed sum of random prototypes of the class's
WordNet synset and its hypernyms, from which every region's appearance is
drawn).  So the shift can be measured: the Spearman rank correlation, over all
pairs of object classes with a one-word name, between the cosine similarity of
their latent centres and the cosine similarity (after mean centring over the
candidate words, as Table 4's neighbours) of their word vectors -- for the
input vectors (GloVe) and for g.

  svlr_tf.world.truth.latent_class_similarity(meta, objects) -> [O, O]   the truth
  similarity_correlation(vectors, rows, truth) -> float
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

from svlr_tf.evaluation.word_neighbours import mean_centred_unit


def similarity_correlation(vectors: np.ndarray, rows: Sequence[int],
                           truth: np.ndarray) -> float:
  """Spearman's rho over pairs between word-vector and true similarities.

  Args:
    vectors: [N, E] candidate word vectors (mean centred over all N rows, then
      cosine, as Table 4's neighbours).
    rows: [C] the candidate row of each class (C >= 3).
    truth: [C, C] true similarity of the same classes, in ``rows`` order.
  Returns: rho over the C (C - 1) / 2 pairs (NaN if either side is constant).
  """
  rows = list(rows)
  if len(rows) < 3:
    raise ValueError(f"{len(rows)} classes: need at least 3 for pairs to rank")
  unit_vectors = mean_centred_unit(vectors)[rows]
  cosine = unit_vectors @ unit_vectors.T
  upper = np.triu_indices(len(rows), k=1)
  a, b = cosine[upper], np.asarray(truth, np.float64)[upper]
  if np.ptp(a) == 0 or np.ptp(b) == 0:
    return float("nan")
  return float(stats.spearmanr(a, b).statistic)
