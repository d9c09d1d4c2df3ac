"""Parsing a prepared split's JSONL into the arrays of its split container."""

from __future__ import annotations

from typing import Dict, List

import numpy as np

from svlr_tf.data import sparse_labels
from svlr_tf.data.prepared.layout import NUM_HUMAN_ANSWERS, NUM_QUESTION_BINS
from svlr_tf.data.prepared.records import Record, class_ids, count_records, iter_records
from svlr_tf.runtime.errors import DataError


def parse_recognition(path: str, object_to_id: Dict[str, int],
                      attribute_to_id: Dict[str, int]) -> Dict[str, np.ndarray]:
  """Arrays of recognition/<split>.jsonl: image ids, region rows, CSR labels."""
  n = count_records(path)
  image_ids = np.zeros(n, np.int64)
  rows = np.zeros(n, np.int32)
  # Flat id lists + per-region counts (CSR), not a list per region.
  object_ids: List[int] = []
  object_counts = np.zeros(n, np.int64)
  attribute_ids: List[int] = []
  attribute_counts = np.zeros(n, np.int64)
  i = -1
  for i, (lineno, raw) in enumerate(iter_records(path)):
    rec = Record(path, lineno, raw)
    image_ids[i] = rec.get("image_id", int)
    region = rec.get("region", int)
    if region < 0:
      raise rec.error(f"negative region {region}")
    rows[i] = region
    ids = class_ids(rec, "objects", object_to_id, "object")
    object_ids.extend(ids)
    object_counts[i] = len(ids)
    ids = class_ids(rec, "attributes", attribute_to_id, "attribute")
    attribute_ids.extend(ids)
    attribute_counts[i] = len(ids)
  if i + 1 != n:
    raise DataError(path, "file changed while reading")
  return {"image_ids": image_ids, "rows": rows,
          "object_indptr": sparse_labels.indptr_from_counts(object_counts),
          "object_ids": np.asarray(object_ids, np.int32).reshape(-1),
          "attribute_indptr": sparse_labels.indptr_from_counts(attribute_counts),
          "attribute_ids": np.asarray(attribute_ids, np.int32).reshape(-1)}


def parse_vqa(path: str, word_to_id: Dict[str, int], lq: int, la: int, c: int,
              annotated: bool = True):
  """(padded word-id arrays, string lists) of vqa/<split>.jsonl (see VQASplit).

  Without ``annotated`` (test-dev) the records have no answers: label -1, answer
  "", human answers [], question / answer type "".
  """
  n = count_records(path)
  w2i = word_to_id
  a = {
      "question_ids": np.zeros(n, np.int64),
      "image_ids": np.zeros(n, np.int64),
      "question_bins": np.zeros((n, NUM_QUESTION_BINS, lq), np.int32),
      "question_nouns": np.zeros((n, lq), np.int32),
      "question_adjectives": np.zeros((n, lq), np.int32),
      "choice_words": np.zeros((n, c, la), np.int32),
      "choice_nouns": np.zeros((n, c, la), np.int32),
      "choice_adjectives": np.zeros((n, c, la), np.int32),
      "label": np.zeros(n, np.int32),
  }
  qtypes, atypes, questions, choices, answer, answers = [], [], [], [], [], []

  def ids(rec, field, words, length):
    out = [0] * length
    for j, w in enumerate(words[:length]):
      k = w2i.get(w)
      if k is None:
        raise rec.error(f"word {w!r} in {field!r} is not in vocab.json")
      out[j] = k
    return out

  i = -1
  for i, (lineno, raw) in enumerate(iter_records(path)):
    rec = Record(path, lineno, raw)
    a["question_ids"][i] = rec.get("question_id", int)
    a["image_ids"][i] = rec.get("image_id", int)
    questions.append(rec.get("question", str))
    ch = rec.str_list("choices", c)
    choices.append(ch)
    if annotated:
      qtypes.append(rec.get("question_type", str))
      atypes.append(rec.get("answer_type", str))
      ans = rec.get("answer", str)
      label = rec.get("label", int)
      if not 0 <= label < c:
        raise rec.error(f"label {label} out of range [0, {c})")
      if ch[label] != ans:
        raise rec.error(f"choices[{label}] is {ch[label]!r} but answer is {ans!r}")
      answers.append(rec.str_list("answers", NUM_HUMAN_ANSWERS))
    else:
      qtypes.append("")
      atypes.append("")
      ans, label = "", -1
      answers.append([])
    a["label"][i] = label
    answer.append(ans)
    bins = rec.list_of_str_lists("question_bins", NUM_QUESTION_BINS)
    a["question_bins"][i] = [ids(rec, "question_bins", b, lq) for b in bins]
    a["question_nouns"][i] = ids(rec, "question_nouns",
                                 rec.str_list("question_nouns"), lq)
    a["question_adjectives"][i] = ids(rec, "question_adjectives",
                                      rec.str_list("question_adjectives"), lq)
    for field in ("choice_words", "choice_nouns", "choice_adjectives"):
      lists = rec.list_of_str_lists(field, c)
      a[field][i] = [ids(rec, field, words, la) for words in lists]
  if i + 1 != n:
    raise DataError(path, "file changed while reading")
  qnames, anames = sorted(set(qtypes)), sorted(set(atypes))
  qindex = {t: k for k, t in enumerate(qnames)}
  aindex = {t: k for k, t in enumerate(anames)}
  a["question_type"] = np.array([qindex[t] for t in qtypes], np.int32).reshape(n)
  a["answer_type"] = np.array([aindex[t] for t in atypes], np.int32).reshape(n)
  strings = {"question_type_names": qnames, "answer_type_names": anames,
             "questions": questions, "choices": choices, "answer": answer,
             "answers": answers}
  return a, strings
