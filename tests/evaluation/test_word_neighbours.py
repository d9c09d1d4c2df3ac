"""Word neighbours of Sec. 5.5 / Table 4: mean-centred cosine, WordNet score, queries."""

import numpy as np
import pytest

from svlr_tf.evaluation import word_neighbours as wn


def test_neighbours_are_by_cosine_after_mean_centring():
  # Raw cosine: every row is close to row 0 (a shared offset); after mean centring,
  # rows 1 and 2 point the same way and row 3 the opposite way.
  offset = np.array([10.0, 10.0])
  vectors = offset + np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.1], [-1.5, 0.0]])
  centred = wn.mean_centred_unit(vectors)
  np.testing.assert_allclose(np.linalg.norm(centred, axis=1), 1.0)
  nn = wn.nearest_neighbours(vectors, [1, 3], k=2)
  assert nn[0].tolist()[0] == 2          # not itself, most similar first
  assert 1 not in nn[0].tolist()
  assert nn[1].tolist()[0] == 0          # row 0 is on row 3's side of the mean
  # By hand: centred rows and their cosine to row 1.
  c = vectors - vectors.mean(0)
  cos = (c @ c[1]) / np.linalg.norm(c, axis=1) / np.linalg.norm(c[1])
  cos[1] = -np.inf
  assert nn[0].tolist() == np.argsort(-cos)[:2].tolist()


@pytest.mark.skipif(not wn.wordnet_available(), reason="WordNet not installed")
def test_wordnet_similarity_prefers_related_nouns():
  assert wn.wordnet_similarity("dog", "cat") > wn.wordnet_similarity("dog", "table")
  assert wn.wordnet_similarity("dog", "dog") == 1.0
  assert wn.wordnet_similarity("dog", "wooden") is None   # no noun sense
  score = wn.neighbour_similarity(["dog"], [["cat", "wooden", "dog"]])
  assert score["pairs"] == 2 and score["skipped"] == 1
  assert score["mean"] == pytest.approx(
      (wn.wordnet_similarity("dog", "cat") + 1.0) / 2, abs=1e-4)


def test_queries_start_with_the_papers_words():
  words = ["monitor", "dog", "cat", "red", "blue", "horn", "wooden", "table"]
  q = wn.choose_queries(words, ["dog", "table", "monitor", "cat", "unseen"],
                        ["red", "wooden", "blue"], num_objects=4, num_attributes=2)
  assert q == ["horn", "monitor", "dog", "table", "red", "wooden"]
  assert len(set(q)) == len(q)


def test_candidates_are_groundable_words(tiny_data):
  split = tiny_data.load_vqa("train", 8, 4, 18)
  ids = wn.candidate_word_ids(tiny_data, [split])
  words = {tiny_data.words[i] for i in ids}
  assert "<pad>" not in words and "<unk>" not in words
  assert set(tiny_data.objects) <= words | {o for o in tiny_data.objects if " " in o}
  assert "the" not in words and "what" not in words
