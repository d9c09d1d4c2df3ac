"""The Shared Vision-Language Representation (SVLR) module (Sec. 3.1).

g(w)   ``WordEmbedding``:   pretrained word vector -> Dense(300) -> ReLU -> Dense(300).
f_o(R) ``RegionEmbedding``: CNN region feature -> Dense(2048) -> BN -> ReLU
f_a(R)                      -> Dense(300) -> BN (-> ReLU if ``final_relu``).

Words and regions land in one E-dimensional space; every task scores a
region-word pair by the inner product f(R)^T g(w).
"""

from __future__ import annotations

from typing import Optional, Sequence

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="svlr_tf")
class WordEmbedding(keras.layers.Layer):
  """g(w) of Sec. 3.1 over a frozen table of pretrained word vectors.

  The pretrained vectors (word2vec 300-d in the paper, GloVe 50-d for the
  embedded dataset) are a non-trainable weight, so a saved model carries its
  vocabulary; two Dense layers (``hidden_dim`` with ReLU, then
  ``embedding_dim`` without activation) map them into the shared space. Both
  Dense layers have biases (zero initialized): nothing after them cancels one.

  Args:
    vocabulary_size: V, rows of the word-vector table (row 0 is ``<pad>``).
    word_vector_dim: d, width of the pretrained vectors.
    hidden_dim: width of the first Dense layer (paper: 300).
    embedding_dim: E, width of g(w) (paper: 300).
    word_vectors: optional initial table [V, d]; its values are weights (not
      config), so a loaded model gets them from the saved weights.

  Call arguments:
    word_ids: int tensor of any shape [...]; returns g(w) [..., E].
  """

  def __init__(self, vocabulary_size: int, word_vector_dim: int,
               hidden_dim: int, embedding_dim: int,
               word_vectors: Optional[np.ndarray] = None, **kwargs):
    super().__init__(**kwargs)
    self.vocabulary_size = int(vocabulary_size)
    self.word_vector_dim = int(word_vector_dim)
    self.hidden_dim = int(hidden_dim)
    self.embedding_dim = int(embedding_dim)
    if word_vectors is not None:
      word_vectors = np.asarray(word_vectors, dtype=np.float32)
      if word_vectors.shape != (self.vocabulary_size, self.word_vector_dim):
        raise ValueError(
            f"word_vectors has shape {word_vectors.shape}; expected "
            f"({self.vocabulary_size}, {self.word_vector_dim}).")
    self._initial_word_vectors = word_vectors
    self.hidden = keras.layers.Dense(
        self.hidden_dim, activation="relu", kernel_initializer="glorot_uniform",
        bias_initializer="zeros", dtype=self.dtype_policy, name="hidden")
    self.output_dense = keras.layers.Dense(
        self.embedding_dim, kernel_initializer="glorot_uniform",
        bias_initializer="zeros", dtype=self.dtype_policy, name="output")

  def build(self, input_shape=None):
    self.word_vectors = self.add_weight(
        shape=(self.vocabulary_size, self.word_vector_dim),
        initializer="zeros", trainable=False, name="word_vectors")
    if self._initial_word_vectors is not None:
      self.word_vectors.assign(self._initial_word_vectors)
      self._initial_word_vectors = None
    self.hidden.build((None, self.word_vector_dim))
    self.output_dense.build((None, self.hidden_dim))
    self.built = True

  def embed_vectors(self, vectors):
    """g applied to pretrained vectors [..., d] directly -> [..., E].

    Open vocabulary (Sec. 3.2.1): scores for any word with a pretrained
    vector, in the table or not.
    """
    return self.output_dense(self.hidden(ops.cast(vectors, self.compute_dtype)))

  def call(self, word_ids):
    word_ids = ops.cast(word_ids, "int32")
    num_ids = int(np.prod(word_ids.shape)) if None not in word_ids.shape else None
    if num_ids is not None and num_ids > self.vocabulary_size:
      # Same values, less work: g over the whole vocabulary once, then a gather
      # (a batch holds many more word positions than a small vocabulary has words).
      return ops.take(self.embed_vectors(self.word_vectors), word_ids, axis=0)
    vectors = ops.take(self.word_vectors, word_ids, axis=0)
    return self.embed_vectors(vectors)

  def compute_output_shape(self, input_shape):
    return tuple(input_shape) + (self.embedding_dim,)

  def get_config(self):
    config = super().get_config()
    config.update({
        "vocabulary_size": self.vocabulary_size,
        "word_vector_dim": self.word_vector_dim,
        "hidden_dim": self.hidden_dim,
        "embedding_dim": self.embedding_dim,
    })
    return config


