"""The world's true visual similarity of its classes, and its rank correlation
with word vectors (Table 4's direct test of Sec. 5.5)."""

import json
import os

import numpy as np
import pytest

from svlr_tf.runtime.errors import DataError
from svlr_tf.evaluation import visual_similarity as vs
from svlr_tf.world import truth as world_truth


def _meta(tiny_world):
  with open(os.path.join(tiny_world, "meta.json")) as f:
    return json.load(f)


def test_latent_similarity_is_the_worlds_and_follows_its_hypernyms(tiny_data, tiny_world):
  meta = _meta(tiny_world)
  truth = world_truth.latent_class_similarity(meta, tiny_data.objects)
  n = len(tiny_data.objects)
  assert truth.shape == (n, n)
  np.testing.assert_allclose(np.diag(truth), 1.0)
  np.testing.assert_allclose(truth, truth.T)
  # A class is closer to its hypernym classes (shared synset prototypes) than
  # the average pair: dog -> animal, car -> vehicle, man -> person.
  at = tiny_data.objects.index
  mean_off_diagonal = truth[~np.eye(n, dtype=bool)].mean()
  for child, parent in (("dog", "animal"), ("car", "vehicle"), ("man", "person")):
    assert truth[at(child), at(parent)] > mean_off_diagonal + 0.2


def test_latent_similarity_refuses_real_data_and_other_worlds(tiny_data, tiny_world):
  with pytest.raises(DataError, match="not a simulated world"):
    world_truth.latent_class_similarity({"source": "vqa"}, tiny_data.objects)
  meta = _meta(tiny_world)
  config = meta["world_config"]
  other = dict(config, object_names=list(reversed(config["object_names"])))
  with pytest.raises(DataError, match="differ"):
    world_truth.latent_class_similarity(dict(meta, world_config=other), tiny_data.objects)
  with pytest.raises(DataError, match="does not know"):
    world_truth.latent_class_similarity(
        dict(meta, world_config=dict(meta["world_config"], bogus=1)), tiny_data.objects)


def test_similarity_correlation():
  rng = np.random.default_rng(0)
  truth_vectors = rng.standard_normal((6, 4))
  unit = truth_vectors / np.linalg.norm(truth_vectors, axis=1, keepdims=True)
  # Word vectors equal to the (already centred-irrelevant) truth plus far-away
  # distractor rows: the 6 classes are rows 2..7 of 10 candidates.
  candidates = np.zeros((10, 4))
  candidates[2:8] = truth_vectors
  rows = list(range(2, 8))
  centred = candidates - candidates.mean(0)
  centred_unit = centred[rows] / np.linalg.norm(centred[rows], axis=1, keepdims=True)
  rho = vs.similarity_correlation(candidates, rows, centred_unit @ centred_unit.T)
  assert rho == pytest.approx(1.0)
  noise = vs.similarity_correlation(rng.standard_normal((10, 4)), rows, unit @ unit.T)
  assert -0.9 < noise < 0.9
  with pytest.raises(ValueError, match="at least 3"):
    vs.similarity_correlation(candidates, [0, 1], np.eye(2))
