"""Zero-shot VQA scorer, Eq. 9 (Sec. 3.4): region-word scores only, no VQA weights."""

from __future__ import annotations

from keras import ops

from svlr_tf.model.vqa import attention_logits


def zero_shot_scores(attention, question_alignment, answer_alignment):
  """S(Q, I, A) = sum_R a(R) min(p_q(R), p_a(R)), Eq. 9.

  p_q(R) is Eq. 3 with the question's nouns and adjectives only, p_a(R) with
  the answer's only; a(R) is Eq. 4 over the question's and the answer's words.
  An empty noun or adjective set contributes 0 to p (as in Eq. 3), so an
  answer with neither (yes/no, numbers) has p_a(R) = 0 and scores
  sum_R a(R) min(p_q(R), 0): all such answers of a question tie, below any
  answer that grounds better than 0 on the attended regions.

  Args:
    attention: a(R), [P, C, K] (Eq. 4, question and answer words pooled;
      padded regions already 0).
    question_alignment: ``(noun_alignment, adjective_alignment)`` of the
      question, each ``(scores [P, 1, K], found [P, 1])``.
    answer_alignment: the same for the answers, ``[P, C, K]``, ``[P, C]``.
  Returns: [P, C].
  """
  question_score = attention_logits(*question_alignment)  # p_q, [P, 1, K]
  answer_score = attention_logits(*answer_alignment)      # p_a, [P, C, K]
  return ops.sum(attention * ops.minimum(question_score, answer_score), axis=-1)
