"""Visual question answering with SVLR (Sec. 3.3).

Shapes: P questions, C choices per question, K regions per image, E the SVLR
width, L words of a padded word list, N = |O| + |T| classes.

  ``max_alignment`` / ``pool_alignments``  max_{n in N} f(R)^T g(n) of Eq. 3
  ``attention_logits``                     a'(R), Eq. 3
  ``attention_scores``                     a(R), Eq. 4 (masked softmax)
  ``image_representation``                 f(I), Eq. 5
  ``question_representation``              q(Q), 4 bins (Sec. 3.3)
  ``answer_representation``                a(A) (Sec. 3.3)
  ``BimodalScorer``                        beta and S, Eq. 6-7
  ``answer_margin_loss``                   L_ans, Eq. 8

Region embeddings and region class scores are per image ([P, K, ...]) and are
broadcast against the C choices, never tiled.
"""

from __future__ import annotations

import keras
from keras import ops

from svlr_tf.model.svlr import masked_average

# Stands for "no word" inside a masked max; finite so gradients stay finite.
_NO_WORD = -1e9


def _no_word(dtype):
  """_NO_WORD, or for float16 (mixed_float16, largest finite 65504) a value that
  stays finite: -1e9 would become -inf there and -inf - (-inf) a NaN."""
  return -3e4 if "float16" in str(dtype) and "bfloat16" not in str(dtype) else _NO_WORD


def _tiny(dtype):
  """A positive floor for a sum of weights that float16 can represent."""
  return 1e-4 if "float16" in str(dtype) and "bfloat16" not in str(dtype) else 1e-30


def max_alignment(region_embeddings, word_embeddings, word_mask):
  """max over a word set of f(R)^T g(w), the terms of Eq. 3.

  Args:
    region_embeddings: f_o(R) or f_a(R), [P, K, E].
    word_embeddings: g(w), [P, C, L, E] (a question's words: C = 1).
    word_mask: [P, C, L] bool, False for padding.
  Returns:
    (scores [P, C, K], found [P, C] bool). Where the set is empty ``found`` is
    False and the score is a large negative placeholder.
  """
  _, c, l, e = word_embeddings.shape
  k = region_embeddings.shape[1]
  words = ops.reshape(word_embeddings, (-1, c * l, e))
  scores = ops.matmul(words, ops.transpose(region_embeddings, (0, 2, 1)))
  scores = ops.reshape(scores, (-1, c, l, k))
  scores = ops.where(word_mask[..., None], scores, _no_word(scores.dtype))
  return ops.max(scores, axis=2), ops.any(word_mask, axis=-1)


def pool_alignments(first, second):
  """max over the union of two word sets (question words and answer words).

  Args: two ``(scores [P, C or 1, K], found [P, C or 1])`` from
  ``max_alignment``; they broadcast over C.
  Returns: ``(scores [P, C, K], found [P, C])``.
  """
  return (ops.maximum(first[0], second[0]),
          ops.logical_or(first[1], second[1]))


def attention_logits(noun_alignment, adjective_alignment):
  """a'(R) = max_n f_o(R)^T g(n) + max_j f_a(R)^T g(j), Eq. 3.

  An empty noun (or adjective) set contributes 0. In Eq. 4 this choice only
  matters when both sets are empty (uniform attention): a term that is the
  same for every region cancels in the softmax.

  Args:
    noun_alignment: ``(scores [P, C, K], found [P, C])`` over the nouns N.
    adjective_alignment: the same over the adjectives J.
  Returns: [P, C, K].
  """
  noun_scores, noun_found = noun_alignment
  adjective_scores, adjective_found = adjective_alignment
  return (ops.where(noun_found[..., None], noun_scores, 0.0)
          + ops.where(adjective_found[..., None], adjective_scores, 0.0))


