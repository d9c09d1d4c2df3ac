"""Zero-shot VQA scorer, Eq. 9 (Sec. 3.4): region-word scores only, no VQA weights."""

from __future__ import annotations

from keras import ops

from svlr_tf.model.vqa import attention_logits

# How Eq. 9 treats a question without nouns or adjectives (interpretation 7):
#   "no_constraint"  the question has no term in the min(): S = sum_R a(R) p_a(R)
#   "zero"           the question's term is p_q(R) = 0 (Eq. 3's empty-set rule):
#                    S = sum_R a(R) min(0, p_a(R))
EMPTY_QUESTION_READINGS = ("no_constraint", "zero")


def zero_shot_scores(attention, question_alignment, answer_alignment,
                     empty_question: str = "no_constraint"):
  """S(Q, I, A) = sum_R a(R) min(p_q(R), p_a(R)), Eq. 9.

  p_q(R) is Eq. 3 with the question's nouns and adjectives only, p_a(R) with
  the answer's only; a(R) is Eq. 4 over the question's and the answer's words.
  An empty noun or adjective set contributes 0 to p (as in Eq. 3), so an
  answer with neither (yes/no, numbers) has p_a(R) = 0: such answers of a
  question tie, below any answer that grounds better than 0 on the attended
  regions.

  A question with neither nouns nor adjectives ("what is this") localizes
  nothing. With ``empty_question="no_constraint"`` (the default) it puts no
  term into the min(), so the score is sum_R a(R) p_a(R): the answer's own
  localization (docs/interpretations.md, entry 7). With ``"zero"`` its p_q is
  0 like any empty set's, so every answer scores sum_R a(R) min(0, p_a(R)) <= 0
  and grounded answers can only lose to word-less ones.

  Args:
    attention: a(R), [P, C, K] (Eq. 4, question and answer words pooled;
      padded regions already 0).
    question_alignment: ``(noun_alignment, adjective_alignment)`` of the
      question, each ``(scores [P, 1, K], found [P, 1])``.
    answer_alignment: the same for the answers, ``[P, C, K]``, ``[P, C]``.
    empty_question: one of ``EMPTY_QUESTION_READINGS``.
  Returns: [P, C].
  """
  if empty_question not in EMPTY_QUESTION_READINGS:
    raise ValueError(f"empty_question is {empty_question!r}; expected one of "
                     f"{EMPTY_QUESTION_READINGS}")
  question_score = attention_logits(*question_alignment)  # p_q, [P, 1, K]
  answer_score = attention_logits(*answer_alignment)      # p_a, [P, C, K]
  grounded = ops.minimum(question_score, answer_score)    # [P, C, K]
  if empty_question == "no_constraint":
    (_, noun_found), (_, adjective_found) = question_alignment
    has_words = ops.logical_or(noun_found, adjective_found)[..., None]  # [P, 1, 1]
    grounded = ops.where(has_words, grounded, answer_score)
  return ops.sum(attention * grounded, axis=-1)
