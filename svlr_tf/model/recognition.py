"""Visual recognition with SVLR (Sec. 3.2): open-vocabulary scores and losses.

Scores: object f_o(R)^T g(w), attribute f_a(R)^T g(v) for any list of words.
Losses: ``object_margin_loss`` (Eq. 1), ``attribute_loss`` (Eq. 2).
The Joint Multitask baseline (Sec. 5.2) replaces g(y) by ``ClassVectors`` h_y.
"""

from __future__ import annotations

import keras
from keras import ops

from svlr_tf.model.svlr import average_word_embedding


def class_embeddings(word_embedding, class_words):
  """g(y) for every class y, from its word ids.

  A multi-word class name ("tennis racket") is embedded as the mean of g over
  its words, like the answer representation a(A) of Sec. 3.3, so its score
  f(R)^T g(y) is the mean of the per-word scores.

  Args:
    word_embedding: g (a ``WordEmbedding``).
    class_words: [n, Lc] int ids, 0-padded.
  Returns: [n, E].
  """
  return average_word_embedding(word_embedding, class_words)


def recognition_scores(region_embeddings, class_vectors):
  """Classification scores f(R)^T g(y) (Sec. 3.2.1).

  Args:
    region_embeddings: f_o(R) or f_a(R), [..., E].
    class_vectors: g(y) (or h_y in the multitask baseline), [n, E].
  Returns: [..., n].
  """
  return ops.matmul(region_embeddings, ops.transpose(class_vectors))


@keras.saving.register_keras_serializable(package="svlr_tf")
class ClassVectors(keras.layers.Layer):
  """Learned per-class vectors h_y of the Joint Multitask baseline (Sec. 5.2).

  Replaces g(y) in the recognition heads: a trainable [num_classes, E] matrix,
  Xavier (glorot_uniform) initialized, no bias.

  Args:
    num_classes: |O| or |T|.
    embedding_dim: E.
  Call: no inputs needed (``inputs`` ignored); returns h [num_classes, E].
  """

  def __init__(self, num_classes: int, embedding_dim: int, **kwargs):
    super().__init__(**kwargs)
    self.num_classes = int(num_classes)
    self.embedding_dim = int(embedding_dim)

  def build(self, input_shape=None):
    self.vectors = self.add_weight(
        shape=(self.num_classes, self.embedding_dim),
        initializer="glorot_uniform", trainable=True, name="vectors")
    self.built = True

  def call(self, inputs=None):
    return ops.convert_to_tensor(self.vectors)

  def get_config(self):
    config = super().get_config()
    config.update({"num_classes": self.num_classes,
                   "embedding_dim": self.embedding_dim})
    return config


def object_margin_loss(object_scores, object_targets, margin=1.0):
  """Multi-label margin ranking object loss, Eq. 1.

    L_obj = 1/M sum_j 1/|H_j| sum_{l in H_j} 1/|O| sum_{k in O \\ H_j}
            max(0, eta_obj + s_jk - s_jl)

  with the paper's 1/|O| (not 1/|O \\ H_j|). A region with no positive (or no
  negative) contributes 0 and still counts in M.

  Computed exactly in O(M |O| log |O|) memory-light form instead of the
  [M, |O|, |O|] pairwise tensor: in each row the values s_k + eta (negatives)
  and s_l (positives) are sorted together in descending order; a positive l
  then pays sum over the negatives before it of (s_k + eta - s_l), read off
  cumulative sums. Ties pay 0 either way, so their order does not matter.

  Args:
    object_scores: [M, O] scores f_o(R_j)^T g(k).
    object_targets: [M, O] multi-hot H_j (annotated names + hypernyms).
    margin: eta_obj (paper: 1).
  Returns: scalar.
  """
  scores = ops.cast(object_scores, "float32")
  positive = ops.cast(ops.greater(object_targets, 0.5), "float32")
  negative = 1.0 - positive
  num_classes = ops.shape(scores)[-1]
  values = ops.concatenate([scores + margin, scores], axis=-1)  # [M, 2O]
  is_negative = ops.concatenate([negative, ops.zeros_like(positive)], axis=-1)
  is_positive = ops.concatenate([ops.zeros_like(negative), positive], axis=-1)
  order = ops.argsort(-ops.stop_gradient(values), axis=-1)
  values = ops.take_along_axis(values, order, axis=-1)
  is_negative = ops.take_along_axis(is_negative, order, axis=-1)
  is_positive = ops.take_along_axis(is_positive, order, axis=-1)
  negative_sum = ops.cumsum(values * is_negative, axis=-1)
  negative_count = ops.cumsum(is_negative, axis=-1)
  pair_sum = ops.sum(is_positive * (negative_sum - negative_count * values),
                     axis=-1)  # [M]
  num_positive = ops.sum(positive, axis=-1)
  per_region = pair_sum / (ops.maximum(num_positive, 1.0)
                           * ops.cast(num_classes, "float32"))
  return ops.mean(per_region)


def attribute_loss(attribute_scores, attribute_targets):
  """Weighted independent sigmoid cross entropies, Eq. 2 (as a loss).

    L_atr = -1/M sum_j sum_t [ 1[t in T_j] (1 - G(t)) log sigma(s_jt)
                              + 1[t not in T_j] G(t) log(1 - sigma(s_jt)) ]

  G(t) is the fraction of the M regions of the batch that have attribute t
  (a constant: no gradient). Eq. 2 as printed lacks the minus sign; this is
  the loss to minimize. Attributes absent from (or present in all of) the
  batch get weight 0 on the empty side, so nothing is NaN.

  Args:
    attribute_scores: [M, T] logits f_a(R_j)^T g(t).
    attribute_targets: [M, T] multi-hot T_j.
  Returns: scalar.
  """
  logits = ops.cast(attribute_scores, "float32")
  targets = ops.cast(ops.greater(attribute_targets, 0.5), "float32")
  gamma = ops.stop_gradient(ops.mean(targets, axis=0, keepdims=True))  # [1, T]
  log_sigmoid = -ops.softplus(-logits)
  log_one_minus_sigmoid = -ops.softplus(logits)
  per_region = ops.sum(targets * (1.0 - gamma) * log_sigmoid
                       + (1.0 - targets) * gamma * log_one_minus_sigmoid,
                       axis=-1)
  return -ops.mean(per_region)