def attention_scores(logits, region_mask):
  """a(R) = softmax of a'(R) over the image's regions, Eq. 4.

  Args:
    logits: a'(R), [P, C, K].
    region_mask: [P, K] bool, False for padded regions (weight exactly 0).
  Returns: [P, C, K], summing to 1 over valid regions (0 if there are none).
  """
  mask = ops.cast(region_mask, "bool")[:, None, :]
  logits = ops.where(mask, logits, _no_word(logits.dtype))
  logits = logits - ops.stop_gradient(ops.max(logits, axis=-1, keepdims=True))
  weights = ops.exp(logits) * ops.cast(mask, logits.dtype)
  return weights / ops.maximum(ops.sum(weights, axis=-1, keepdims=True),
                               _tiny(weights.dtype))


def image_representation(attention, region_class_scores):
  """f(I) = sum_R a(R) [s_o(R); s_a(R)], Eq. 5.

  Args:
    attention: a(R), [P, C, K].
    region_class_scores: [s_o(R); s_a(R)], [P, K, N] with N = |O| + |T|.
  Returns: [P, C, N].
  """
  return ops.matmul(attention, region_class_scores)


def no_image(answer_representation, region_mask, num_classes):
  """The Language Only model's image: f(I) = 0 and a uniform a(R).

  Args:
    answer_representation: a(A), [P, C, E] (for the shapes and dtype).
    region_mask: [P, K] bool, False for padded regions.
    num_classes: N = |O| + |T|.
  Returns: (f(I) zeros [P, C, N], a(R) [P, C, K]: 1 / (valid regions) on each
    valid region). Neither depends on the region features.
  """
  dtype = answer_representation.dtype
  rows = ops.zeros_like(answer_representation[..., :1])  # [P, C, 1]
  image = rows * ops.zeros((num_classes,), dtype)
  attention = rows + ops.cast(region_mask, dtype)[:, None, :]
  return image, attention / ops.maximum(
      ops.sum(attention, axis=-1, keepdims=True), 1.0)


def question_representation(bin_word_embeddings, bin_word_ids):
  """q(Q): average g over the words of each of the 4 bins, concatenated.

  Following Shih et al. (Sec. 3.3). An empty bin gives zeros.

  Args:
    bin_word_embeddings: g of the bins' words, [P, B, L, E] (B = 4).
    bin_word_ids: [P, B, L] int ids, 0 = pad.
  Returns: [P, B * E].
  """
  _, b, _, e = bin_word_embeddings.shape
  bins = masked_average(bin_word_embeddings, ops.not_equal(bin_word_ids, 0))
  return ops.reshape(bins, (-1, b * e))


def answer_representation(answer_word_embeddings, answer_word_ids):
  """a(A): average of g over the answer's words (Sec. 3.3).

  Args:
    answer_word_embeddings: [P, C, L, E].
    answer_word_ids: [P, C, L] int ids, 0 = pad.
  Returns: [P, C, E] (zeros for an empty answer).
  """
  return masked_average(answer_word_embeddings,
                        ops.not_equal(answer_word_ids, 0))


