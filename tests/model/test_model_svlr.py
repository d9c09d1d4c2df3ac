"""SVLR module (Sec. 3.1): g, f_o / f_a against NumPy; masks; config round trips."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import keras
import numpy as np
import pytest

import model_test_helpers as h
from svlr_tf.model import (RegionEmbedding, WordEmbedding,
                           average_word_embedding, embed_word_ids,
                           masked_average)


def _word_layer(seed=0):
  rng = np.random.default_rng(seed)
  vectors = rng.normal(size=(h.VOCAB, 6)).astype(np.float32)
  return WordEmbedding(h.VOCAB, 6, 7, 5, word_vectors=vectors), vectors


def test_word_embedding_matches_numpy_and_table_is_frozen():
  layer, vectors = _word_layer()
  ids = np.array([[1, 5, 0], [39, 2, 2]], np.int32)
  out = np.asarray(layer(ids))
  assert out.shape == (2, 3, 5)
  np.testing.assert_allclose(out, h.np_word_embedding(layer, ids), atol=1e-5)
  np.testing.assert_array_equal(np.asarray(layer.word_vectors), vectors)
  assert not layer.word_vectors.trainable
  assert all(w is not layer.word_vectors for w in layer.trainable_weights)
  # Biases start at zero, kernels are Glorot-uniform bounded.
  w1, b1 = layer.hidden.get_weights()
  assert np.all(b1 == 0) and np.abs(w1).max() <= np.sqrt(6 / (6 + 7)) + 1e-6
  # Open vocabulary: g of a raw vector equals g of its table id.
  np.testing.assert_allclose(np.asarray(layer.embed_vectors(vectors[5:6])),
                             out[0, 1:2], atol=1e-6)


def test_word_embedding_rejects_wrong_table_shape():
  with pytest.raises(ValueError, match="word_vectors"):
    WordEmbedding(10, 6, 7, 5, word_vectors=np.zeros((10, 4)))


@pytest.mark.parametrize("final_relu", [False, True])
def test_region_embedding_matches_numpy(final_relu):
  rng = np.random.default_rng(1)
  layer = RegionEmbedding(8, 5, final_relu=final_relu)
  features = rng.normal(size=(3, 4, 9)).astype(np.float16)
  layer.build(features.shape)
  # Non-trivial moving statistics and batch-norm parameters.
  for norm in (layer.hidden_norm, layer.output_norm):
    norm.set_weights([rng.uniform(0.5, 2, size=w.shape) if i in (0, 3)
                      else rng.normal(size=w.shape)
                      for i, w in enumerate(norm.get_weights())])
  out = np.asarray(layer(features, training=False))
  assert out.dtype == np.float32 and out.shape == (3, 4, 5)
  np.testing.assert_allclose(out, h.np_region_embedding(layer, features),
                             atol=1e-4)
  assert (out.min() >= 0) == final_relu
  mask = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], bool)
  out = np.asarray(layer(features, training=True, mask=mask))
  np.testing.assert_allclose(
      out, h.np_region_embedding(layer, features, True, mask), atol=1e-3)


def test_padded_regions_do_not_affect_batch_norm_statistics():
  rng = np.random.default_rng(2)
  layer = RegionEmbedding(8, 5)
  features = rng.normal(size=(2, 3, 9)).astype(np.float32)
  mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
  layer.build(features.shape)
  out1 = np.asarray(layer(features, training=True, mask=mask))
  garbage = features.copy()
  garbage[~mask] = 1e3
  out2 = np.asarray(layer(garbage, training=True, mask=mask))
  np.testing.assert_allclose(out1[mask], out2[mask], atol=1e-4)
  # Without the mask the garbage rows do change the valid rows.
  out3 = np.asarray(layer(garbage, training=True))
  assert np.abs(out3[mask] - out1[mask]).max() > 1e-2


def test_masked_average_and_phrase_embedding():
  values = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
  mask = np.array([[1, 0, 1], [0, 0, 0]], bool)
  out = np.asarray(masked_average(values, mask))
  np.testing.assert_allclose(out[0], (values[0, 0] + values[0, 2]) / 2)
  np.testing.assert_allclose(out[1], 0)
  layer, _ = _word_layer()
  ids = np.array([[3, 4, 0], [0, 0, 0]], np.int32)
  phrase = np.asarray(average_word_embedding(layer, ids))
  g = h.np_word_embedding(layer, np.array([3, 4]))
  np.testing.assert_allclose(phrase[0], g.mean(0), atol=1e-5)
  np.testing.assert_allclose(phrase[1], 0)


def test_embed_word_ids_in_one_pass_matches_separate_calls():
  layer, _ = _word_layer()
  a = np.array([[1, 2], [3, 0]], np.int32)
  b = np.array([[[4, 5, 6]]], np.int32)
  out_a, out_b = embed_word_ids(layer, [a, b])
  np.testing.assert_allclose(np.asarray(out_a), np.asarray(layer(a)), atol=1e-6)
  np.testing.assert_allclose(np.asarray(out_b), np.asarray(layer(b)), atol=1e-6)


def test_svlr_layer_config_round_trip():
  layer, _ = _word_layer()
  config = layer.get_config()
  clone = WordEmbedding.from_config(config)
  assert clone.get_config() == config
  clone.build(None)
  assert clone.word_vectors.shape == (h.VOCAB, 6)
  region = RegionEmbedding(8, 5, final_relu=True, name="f_o")
  clone = RegionEmbedding.from_config(region.get_config())
  assert clone.get_config() == region.get_config()
  assert clone.final_relu and clone.name == "f_o"
  restored = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(region))
  assert isinstance(restored, RegionEmbedding)
