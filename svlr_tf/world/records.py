"""The world's prepared records: recognition regions (Genome) and VQA questions,
with their text fields from :mod:`svlr_tf.text`, as for real data."""

from __future__ import annotations

from typing import Dict, List

from svlr_tf import text
from svlr_tf.world.images import GenomeImage, VQAImage


def recognition_records(images: List[GenomeImage]) -> List[Dict]:
  return [{"image_id": img.image_id, "region": r, "objects": names,
           "attributes": img.attributes[r]}
          for img in images for r, names in enumerate(img.objects)]


def vqa_records(images: List[VQAImage]) -> List[Dict]:
  """Prepared VQA records; text fields from svlr_tf.text (as for real data)."""
  out = []
  for img in images:
    for k, q in enumerate(img.questions):
      out.append({
          "question_id": img.image_id * 10 + k, "image_id": img.image_id,
          "question": q["question"], "question_type": q["question_type"],
          "answer_type": q["answer_type"], "choices": list(q["choices"]),
          "answer": q["answer"], "label": int(q["label"]), "answers": list(q["answers"]),
          **text.question_text_fields(q["question"], q["choices"])})
  return out



def record_words(rec: Dict) -> set:
  """Every word of a prepared VQA record (its question bins, nouns, adjectives and
  choices)."""
  words = set()
  for b in rec["question_bins"]:
    words.update(b)
  words.update(rec["question_nouns"])
  words.update(rec["question_adjectives"])
  for field in ("choice_words", "choice_nouns", "choice_adjectives"):
    for ws in rec[field]:
      words.update(ws)
  return words
