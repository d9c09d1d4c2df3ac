"""What the page is sent: an image, an ``Answer`` and a ``Recognition`` as JSON
(lists and plain numbers; NaN as null)."""

from __future__ import annotations

import math
from typing import List, Optional

import numpy as np

TOP_ANSWERS = 10


def finite(value) -> Optional[float]:
  """A float for JSON, rounded to 4 decimals (NaN and infinities as null)."""
  value = float(value)
  return round(value, 4) if math.isfinite(value) else None


def _floats(values) -> List[Optional[float]]:
  return [finite(v) for v in np.asarray(values).ravel()]


def _boxes(regions) -> Optional[List[List[float]]]:
  if regions.boxes is None:
    return None
  return [[round(float(v), 1) for v in box] for box in regions.boxes]


def image_view(image_id: int, split: Optional[str], regions, questions: List[dict],
               has_picture: bool) -> dict:
  """One image: its size, region boxes (None when unknown) and dataset questions."""
  width, height = regions.image_size
  return {
      "id": image_id, "split": split, "width": width, "height": height,
      "picture": f"/picture/{image_id}" if has_picture else None,
      "regions": int(regions.mask.sum()), "boxes": _boxes(regions),
      "questions": [{"question_id": q.get("question_id"), "question": q.get("question"),
                     "question_type": q.get("question_type"), "answer": q.get("answer"),
                     "choices": len(q.get("choices") or [])} for q in questions]}


def answer_view(answer, record: Optional[dict], seconds: float) -> dict:
  """The ranked answers (the true one marked when the question is a dataset
  question), a(R) of the best answers, each region's best words."""
  truth = record.get("answer") if record else None
  ranked = [{"answer": a, "score": finite(s), "true": a == truth}
            for a, s in zip(answer.answers, answer.scores)]
  true_rank = next((i + 1 for i, r in enumerate(ranked) if r["true"]), None)
  top = min(TOP_ANSWERS, len(ranked))
  words = answer.region_words
  mask = answer.regions.mask
  return {
      "question": answer.question, "question_type": answer.question_type,
      "scorer": answer.scorer, "open_ended": answer.open_ended,
      "candidates": len(ranked), "answers": ranked[:top],
      "true_answer": truth, "true_rank": true_rank,
      "true_answer_listed": truth is None or true_rank is not None,
      "human_answers": list(record.get("answers") or []) if record else [],
      # a(R) (Eq. 4) of each of the top answers, [top, K]
      "attention": [_floats(answer.attention[i]) for i in range(top)],
      "regions": [{"index": k, "valid": bool(mask[k]),
                   "object": words.objects[k], "object_score": finite(words.object_scores[k]),
                   "attribute": words.attributes[k],
                   "attribute_score": finite(words.attribute_scores[k])}
                  for k in range(len(mask))],
      "boxes": _boxes(answer.regions),
      "new_words": dict(answer.new_words), "notes": list(answer.notes),
      "seconds": round(seconds, 4)}


def recognition_view(result) -> dict:
  """The words' object and attribute scores on every region, [K, W] each."""
  return {
      "words": list(result.words), "classes": [bool(c) for c in result.classes],
      "object_scores": [_floats(row) for row in result.object_scores],
      "attribute_scores": [_floats(row) for row in result.attribute_scores],
      "valid": [bool(m) for m in result.regions.mask],
      "boxes": _boxes(result.regions), "new_words": dict(result.new_words)}
