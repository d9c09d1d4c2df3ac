"""Word neighbours of the input vectors and of g (Sec. 5.5, Table 4).

"Neighbors were computed using cosine distance after mean centering": the vectors
of the candidate words are centred on their mean, normalised, and a query's
neighbours are the k candidates of largest cosine similarity (the query excluded).
The same candidates are searched in the pretrained input vectors (word2vec in the
paper, GloVe 50-d in the embedded world) and in g(w) of a trained model.

Candidates (docs/interpretations.md): the words that can be grounded, i.e. the
words of the object and attribute class names and the nouns and adjectives of the
VQA questions and answers -- the words g is trained on through Eq. 1-2 and Eq. 3-4.

So that Table 4 is not read by eye alone, :func:`neighbour_similarity` scores the
neighbours: the mean WordNet path similarity between a query and each of its top-k
neighbours, where the similarity of two words is the largest path similarity of
their noun senses (words without a noun sense, most adjectives, are left out and
counted).
"""

from __future__ import annotations

import functools
from typing import Dict, List, Optional, Sequence

import numpy as np

# The words of the paper's Table 4.
PAPER_QUERIES = ("column", "counter", "horn", "meat", "monitor")
# The paper's neighbours (word2vec | SVLR), printed beside ours.
PAPER_TABLE4 = {
    "column": (["newspaper", "magazine", "book", "letter"],
               ["pillar", "post", "pole", "tower", "chimney"]),
    "counter": (["curb", "stem", "foil", "stop", "dispenser"],
                ["shelf", "stove", "countertop", "burner"]),
    "horn": (["piano", "guitar", "brass", "pedal"], ["tail", "harness", "tag", "paw"]),
    "meat": (["chicken", "lamb", "food", "uncooked"],
             ["rice", "scrambled", "piled", "slice"]),
    "monitor": (["watch", "control", "checked", "alert"],
                ["keyboard", "computer", "portable"]),
}


def mean_centred_unit(vectors: np.ndarray) -> np.ndarray:
  """[N, E] -> rows centred on their mean and scaled to unit length (Sec. 5.5)."""
  x = np.asarray(vectors, dtype=np.float64)
  x = x - x.mean(axis=0, keepdims=True)
  return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def nearest_neighbours(vectors: np.ndarray, queries: Sequence[int],
                       k: int) -> np.ndarray:
  """Top-k rows by cosine similarity after mean centring, the query excluded.

  Args:
    vectors: [N, E] candidate vectors (rows are candidates).
    queries: row indices of the query words.
    k: neighbours per query.

  Returns:
    [len(queries), k] row indices, most similar first (ties by row order).
  """
  unit = mean_centred_unit(vectors)
  queries = np.asarray(queries, dtype=np.int64)
  sims = unit[queries] @ unit.T                                     # [q, N]
  sims[np.arange(len(queries)), queries] = -np.inf
  return np.argsort(-sims, axis=1, kind="stable")[:, :k]


@functools.lru_cache(maxsize=None)
def _noun_synsets(word: str):
  from svlr_tf import text
  wn = text.wordnet()
  if wn is None:
    return ()
  return tuple(wn.synsets(word.replace(" ", "_"), pos="n"))


def wordnet_similarity(a: str, b: str) -> Optional[float]:
  """Largest WordNet path similarity between noun senses of two words.

  None when either word has no noun sense (or WordNet is not installed).
  """
  sa, sb = _noun_synsets(a), _noun_synsets(b)
  if not sa or not sb:
    return None
  return max((x.path_similarity(y) or 0.0) for x in sa for y in sb)


def wordnet_available() -> bool:
  from svlr_tf import text
  return text.wordnet() is not None


def neighbour_similarity(queries: Sequence[str],
                         neighbours: Sequence[Sequence[str]]) -> Dict[str, object]:
  """Mean WordNet path similarity of each query to its neighbours.

  Returns {"mean": float (None if no pair has noun senses), "pairs": number of
  scored (query, neighbour) pairs, "skipped": pairs without noun senses}.
  """
  scores, skipped = [], 0
  for q, ns in zip(queries, neighbours):
    for n in ns:
      s = wordnet_similarity(q, n)
      if s is None:
        skipped += 1
      else:
        scores.append(s)
  return {"mean": round(float(np.mean(scores)), 4) if scores else None,
          "pairs": len(scores), "skipped": skipped}


def candidate_word_ids(data, vqa_splits: Sequence) -> np.ndarray:
  """Sorted ids of the words that can be grounded (module docstring).

  Args:
    data: PreparedData.
    vqa_splits: loaded VQASplit objects whose nouns / adjectives count.
  """
  ids = [data.class_word_ids("objects", 8).ravel(),
         data.class_word_ids("attributes", 8).ravel()]
  for split in vqa_splits:
    for field in ("question_nouns", "question_adjectives", "choice_nouns",
                  "choice_adjectives"):
      ids.append(np.unique(getattr(split, field)))
  ids = np.unique(np.concatenate(ids))
  return ids[ids > 1]  # not <pad> / <unk>


def choose_queries(words: Sequence[str], objects_by_frequency: Sequence[str],
                   attributes_by_frequency: Sequence[str], num_objects: int = 6,
                   num_attributes: int = 4) -> List[str]:
  """The paper's query words that are candidates, then the most frequent object
  and attribute names (single words, candidates) until there are
  ``num_objects + num_attributes`` queries."""
  candidates = set(words)
  queries = [w for w in PAPER_QUERIES if w in candidates]
  want = num_objects + num_attributes
  extra_objects = [w for w in objects_by_frequency
                   if w in candidates and w not in queries]
  extra_attributes = [w for w in attributes_by_frequency
                      if w in candidates and w not in queries]
  n_obj = max(0, num_objects - len(queries))
  queries += extra_objects[:n_obj]
  queries += extra_attributes[:num_attributes]
  queries += [w for w in extra_objects[n_obj:] if w not in queries][
      :max(0, want - len(queries))]
  return queries[:want]
