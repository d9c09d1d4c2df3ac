"""Eq. 3-4 stay finite in float16 (the mixed_float16 policy), padding included."""

import numpy as np

from svlr_tf.model.vqa import attention_scores, max_alignment


def test_float16_attention_with_no_valid_region_is_zero_not_nan():
  logits = np.array([[[1.0, 2.0, 3.0]], [[0.5, 0.5, 0.5]]], np.float16)   # [P=2, C=1, K=3]
  mask = np.array([[True, True, False], [False, False, False]])
  a = np.asarray(attention_scores(logits, mask))
  assert a.dtype == np.float16
  assert np.all(np.isfinite(a))
  np.testing.assert_allclose(a[0, 0], [np.exp(-1) / (1 + np.exp(-1)), 1 / (1 + np.exp(-1)), 0],
                             atol=2e-3)
  assert np.all(a[1] == 0)


def test_float16_empty_word_set_is_finite():
  regions = np.ones((1, 2, 4), np.float16)            # [P, K, E]
  words = np.ones((1, 1, 3, 4), np.float16)           # [P, C, L, E]
  scores, found = max_alignment(regions, words, np.zeros((1, 1, 3), bool))
  assert np.all(np.isfinite(np.asarray(scores)))
  assert not np.asarray(found).any()
