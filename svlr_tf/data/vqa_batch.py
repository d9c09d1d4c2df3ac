"""The VQA batch contract: the keys, dtypes and shapes of a batch of P questions.

One statement, derived from the config (``vqa_batch_spec_for``), read by the
training input (``svlr_tf.data.pipeline``, ``svlr_tf.data.resident``) for its
tf.data signature and by the export bundle (``svlr_tf.inference.bundle``) for
its SavedModel signature. A batch (K regions of D-d features per image, C
choices, Lq / La words per question / answer, Nb = 4 question bins):

  image_features      [P, K, D]      float16 (training input) / float32 (export)
  region_mask         [P, K]         bool
  question_bins       [P, Nb, Lq]    int32 word ids (0 = pad)
  question_nouns      [P, Lq]        int32
  question_adjectives [P, Lq]        int32
  choice_words        [P, C, La]     int32
  choice_nouns        [P, C, La]     int32
  choice_adjectives   [P, C, La]     int32
  label               [P]            int32 index of the correct choice
  question_id         [P]            int64
  question_type       [P]            int32

The model reads ``VQA_INPUT_KEYS``; ``label``, ``question_id`` and
``question_type`` are for the losses and the scoring.
"""

from __future__ import annotations

from typing import Dict, Optional

import tensorflow as tf

from svlr_tf.config import ExperimentConfig
from svlr_tf.data.prepared import VQA_TEXT_KEYS

VQA_INPUT_KEYS = ("image_features", "region_mask", "question_bins", "question_nouns",
                  "question_adjectives", "choice_words", "choice_nouns",
                  "choice_adjectives")
VQA_BATCH_KEYS = ("image_features", "region_mask") + VQA_TEXT_KEYS


def vqa_text_spec(p: Optional[int], k: int, nb: int, lq: int, c: int,
                  la: int) -> Dict[str, tuple]:
  """(dtype, static shape) of a batch of ``p`` questions' "region_mask" and
  ``VQA_TEXT_KEYS`` arrays, in that order (what follows the features, or the
  resident input's image slots, in a VQA gather's output)."""
  spec = {"region_mask": (tf.bool, [p, k]),
          "question_bins": (tf.int32, [p, nb, lq]),
          "question_nouns": (tf.int32, [p, lq]),
          "question_adjectives": (tf.int32, [p, lq]),
          "choice_words": (tf.int32, [p, c, la]), "choice_nouns": (tf.int32, [p, c, la]),
          "choice_adjectives": (tf.int32, [p, c, la]), "label": (tf.int32, [p]),
          "question_id": (tf.int64, [p]), "question_type": (tf.int32, [p])}
  return {key: spec[key] for key in ("region_mask",) + VQA_TEXT_KEYS}


def vqa_batch_spec(p: Optional[int], k: int, d: int, nb: int, lq: int, c: int, la: int,
                   features_dtype: tf.DType = tf.float16) -> Dict[str, tuple]:
  """(dtype, static shape) of every key of a VQA batch (``VQA_BATCH_KEYS`` order);
  ``p`` None: any batch size."""
  return {"image_features": (features_dtype, [p, k, d]),
          **vqa_text_spec(p, k, nb, lq, c, la)}


def vqa_batch_spec_for(config: ExperimentConfig, batch_size: Optional[int] = None,
                       features_dtype: tf.DType = tf.float16) -> Dict[str, tuple]:
  """``vqa_batch_spec`` of the config's data and model fields."""
  d, m = config.data, config.model
  return vqa_batch_spec(batch_size, d.regions_per_image, m.region_feature_dim,
                        m.num_question_bins, d.max_question_words, d.num_choices,
                        d.max_answer_words, features_dtype)


def input_signature(config: ExperimentConfig) -> Dict[str, tf.TensorSpec]:
  """The model's VQA inputs (``VQA_INPUT_KEYS``) as named ``tf.TensorSpec`` of any
  batch size, float32 features: the export bundle's ``answer`` signature."""
  spec = vqa_batch_spec_for(config, None, tf.float32)
  return {key: tf.TensorSpec(spec[key][1], spec[key][0], name=key)
          for key in VQA_INPUT_KEYS}
