"""Writes a prepared directory (docs/architecture.md, "Prepared format")."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, Optional, Sequence

import numpy as np

from svlr_tf.data.feature_store import FeatureStoreWriter
from svlr_tf.data.prepared.layout import (FORMAT, META_DEFAULTS, PAD, PAD_ID,
                                          RECOGNITION_FIELDS, UNANNOTATED_VQA_SPLITS,
                                          UNK, VERSION, VQA_FIELDS, VQA_QUESTION_FIELDS,
                                          check_split, feature_store_path)
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_path, atomic_save_npy, atomic_write_json, json_default
from svlr_tf.runtime.json_stream import JsonListWriter


class PreparedWriter:
  """Writes a prepared directory; every file is written atomically.

  Example:
    w = PreparedWriter(data_dir)
    w.write_meta({"source": "embedded", "simulated": True, "feature_dim": 128,
                  "regions_per_image": 12, "word_vectors": "glove.6B.50d"})
    w.write_vocab(["<pad>", "<unk>", "dog", ...], vectors)        # [V, d]
    w.write_classes(objects, attributes, object_hypernyms)
    w.write_recognition("train", records)                         # dicts
    w.write_vqa("train", records)                                 # + official files
    with w.feature_store("vqa", dim=128, rows_per_image=12) as fs:
      fs.add(image_id, features)
  """

  def __init__(self, data_dir: str):
    self.data_dir = os.fspath(data_dir)
    os.makedirs(self.data_dir, exist_ok=True)

  def write_meta(self, meta: Dict[str, Any]) -> Dict[str, Any]:
    """Writes meta.json; needs feature_dim and regions_per_image.

    format / version are filled in; source, simulated, description, preset and
    word_vectors default to embedded / True / "" / None / "".  Returns the dict.
    """
    missing = [k for k in ("feature_dim", "regions_per_image") if k not in meta]
    if missing:
      raise ValueError(f"meta is missing {missing}.")
    full = dict(META_DEFAULTS)
    full.update(meta)
    full["format"] = FORMAT
    full["version"] = VERSION
    full["feature_dim"] = int(full["feature_dim"])
    full["regions_per_image"] = int(full["regions_per_image"])
    atomic_write_json(os.path.join(self.data_dir, "meta.json"), full, indent=2)
    return full

  def write_vocab(self, words: Sequence[str], vectors: np.ndarray) -> None:
    """Writes vocab.json and word_vectors.npy (float32 [len(words), d]).

    ``words`` must start with "<pad>", "<unk>"; row 0 (<pad>) is written as
    zeros whatever ``vectors[0]`` holds.
    """
    words = [str(w) for w in words]
    if words[:2] != [PAD, UNK]:
      raise ValueError(f"vocab must start with {[PAD, UNK]}, got {words[:2]}.")
    if len(set(words)) != len(words):
      dup = next(w for i, w in enumerate(words) if w in words[:i])
      raise ValueError(f"duplicate word {dup!r} in vocab.")
    vectors = np.array(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
      raise ValueError(f"vectors have shape {vectors.shape}, expected "
                       f"[{len(words)}, d].")
    if not np.all(np.isfinite(vectors)):
      raise ValueError("word vectors contain NaN or inf.")
    vectors[PAD_ID] = 0.0
    atomic_save_npy(os.path.join(self.data_dir, "word_vectors.npy"), vectors)
    atomic_write_json(os.path.join(self.data_dir, "vocab.json"), {"words": words})

  def write_classes(self, objects: Sequence[str], attributes: Sequence[str],
                    object_hypernyms: Dict[str, Sequence[str]],
                    attribute_synsets: Optional[Dict[str, str]] = None) -> None:
    """Writes classes.json; hypernyms must be names in ``objects``."""
    objects, attributes = [str(o) for o in objects], [str(a) for a in attributes]
    for kind, names in (("objects", objects), ("attributes", attributes)):
      if len(set(names)) != len(names):
        raise ValueError(f"duplicate names in {kind}.")
    known = set(objects)
    hyper = {}
    for name, hs in object_hypernyms.items():
      if name not in known:
        raise ValueError(f"object_hypernyms key {name!r} is not an object class.")
      bad = [h for h in hs if h not in known]
      if bad:
        raise ValueError(f"hypernyms {bad} of {name!r} are not object classes.")
      hyper[name] = [str(h) for h in hs]
    out = {"objects": objects, "attributes": attributes, "object_hypernyms": hyper}
    if attribute_synsets is not None:
      out["attribute_synsets"] = dict(attribute_synsets)
    atomic_write_json(os.path.join(self.data_dir, "classes.json"), out)

  def _write_jsonl(self, path: str, records: Iterable[Dict[str, Any]],
                   fields: Sequence[str], on_record=None) -> int:
    n = 0
    with atomic_path(path) as tmp:
      with open(tmp, "w", encoding="utf-8") as f:
        for n, rec in enumerate(records, 1):
          missing = [k for k in fields if k not in rec]
          if missing:
            raise DataError(path, f"record {n}: missing field(s) {missing}")
          f.write(json.dumps(rec, default=json_default, ensure_ascii=False,
                             separators=(",", ":")))
          f.write("\n")
          if on_record is not None:
            on_record(rec)
    return n

  def write_recognition(self, split: str, records: Iterable[Dict[str, Any]]) -> int:
    """Writes recognition/<split>.jsonl; returns the number of records."""
    check_split(split)
    path = os.path.join(self.data_dir, "recognition", f"{split}.jsonl")
    return self._write_jsonl(path, records, RECOGNITION_FIELDS)

  def write_vqa(self, split: str, records: Iterable[Dict[str, Any]],
                official: bool = True) -> int:
    """Writes vqa/<split>.jsonl (+ official VQA v1 question / annotation files).

    The official files (``<split>_questions.json``, ``<split>_annotations.json``)
    follow the VQA v1 multiple-choice formats, so the official evaluation runs
    on them unchanged.  A split of ``UNANNOTATED_VQA_SPLITS`` (test-dev) has
    records with the question fields only and no annotation file.  Returns the
    number of records.
    """
    check_split(split)
    path = os.path.join(self.data_dir, "vqa", f"{split}.jsonl")
    annotated = split not in UNANNOTATED_VQA_SPLITS
    info = {"description": f"svlr_tf prepared VQA split {split!r}",
            "version": str(VERSION)}
    license_ = {"name": "see meta.json", "url": ""}

    def questions_header(num_choices: int) -> Dict[str, Any]:
      return {"info": info, "task_type": "Multiple-Choice", "data_type": "mscoco",
              "data_subtype": split, "license": license_, "num_choices": num_choices}

    # The official files are written as the records are (not held in memory).
    vqa_dir = os.path.join(self.data_dir, "vqa")
    official_files = []
    try:
      if official:
        questions = JsonListWriter(os.path.join(vqa_dir, f"{split}_questions.json"),
                                   "questions", questions_header(18))
        official_files.append(questions)
        if annotated:
          annotations = JsonListWriter(
              os.path.join(vqa_dir, f"{split}_annotations.json"), "annotations",
              {"info": info, "data_type": "mscoco", "data_subtype": split,
               "license": license_})
          official_files.append(annotations)

      def collect(rec):
        question = {"image_id": rec["image_id"], "question": rec["question"],
                    "question_id": rec["question_id"],
                    "multiple_choices": list(rec["choices"])}
        if not questions.count:
          questions.header = questions_header(len(question["multiple_choices"]))
        questions.add(question)
        if not annotated:
          return
        annotations.add({
            "question_id": rec["question_id"], "image_id": rec["image_id"],
            "question_type": rec["question_type"], "answer_type": rec["answer_type"],
            "multiple_choice_answer": rec["answer"],
            "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": i + 1}
                        for i, a in enumerate(rec["answers"])]})

      n = self._write_jsonl(path, records,
                            VQA_FIELDS if annotated else VQA_QUESTION_FIELDS,
                            collect if official else None)
      for f in official_files:
        f.close()
    except BaseException:
      for f in official_files:
        f.abort()
      raise
    return n

  def feature_store(self, kind: str, dim: int, rows_per_image: Optional[int] = None,
                    shard_rows: int = 131072,
                    with_boxes: bool = False) -> FeatureStoreWriter:
    """A :class:`FeatureStoreWriter` for features/<kind> ("genome" or "vqa").

    ``with_boxes``: keep each row's region box ([x, y, w, h] pixels) in the
    store (``add(image_id, features, boxes, image_size)``).
    """
    return FeatureStoreWriter(feature_store_path(self.data_dir, kind), dim,
                              rows_per_image=rows_per_image, shard_rows=shard_rows,
                              with_boxes=with_boxes)