@keras.saving.register_keras_serializable(package="svlr_tf")
class BimodalScorer(keras.layers.Layer):
  """Answer scoring, Eq. 6-7.

    beta(Q, I, A) = B1(W1 f(I)) + B2(W2 [q(Q); a(A)])       (Eq. 6)
    S(Q, I, A)    = W3 ReLU(beta(Q, I, A))                  (Eq. 7)

  W1: N -> bimodal_dim, W2: (B E + E) -> bimodal_dim, W3: bimodal_dim -> 1,
  Xavier initialized. No biases: W1 and W2 feed a batch norm whose beta is the
  offset, and a bias of W3 adds the same constant to every choice, which
  cancels in Eq. 8 and in the argmax. W2 [q; a] is computed as
  W2_q q + W2_a a so the question part is done once per question, not per
  choice. The batch norms see the P * C (question, choice) rows.

  Args:
    bimodal_dim: width of beta (paper: 2500).

  Call arguments:
    image_representation: f(I), [P, C, N].
    question_representation: q(Q), [P, B * E].
    answer_representation: a(A), [P, C, E].
    training: batch statistics or moving averages in B1, B2.
    mask: optional [P, C] bool: rows left out of the batch statistics.
  Returns: S, [P, C].
  """

  def __init__(self, bimodal_dim: int, **kwargs):
    super().__init__(**kwargs)
    self.bimodal_dim = int(bimodal_dim)
    self.supports_masking = True  # ``mask`` selects batch-norm rows
    self.image_norm = keras.layers.BatchNormalization(
        dtype=self.dtype_policy, name="image_norm")
    self.language_norm = keras.layers.BatchNormalization(
        dtype=self.dtype_policy, name="language_norm")

  def build(self, image_representation_shape, question_representation_shape,
            answer_representation_shape):
    num_classes = image_representation_shape[-1]
    self.question_dim = int(question_representation_shape[-1])
    answer_dim = int(answer_representation_shape[-1])
    self.image_kernel = self.add_weight(
        shape=(num_classes, self.bimodal_dim), initializer="glorot_uniform",
        name="w1")
    self.language_kernel = self.add_weight(
        shape=(self.question_dim + answer_dim, self.bimodal_dim),
        initializer="glorot_uniform", name="w2")
    self.score_kernel = self.add_weight(
        shape=(self.bimodal_dim, 1), initializer="glorot_uniform", name="w3")
    self.image_norm.build((None, self.bimodal_dim))
    self.language_norm.build((None, self.bimodal_dim))
    self.built = True

  def call(self, image_representation, question_representation,
           answer_representation, training=None, mask=None):
    _, c, n = image_representation.shape
    flat_mask = None if mask is None else ops.reshape(mask, (-1,))
    image = ops.matmul(ops.reshape(image_representation, (-1, n)),
                       self.image_kernel)
    question_part = ops.matmul(question_representation,
                               self.language_kernel[:self.question_dim])
    answer_part = ops.matmul(answer_representation,
                             self.language_kernel[self.question_dim:])
    language = ops.reshape(question_part[:, None, :] + answer_part,
                           (-1, self.bimodal_dim))
    beta = (self.image_norm(image, training=training, mask=flat_mask)
            + self.language_norm(language, training=training, mask=flat_mask))
    scores = ops.matmul(ops.relu(beta), self.score_kernel)
    return ops.reshape(scores, (-1, c))

  def compute_mask(self, *args, mask=None, **kwargs):
    return None

  def get_config(self):
    config = super().get_config()
    config.update({"bimodal_dim": self.bimodal_dim})
    return config


def answer_margin_loss(scores, labels, margin=1.0, sample_weight=None):
  """Answer margin loss, Eq. 8.

    L_ans = 1/(N P) sum_j sum_i max(0, eta_ans + S(Q_j, I_j, A_j^-(i))
                                        - S(Q_j, I_j, A_j^+))

  Args:
    scores: S, [P, C]; the N = C - 1 choices other than the label are the
      negatives.
    labels: [P] int, index of A^+.
    margin: eta_ans (paper: 1).
    sample_weight: optional [P] (e.g. the ``valid`` flags of an evaluation
      batch); the mean is then over the weighted questions.
  Returns: scalar.
  """
  scores = ops.cast(scores, "float32")
  num_choices = scores.shape[-1]
  labels = ops.cast(labels, "int32")
  positive = ops.take_along_axis(scores, labels[:, None], axis=-1)  # [P, 1]
  is_negative = 1.0 - ops.one_hot(labels, num_choices, dtype="float32")
  hinge = ops.relu(margin + scores - positive) * is_negative
  per_question = ops.sum(hinge, axis=-1) / float(num_choices - 1)
  if sample_weight is None:
    return ops.mean(per_question)
  weight = ops.cast(sample_weight, "float32")
  return ops.sum(per_question * weight) / ops.maximum(ops.sum(weight), 1.0)