@keras.saving.register_keras_serializable(package="svlr_tf")
class RegionEmbedding(keras.layers.Layer):
  """f_o(R) or f_a(R) of Sec. 3.1.

  Dense(hidden_dim) -> BatchNorm -> ReLU -> Dense(embedding_dim) -> BatchNorm
  (-> ReLU if ``final_relu``). The Dense layers have no bias: the batch norm
  that follows each one subtracts the batch mean, so a bias would be dead
  (its offset role is played by the batch norm's beta).

  Args:
    hidden_dim: width of the first layer (paper: 2048).
    embedding_dim: E (paper: 300).
    final_relu: ReLU after the last batch norm (see docs/interpretations.md).

  Call arguments:
    features: [..., D] region features (float16 on disk; cast to float32).
    training: batch statistics (True) or moving averages (False).
    mask: optional bool [...]: False rows (padded regions) are left out of
      the batch-norm statistics.
  Returns [..., E].
  """

  def __init__(self, hidden_dim: int, embedding_dim: int,
               final_relu: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.hidden_dim = int(hidden_dim)
    self.embedding_dim = int(embedding_dim)
    self.final_relu = bool(final_relu)
    self.supports_masking = True  # ``mask`` selects batch-norm rows
    self.hidden = keras.layers.Dense(
        self.hidden_dim, use_bias=False, kernel_initializer="glorot_uniform",
        dtype=self.dtype_policy, name="hidden")
    self.hidden_norm = keras.layers.BatchNormalization(
        dtype=self.dtype_policy, name="hidden_norm")
    self.output_dense = keras.layers.Dense(
        self.embedding_dim, use_bias=False, kernel_initializer="glorot_uniform",
        dtype=self.dtype_policy, name="output")
    self.output_norm = keras.layers.BatchNormalization(
        dtype=self.dtype_policy, name="output_norm")

  def build(self, input_shape):
    feature_dim = input_shape[-1]
    self.hidden.build((None, feature_dim))
    self.hidden_norm.build((None, self.hidden_dim))
    self.output_dense.build((None, self.hidden_dim))
    self.output_norm.build((None, self.embedding_dim))
    self.built = True

  def call(self, features, training=None, mask=None):
    features = ops.cast(features, self.compute_dtype)
    lead_shape = ops.shape(features)[:-1]
    x = ops.reshape(features, (-1, ops.shape(features)[-1]))
    flat_mask = None if mask is None else ops.reshape(mask, (-1,))
    x = self.hidden_norm(self.hidden(x), training=training, mask=flat_mask)
    x = ops.relu(x)
    x = self.output_norm(self.output_dense(x), training=training,
                         mask=flat_mask)
    if self.final_relu:
      x = ops.relu(x)
    return ops.reshape(x, tuple(lead_shape) + (self.embedding_dim,))

  def compute_mask(self, inputs, mask=None):
    return None

  def compute_output_shape(self, input_shape):
    return tuple(input_shape[:-1]) + (self.embedding_dim,)

  def get_config(self):
    config = super().get_config()
    config.update({
        "hidden_dim": self.hidden_dim,
        "embedding_dim": self.embedding_dim,
        "final_relu": self.final_relu,
    })
    return config


def masked_average(values, mask):
  """Average of ``values`` [..., L, E] over the L positions where ``mask``.

  Returns [..., E]; an all-False row gives zeros (never NaN).
  """
  weights = ops.cast(mask, values.dtype)
  total = ops.sum(values * weights[..., None], axis=-2)
  count = ops.sum(weights, axis=-1, keepdims=True)
  return total / ops.maximum(count, 1.0)


def average_word_embedding(word_embedding, word_ids):
  """Mean of g over the non-pad words of each phrase.

  Used for multi-word class names (``class_words`` [n, Lc]) and for the answer
  representation a(A) (Sec. 3.3). Args: ``word_embedding`` a callable g;
  ``word_ids`` [..., L] int ids, 0 = pad. Returns [..., E]; an all-pad phrase
  gives zeros.
  """
  return masked_average(word_embedding(word_ids), ops.not_equal(word_ids, 0))


def embed_word_ids(word_embedding, id_tensors: Sequence):
  """g over several id tensors in one batched pass.

  Flattens and concatenates the ids, applies g once, splits back. Returns a
  list of [*shape_i, E] tensors.
  """
  id_tensors = [ops.cast(t, "int32") for t in id_tensors]
  sizes = [int(np.prod(t.shape)) if None not in t.shape else None for t in id_tensors]
  vocabulary_size = getattr(word_embedding, "vocabulary_size", None)
  if (vocabulary_size is not None and None not in sizes
      and sum(sizes) > vocabulary_size):
    # g over the whole (small) vocabulary once, then one gather per tensor: no
    # concatenation, and no slicing whose gradients would each materialize a
    # zero tensor of the full concatenated size.
    table = word_embedding.embed_vectors(word_embedding.word_vectors)
    return [ops.take(table, ids, axis=0) for ids in id_tensors]
  flat = ops.concatenate([ops.reshape(t, (-1,)) for t in id_tensors], axis=0)
  embedded = word_embedding(flat)
  width = embedded.shape[-1]
  outputs, start = [], 0
  for ids in id_tensors:
    shape = ops.shape(ids)
    size = ops.size(ids)
    if all(isinstance(d, int) for d in shape):
      size = int(np.prod(shape))
    outputs.append(ops.reshape(embedded[start:start + size],
                               tuple(shape) + (width,)))
    start = start + size
  return outputs
