"""The prepared format's names and constants (docs/architecture.md, "Prepared format")."""

from __future__ import annotations

import os
import re
from typing import List

from svlr_tf.config import NUM_QUESTION_BINS  # re-exported
from svlr_tf.text.tokens import PAD, UNK  # re-exported

FORMAT = "svlr_tf.prepared"
VERSION = 1
PAD_ID = 0
UNK_ID = 1
NUM_HUMAN_ANSWERS = 10
RECOGNITION_SPLITS = ("train", "val", "test")
VQA_SPLITS = ("train", "heldout", "test")
# Test splits without annotations (VQA v1 test-dev / test-standard): their records
# carry the question fields only (VQA_QUESTION_FIELDS); they are for writing
# results files for the evaluation server, never scored here.
UNANNOTATED_VQA_SPLITS = ("test-dev", "test-std")
FEATURE_STORES = ("genome", "vqa")
META_DEFAULTS = {"source": "embedded", "simulated": True, "description": "",
                 "preset": None, "word_vectors": ""}
# Fields every JSONL record of a split must have.
RECOGNITION_FIELDS = ("image_id", "region", "objects", "attributes")
VQA_FIELDS = ("question_id", "image_id", "question", "question_type", "answer_type",
              "choices", "answer", "label", "answers", "question_bins",
              "question_nouns", "question_adjectives", "choice_words",
              "choice_nouns", "choice_adjectives")
VQA_ANNOTATION_FIELDS = ("question_type", "answer_type", "answer", "label", "answers")
VQA_QUESTION_FIELDS = tuple(f for f in VQA_FIELDS if f not in VQA_ANNOTATION_FIELDS)
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


def feature_store_path(data_dir: str, kind: str) -> str:
  """``<data_dir>/features/<kind>``, kind "genome" or "vqa"."""
  if kind not in FEATURE_STORES:
    raise ValueError(f"Unknown feature store {kind!r}; expected one of {FEATURE_STORES}.")
  return os.path.join(os.fspath(data_dir), "features", kind)


def class_name_words(name: str) -> List[str]:
  """Words of a (possibly multi-word) class name: split on spaces / underscores."""
  return [w for w in re.split(r"[\s_]+", name) if w]


def check_split(split: str) -> None:
  if not _SPLIT_NAME.match(split):
    raise ValueError(f"Bad split name {split!r}.")

