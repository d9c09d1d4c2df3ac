"""Tiny models, batches and plain-NumPy references shared by tests/model."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from svlr_tf.config import ModelConfig

VOCAB = 40
BN_EPSILON = 1e-3  # keras BatchNormalization default


def tiny_model_config(**overrides):
  values = dict(word_vector_dim=6, embedding_dim=5, word_hidden_dim=7,
                region_feature_dim=9, region_hidden_dim=8,
                num_object_classes=6, num_attribute_classes=4, bimodal_dim=6)
  values.update(overrides)
  return ModelConfig(**values)


def make_model(seed=0, **overrides):
  import keras
  from svlr_tf.model import SVLRModel
  keras.utils.set_random_seed(seed)
  config = tiny_model_config(**overrides)
  rng = np.random.default_rng(seed)
  vectors = rng.normal(size=(VOCAB, config.word_vector_dim)).astype(np.float32)
  vectors[0] = 0
  object_words = rng.integers(1, VOCAB, size=(config.num_object_classes, 2))
  object_words[::2, 1] = 0  # half the names are one word
  attribute_words = rng.integers(1, VOCAB,
                                 size=(config.num_attribute_classes, 2))
  attribute_words[:, 1] = 0
  return SVLRModel(config, vectors, object_words, attribute_words)


def padded_ids(rng, shape, min_len=0):
  """Random ids [..., L] with a random number (>= min_len) of leading words."""
  ids = rng.integers(1, VOCAB, size=shape)
  lengths = rng.integers(min_len, shape[-1] + 1, size=shape[:-1])
  return np.where(np.arange(shape[-1]) < lengths[..., None], ids, 0).astype(
      np.int32)


def make_vqa_batch(rng, config, p=3, k=4, c=5, lq=4, la=3, single_region=True,
                   no_adjective=True):
  """A VQA batch with padding; question 0 has 1 region (if single_region) and
  question 1 / choice 0 has no adjective at all (if no_adjective)."""
  counts = rng.integers(2, k + 1, size=p)
  if single_region:
    counts[0] = 1
  batch = {
      "image_features": rng.normal(
          size=(p, k, config.region_feature_dim)).astype(np.float16),
      "region_mask": np.arange(k)[None, :] < counts[:, None],
      "question_bins": padded_ids(rng, (p, 4, lq)),
      "question_nouns": padded_ids(rng, (p, lq)),
      "question_adjectives": padded_ids(rng, (p, lq)),
      "choice_words": padded_ids(rng, (p, c, la), min_len=1),
      "choice_nouns": padded_ids(rng, (p, c, la)),
      "choice_adjectives": padded_ids(rng, (p, c, la)),
      "label": rng.integers(0, c, size=p).astype(np.int32),
      "question_id": np.arange(p, dtype=np.int64),
      "question_type": np.zeros(p, np.int32),
  }
  batch["question_bins"][0, 2] = 0  # an empty bin
  if no_adjective:
    batch["question_adjectives"][1] = 0
    batch["choice_adjectives"][1, 0] = 0
  return batch


def make_recognition_batch(rng, config, m=7):
  objects = (rng.random((m, config.num_object_classes)) < 0.3).astype(
      np.float32)
  objects[0] = 0  # a region without any positive
  attributes = (rng.random((m, config.num_attribute_classes)) < 0.3).astype(
      np.float32)
  attributes[:, 0] = 0  # an attribute absent from the batch
  attributes[:, 1] = 1  # an attribute present everywhere
  return {
      "region_features": rng.normal(
          size=(m, config.region_feature_dim)).astype(np.float16),
      "object_targets": objects,
      "object_labels": objects,
      "attribute_targets": attributes,
  }


# ------------------------------------------------------------ NumPy reference


def np_relu(x):
  return np.maximum(x, 0)


def np_batch_norm(x, layer, training, mask=None):
  gamma, beta, moving_mean, moving_variance = [
      np.asarray(w, np.float64) for w in layer.get_weights()]
  if training:
    rows = x if mask is None else x[mask]
    mean, variance = rows.mean(0), rows.var(0)
  else:
    mean, variance = moving_mean, moving_variance
  return (x - mean) / np.sqrt(variance + BN_EPSILON) * gamma + beta


def np_word_embedding(layer, ids):
  table = np.asarray(layer.word_vectors, np.float64)
  w1, b1 = layer.hidden.get_weights()
  w2, b2 = layer.output_dense.get_weights()
  return np_relu(table[ids] @ w1 + b1) @ w2 + b2


def np_region_embedding(layer, features, training=False, mask=None):
  x = np.asarray(features, np.float64)
  shape = x.shape[:-1]
  x = x.reshape(-1, x.shape[-1])
  flat_mask = None if mask is None else np.asarray(mask).reshape(-1)
  h = np_relu(np_batch_norm(x @ layer.hidden.get_weights()[0],
                            layer.hidden_norm, training, flat_mask))
  out = np_batch_norm(h @ layer.output_dense.get_weights()[0],
                      layer.output_norm, training, flat_mask)
  if layer.final_relu:
    out = np_relu(out)
  return out.reshape(shape + (out.shape[-1],))


def np_mean_words(embedded, ids):
  mask = (ids != 0).astype(np.float64)
  return (embedded * mask[..., None]).sum(-2) / np.maximum(
      mask.sum(-1), 1)[..., None]


def np_max_set(regions, words, ids):
  """max over the set of f(R).g(w): regions [K, E], words [L, E] -> [K] or None."""
  keep = ids != 0
  if not keep.any():
    return None
  return (regions @ words[keep].T).max(axis=1)


def np_grounding(object_regions, attribute_regions, noun_sets, adjective_sets):
  """Eq. 3 for one (image, word sets): each *_sets is a list of (emb, ids)."""
  total = np.zeros(object_regions.shape[0])
  for regions, sets in ((object_regions, noun_sets),
                        (attribute_regions, adjective_sets)):
    embeds = np.concatenate([e for e, _ in sets])
    ids = np.concatenate([i for _, i in sets])
    best = np_max_set(regions, embeds, ids)
    if best is not None:
      total += best
  return total


def np_softmax_masked(logits, mask):
  logits = np.where(mask, logits, -np.inf)
  e = np.exp(logits - logits.max())
  return e / e.sum()
