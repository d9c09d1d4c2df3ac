"""The whole model: SVLR module + recognition heads + VQA model (Fig. 2, 3).

``SVLRModel`` computes recognition scores (Sec. 3.2), VQA scores and
attention (Eq. 3-7), zero-shot VQA scores (Eq. 9) and the losses of Eq. 1, 2,
8 and their weighted sum, Eq. 10 (``joint_loss``). ``ModelConfig.multitask``
builds the Joint Multitask baseline of Sec. 5.2 instead, and
``ModelConfig.attention_words`` / ``image_class_vectors`` the two ablation
variants of ``reproduce.ablation``.

This file is the wiring of the tasks and variants into one Keras model; every
equation lives in recognition.py, vqa.py, zero_shot.py or joint_loss.py, and
the grounding that Eq. 3-9 share in grounding.py.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import ops

from svlr_tf.config import LossConfig, ModelConfig
from svlr_tf.model.grounding import ground_words
from svlr_tf.model.joint_loss import LOSS_NAMES, as_loss_config, joint_loss
from svlr_tf.model.recognition import (ClassVectors, attribute_loss,
                                       class_embeddings, object_margin_loss,
                                       recognition_scores)
from svlr_tf.model.svlr import RegionEmbedding, WordEmbedding, embed_word_ids
from svlr_tf.model.vqa import (BimodalScorer, answer_margin_loss,
                               answer_representation, image_representation,
                               no_image, question_representation)
from svlr_tf.model.zero_shot import EMPTY_QUESTION_READINGS
from svlr_tf.model.zero_shot import zero_shot_scores as _zero_shot_scores

__all__ = ["LOSS_NAMES", "SVLRModel", "joint_loss"]


def _model_config(model_config) -> ModelConfig:
  if isinstance(model_config, ModelConfig):
    return model_config
  return ModelConfig(**dict(model_config))


@keras.saving.register_keras_serializable(package="svlr_tf")
class SVLRModel(keras.Model):
  """SVLR joint model (Sec. 3) or the Joint Multitask baseline (Sec. 5.2).

  Args:
    model_config: ``ModelConfig`` or its dict.
    word_vectors: [V, d] float pretrained vectors, frozen (row 0 = ``<pad>``).
    object_class_words: [O, Lc] int ids of the object class names (0 = pad).
    attribute_class_words: [T, Lc] int ids of the attribute class names.

  The word vectors and class-word matrices are non-trainable weights: a saved
  model carries them; its config holds only their shapes.

  Layers (for analyses, Fig. 4 / Table 4): ``word_embedding`` (g, on word
  ids), ``object_embedding`` (f_o) and ``attribute_embedding`` (f_a) (on
  region features), ``bimodal_scorer`` (Eq. 6-7); in the multitask baseline
  also ``object_class_vectors`` / ``attribute_class_vectors`` (h_y); with
  ``attention_words="vqa_only"`` also ``attention_word_embedding`` (the word
  embedding of Eq. 3, trained by VQA only); with
  ``image_class_vectors="vqa_only"`` also ``image_object_class_vectors`` /
  ``image_attribute_class_vectors`` (the class vectors of s(R) in Eq. 5,
  trained by VQA only).

  In the multitask baseline, recognition uses f_o(R)^T h_y and f_a(R)^T h_y;
  the VQA model keeps g (unshared) for attention and the Q/A representations,
  and its image representation (Eq. 5) pools the recognition heads' class
  logits f_o(R)^T h_y, f_a(R)^T h_y (the shared visual features).

  ``call(inputs)`` takes a training element ({"recognition": ..., "vqa": ...},
  docs/architecture.md "Batches") and returns the scores of the tasks present:
  {"object_scores", "attribute_scores", "vqa_scores", "attention"}.
  """

  def __init__(self, model_config, word_vectors, object_class_words,
               attribute_class_words, **kwargs):
    super().__init__(**kwargs)
    config = _model_config(model_config)
    word_vectors = np.asarray(word_vectors, dtype=np.float32)
    object_class_words = np.asarray(object_class_words, dtype=np.int32)
    attribute_class_words = np.asarray(attribute_class_words, dtype=np.int32)
    _check_inputs(config, word_vectors, object_class_words,
                  attribute_class_words)
    self.model_config = config
    e = config.embedding_dim

    # SVLR module (Sec. 3.1).
    self.word_embedding = WordEmbedding(
        word_vectors.shape[0], config.word_vector_dim, config.word_hidden_dim,
        e, word_vectors=word_vectors, name="word_embedding")
    self.object_embedding = RegionEmbedding(
        config.region_hidden_dim, e, config.region_final_relu,
        name="object_embedding")
    self.attribute_embedding = RegionEmbedding(
        config.region_hidden_dim, e, config.region_final_relu,
        name="attribute_embedding")
    # Recognition heads of the Joint Multitask baseline (Sec. 5.2).
    if config.multitask:
      self.object_class_vectors = ClassVectors(
          config.num_object_classes, e, name="object_class_vectors")
      self.attribute_class_vectors = ClassVectors(
          config.num_attribute_classes, e, name="attribute_class_vectors")
    # Ablation variants (reproduce.ablation): a second word embedding for the
    # attention of Eq. 3, or separate class vectors for Eq. 5, trained by VQA only.
    if config.attention_words == "vqa_only":
      self.attention_word_embedding = WordEmbedding(
          word_vectors.shape[0], config.word_vector_dim, config.word_hidden_dim,
          e, word_vectors=word_vectors, name="attention_word_embedding")
    if config.image_class_vectors == "vqa_only":
      self.image_object_class_vectors = ClassVectors(
          config.num_object_classes, e, name="image_object_class_vectors")
      self.image_attribute_class_vectors = ClassVectors(
          config.num_attribute_classes, e, name="image_attribute_class_vectors")
    # Answer scoring (Eq. 6-7).
    self.bimodal_scorer = BimodalScorer(config.bimodal_dim,
                                        name="bimodal_scorer")

    # Everything has a known shape: build now, so weights load into it.
    self.word_embedding.build(None)
    self.object_embedding.build((None, config.region_feature_dim))
    self.attribute_embedding.build((None, config.region_feature_dim))
    if config.multitask:
      self.object_class_vectors.build(None)
      self.attribute_class_vectors.build(None)
    if config.attention_words == "vqa_only":
      self.attention_word_embedding.build(None)
    if config.image_class_vectors == "vqa_only":
      self.image_object_class_vectors.build(None)
      self.image_attribute_class_vectors.build(None)
    num_classes = config.num_object_classes + config.num_attribute_classes
    self.bimodal_scorer.build((None, None, num_classes),
                              (None, config.num_question_bins * e), (None, None, e))
    # Class-name word ids as float32 weights (exact below 2**24): int32
    # variables live in host memory, which XLA and MirroredStrategy reject.
    self._object_class_words = self.add_weight(
        shape=object_class_words.shape, initializer="zeros", dtype="float32",
        trainable=False, name="object_class_words")
    self._object_class_words.assign(object_class_words.astype(np.float32))
    self._attribute_class_words = self.add_weight(
        shape=attribute_class_words.shape, initializer="zeros",
        dtype="float32", trainable=False, name="attribute_class_words")
    self._attribute_class_words.assign(
        attribute_class_words.astype(np.float32))
    self.built = True

  # ----------------------------------------------------------------- classes

  @property
  def object_class_words(self):
    """[O, Lc] int32 word ids of the object class names."""
    return ops.cast(self._object_class_words, "int32")

  @property
  def attribute_class_words(self):
    """[T, Lc] int32 word ids of the attribute class names."""
    return ops.cast(self._attribute_class_words, "int32")

  def class_vectors(self):
    """The class vectors of the recognition heads: ([O, E], [T, E]).

    g(y) (mean of g over a class name's words) for SVLR; h_y for multitask.
    """
    if self.model_config.multitask:
      return self.object_class_vectors(), self.attribute_class_vectors()
    return (class_embeddings(self.word_embedding, self.object_class_words),
            class_embeddings(self.word_embedding, self.attribute_class_words))

  # ------------------------------------------------------------- recognition

  def recognition_scores(self, region_features, training=False,
                         class_vectors=None):
    """Object and attribute scores of regions (Sec. 3.2.1).

    Args:
      region_features: [M, D] (float16 or float32).
      training: batch norm mode.
      class_vectors: optional precomputed ``class_vectors()``.
    Returns: (object_scores [M, O], attribute_scores [M, T]).
    """
    objects, attributes = class_vectors or self.class_vectors()
    object_regions = self.object_embedding(region_features, training=training)
    attribute_regions = self.attribute_embedding(region_features,
                                                 training=training)
    return (recognition_scores(object_regions, objects),
            recognition_scores(attribute_regions, attributes))

  # --------------------------------------------------------------------- VQA

  def _ground(self, vqa, training, extra_ids=(), word_vectors=None,
              attention_words=None):
    """Regions, word alignments and attention shared by Eq. 3-9
    (``grounding.ground_words`` with this model's f_o, f_a and g)."""
    return ground_words(vqa, self.object_embedding, self.attribute_embedding,
                        self.word_embedding, training=training,
                        extra_ids=extra_ids, word_vectors=word_vectors,
                        attention_words=attention_words)

  def attention_words(self):
    """The word embedding of the attention of Eq. 3: g, or the VQA-only one."""
    if self.model_config.attention_words == "vqa_only":
      return self.attention_word_embedding
    return self.word_embedding

  def image_class_vectors(self, class_vectors=None):
    """The class vectors of s(R) in Eq. 5: ([O, E], [T, E]).

    The recognition heads' (``class_vectors()``, or ``class_vectors`` when
    given) unless ``image_class_vectors="vqa_only"``.
    """
    if self.model_config.image_class_vectors == "vqa_only":
      return (self.image_object_class_vectors(),
              self.image_attribute_class_vectors())
    return class_vectors or self.class_vectors()

  def vqa_scores(self, vqa_batch, training=False, class_vectors=None,
                 word_vectors=None):
    """Scores of all choices of all questions in one pass (Eq. 3-7).

    Args:
      vqa_batch: the "vqa" dict of docs/architecture.md "Batches".
      training: batch norm mode.
      class_vectors: optional precomputed ``class_vectors()``.
      word_vectors: optional [V', d] table the batch's word ids index instead
        of the model's (words outside the training vocabulary, Sec. 3.2.1).
    Returns: (scores [P, C], attention a(R) [P, C, K]).

    With ``use_image=False`` (Language Only) f(I) is zeros and a(R) is
    uniform over the image's valid regions: the scores do not depend on the
    region features.
    """
    text_ids = [vqa_batch["question_bins"], vqa_batch["choice_words"]]
    if self.model_config.use_image:
      ground = self._ground(vqa_batch, training, extra_ids=text_ids,
                            word_vectors=word_vectors,
                            attention_words=self.attention_words())
      objects, attributes = self.image_class_vectors(class_vectors)
      region_class_scores = ops.concatenate([
          recognition_scores(ground["object_regions"], objects),
          recognition_scores(ground["attribute_regions"], attributes)], axis=-1)
      attention = ground["attention"]
      image = image_representation(attention, region_class_scores)
      bin_embeddings, choice_embeddings = ground["extra_embeddings"]
    elif word_vectors is None:  # Language Only: g on the text, no region read
      bin_embeddings, choice_embeddings = embed_word_ids(self.word_embedding,
                                                         text_ids)
    else:
      bin_embeddings, choice_embeddings = [
          self.word_embedding.embed_vectors(
              ops.take(word_vectors, ops.cast(i, "int32"), axis=0))
          for i in text_ids]
    question = question_representation(bin_embeddings,
                                       vqa_batch["question_bins"])
    answer = answer_representation(choice_embeddings, vqa_batch["choice_words"])
    if not self.model_config.use_image:
      image, attention = no_image(answer, vqa_batch["region_mask"],
                                  self.model_config.num_object_classes
                                  + self.model_config.num_attribute_classes)
    mask = None
    if "valid" in vqa_batch:
      valid = ops.cast(vqa_batch["valid"], "bool")[:, None]
      mask = ops.broadcast_to(valid, ops.shape(answer)[:2])
    scores = self.bimodal_scorer(image, question, answer, training=training,
                                 mask=mask)
    return scores, attention

  def zero_shot_scores(self, vqa_batch, word_vectors=None,
                       return_attention=False):
    """Zero-shot VQA scores, Eq. 9 (inference mode).

    ``word_vectors`` as in ``vqa_scores``. Always with g, the recognition-aligned
    words (also in the ablation variants). Returns [P, C], or (scores,
    attention a(R) [P, C, K]) with ``return_attention``.
    """
    ground = self._ground(vqa_batch, training=False, word_vectors=word_vectors)
    scores = _zero_shot_scores(
        ground["attention"], ground["question_alignment"],
        ground["answer_alignment"],
        empty_question=self.model_config.zero_shot_empty_question)
    return (scores, ground["attention"]) if return_attention else scores

  # ------------------------------------------------------------------ losses

  def compute_losses(self, batch, loss_config=None, training=True):
    """Task losses and their Eq. 10 sum for one training element.

    Args:
      batch: {"recognition": ..., "vqa": ...} (either may be absent).
      loss_config: ``LossConfig`` or its dict (default: the paper's).
      training: batch norm mode.
    Returns: {"loss_obj", "loss_atr", "loss_ans", "loss_total"} scalars; a
      task without a batch reports 0 (allowed only when its alphas are 0).
      ``loss_total`` excludes weight decay.
    """
    config = as_loss_config(loss_config or LossConfig())
    class_vectors = self.class_vectors()
    zero = ops.convert_to_tensor(0.0)
    losses = {"loss_obj": None, "loss_atr": None, "loss_ans": None}
    if "recognition" in batch and batch["recognition"] is not None:
      recognition = batch["recognition"]
      object_scores, attribute_scores = self.recognition_scores(
          recognition["region_features"], training=training,
          class_vectors=class_vectors)
      losses["loss_obj"] = object_margin_loss(
          object_scores, recognition["object_targets"], config.eta_obj)
      losses["loss_atr"] = attribute_loss(attribute_scores,
                                          recognition["attribute_targets"])
    if "vqa" in batch and batch["vqa"] is not None:
      vqa = batch["vqa"]
      scores, _ = self.vqa_scores(vqa, training=training,
                                  class_vectors=class_vectors)
      losses["loss_ans"] = answer_margin_loss(
          scores, vqa["label"], config.eta_ans, sample_weight=vqa.get("valid"))
    total = joint_loss(losses, config)
    result = {name: zero if value is None else value
              for name, value in losses.items()}
    result["loss_total"] = total
    return result

  # ------------------------------------------------------------------- keras

  def call(self, inputs, training=None):
    outputs = {}
    if inputs.get("recognition") is not None:
      outputs["object_scores"], outputs["attribute_scores"] = (
          self.recognition_scores(inputs["recognition"]["region_features"],
                                  training=training))
    if inputs.get("vqa") is not None:
      outputs["vqa_scores"], outputs["attention"] = self.vqa_scores(
          inputs["vqa"], training=training)
    return outputs

  def get_config(self):
    return {
        "name": self.name,
        "trainable": self.trainable,
        "model_config": dataclasses.asdict(self.model_config),
        "word_vectors_shape": list(self.word_embedding.word_vectors.shape),
        "object_class_words_shape": list(self._object_class_words.shape),
        "attribute_class_words_shape": list(self._attribute_class_words.shape),
    }

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    word_vectors = np.zeros(config.pop("word_vectors_shape"), np.float32)
    object_class_words = np.zeros(config.pop("object_class_words_shape"),
                                  np.int32)
    attribute_class_words = np.zeros(config.pop("attribute_class_words_shape"),
                                     np.int32)
    model_config = config.pop("model_config")
    return cls(model_config, word_vectors, object_class_words,
               attribute_class_words, **config)


def _check_inputs(config: ModelConfig, word_vectors: np.ndarray,
                  object_class_words: np.ndarray,
                  attribute_class_words: np.ndarray) -> None:
  for name, allowed in (("attention_words", ("g", "vqa_only")),
                        ("image_class_vectors", ("recognition", "vqa_only"))):
    if getattr(config, name) not in allowed:
      raise ValueError(f"ModelConfig.{name} is {getattr(config, name)!r}; "
                       f"expected one of {allowed}.")
  if config.zero_shot_empty_question not in EMPTY_QUESTION_READINGS:
    raise ValueError(
        f"ModelConfig.zero_shot_empty_question is "
        f"{config.zero_shot_empty_question!r}; expected one of "
        f"{EMPTY_QUESTION_READINGS}.")
  if word_vectors.ndim != 2 or word_vectors.shape[1] != config.word_vector_dim:
    raise ValueError(
        f"word_vectors has shape {word_vectors.shape}; expected "
        f"[V, {config.word_vector_dim}] (ModelConfig.word_vector_dim).")
  if not np.all(np.isfinite(word_vectors)):
    raise ValueError("word_vectors contains NaN or infinite values.")
  for name, words, count in (
      ("object_class_words", object_class_words, config.num_object_classes),
      ("attribute_class_words", attribute_class_words,
       config.num_attribute_classes)):
    if words.ndim != 2 or words.shape[0] != count:
      raise ValueError(f"{name} has shape {words.shape}; expected [{count}, Lc] "
                       "(ModelConfig class count).")
  if word_vectors.shape[0] > 2**24:
    raise ValueError("At most 2**24 words are supported (class-word ids are "
                     "stored as float32).")
  for name, words in (("object_class_words", object_class_words),
                      ("attribute_class_words", attribute_class_words)):
    if words.size and (words.min() < 0 or words.max() >= word_vectors.shape[0]):
      raise ValueError(f"{name} has word ids outside [0, {word_vectors.shape[0]}).")
