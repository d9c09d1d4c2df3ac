"""Read and write the prepared format (docs/architecture.md, "Prepared format").

The embedded-world generator and the real-data tools write a prepared directory
with :class:`PreparedWriter`; everything downstream reads it with
:class:`PreparedData`, which validates every file and raises a one-line
``DataError`` naming the file (and the JSONL line) on bad input.

Splits are loaded into numpy arrays: :meth:`PreparedData.load_recognition`
gives sparse (CSR) labels whose batches are multi-hot targets (Eq. 1-2 of the
paper: H_j = annotated names plus their hypernyms), :meth:`PreparedData.load_vqa`
gives padded word-id arrays matching the "vqa" batch keys.  Parsed splits are
cached as ``.npz`` next to the JSONL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from svlr_tf.data import sparse_labels
from svlr_tf.data.feature_store import FeatureStore, FeatureStoreWriter
from svlr_tf.errors import DataError
from svlr_tf.files import (atomic_path, atomic_save_npy, atomic_savez, atomic_write_json,
                           iter_jsonl, json_default)

FORMAT = "svlr_tf.prepared"
VERSION = 1
PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1
NUM_QUESTION_BINS = 4
NUM_HUMAN_ANSWERS = 10
RECOGNITION_SPLITS = ("train", "val", "test")
VQA_SPLITS = ("train", "heldout", "test")
FEATURE_STORES = ("genome", "vqa")
# Per split kind; bumping one rebuilds that kind's caches (2: recognition CSR).
_CACHE_VERSIONS = {"recognition": 2, "vqa": 1}

_META_DEFAULTS = {"source": "embedded", "simulated": True, "description": "",
                  "preset": None, "word_vectors": ""}
_RECOGNITION_FIELDS = ("image_id", "region", "objects", "attributes")
_VQA_FIELDS = ("question_id", "image_id", "question", "question_type", "answer_type",
               "choices", "answer", "label", "answers", "question_bins",
               "question_nouns", "question_adjectives", "choice_words",
               "choice_nouns", "choice_adjectives")
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


def feature_store_path(data_dir: str, kind: str) -> str:
  """``<data_dir>/features/<kind>``, kind "genome" or "vqa"."""
  if kind not in FEATURE_STORES:
    raise ValueError(f"Unknown feature store {kind!r}; expected one of {FEATURE_STORES}.")
  return os.path.join(os.fspath(data_dir), "features", kind)


def class_name_words(name: str) -> List[str]:
  """Words of a (possibly multi-word) class name: split on spaces / underscores."""
  return [w for w in re.split(r"[\s_]+", name) if w]


def _check_split(split: str) -> None:
  if not _SPLIT_NAME.match(split):
    raise ValueError(f"Bad split name {split!r}.")


# -- writer --------------------------------------------------------------------


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
    full = dict(_META_DEFAULTS)
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
    _check_split(split)
    path = os.path.join(self.data_dir, "recognition", f"{split}.jsonl")
    return self._write_jsonl(path, records, _RECOGNITION_FIELDS)

  def write_vqa(self, split: str, records: Iterable[Dict[str, Any]],
                official: bool = True) -> int:
    """Writes vqa/<split>.jsonl (+ official VQA v1 question / annotation files).

    The official files (``<split>_questions.json``, ``<split>_annotations.json``)
    follow the VQA v1 multiple-choice formats, so the official evaluation runs
    on them unchanged.  Returns the number of records.
    """
    _check_split(split)
    path = os.path.join(self.data_dir, "vqa", f"{split}.jsonl")
    questions, annotations = [], []

    def collect(rec):
      questions.append({"image_id": rec["image_id"], "question": rec["question"],
                        "question_id": rec["question_id"],
                        "multiple_choices": list(rec["choices"])})
      annotations.append({
          "question_id": rec["question_id"], "image_id": rec["image_id"],
          "question_type": rec["question_type"], "answer_type": rec["answer_type"],
          "multiple_choice_answer": rec["answer"],
          "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": i + 1}
                      for i, a in enumerate(rec["answers"])]})

    n = self._write_jsonl(path, records, _VQA_FIELDS, collect if official else None)
    if official:
      num_choices = len(questions[0]["multiple_choices"]) if questions else 18
      info = {"description": f"svlr_tf prepared VQA split {split!r}",
              "version": str(VERSION)}
      license_ = {"name": "see meta.json", "url": ""}
      atomic_write_json(
          os.path.join(self.data_dir, "vqa", f"{split}_questions.json"),
          {"info": info, "task_type": "Multiple-Choice", "data_type": "mscoco",
           "data_subtype": split, "license": license_, "num_choices": num_choices,
           "questions": questions})
      atomic_write_json(
          os.path.join(self.data_dir, "vqa", f"{split}_annotations.json"),
          {"info": info, "data_type": "mscoco", "data_subtype": split,
           "license": license_, "annotations": annotations})
    return n

  def feature_store(self, kind: str, dim: int, rows_per_image: Optional[int] = None,
                    shard_rows: int = 131072) -> FeatureStoreWriter:
    """A :class:`FeatureStoreWriter` for features/<kind> ("genome" or "vqa")."""
    return FeatureStoreWriter(feature_store_path(self.data_dir, kind), dim,
                              rows_per_image=rows_per_image, shard_rows=shard_rows)


# -- loaded splits ---------------------------------------------------------------


@dataclasses.dataclass
class RecognitionSplit:
  """A Genome split as arrays (one row per region), labels kept sparse.

  Labels are CSR (svlr_tf/data/sparse_labels.py): ~4 bytes per label instead
  of dense [n, O] rows (3 KB per region for the three matrices at O = T =
  1000).  :meth:`batch` builds the dense float32 targets of a batch's M rows
  only.  The properties ``object_targets``, ``object_labels`` and
  ``attribute_targets`` densify the WHOLE split (bool [n, O] / [n, T]: O(n * O)
  time and memory on every access) for evaluation code and tests.

  Attributes:
    image_ids: int64 [n].
    rows: int32 [n], row of the region in the image's features/genome entry.
    object_indptr: int64 [n + 1], object_ids: int32 [nnz]: the annotated names
      of region i are ``object_ids[object_indptr[i]:object_indptr[i + 1]]``
      (accuracy, Sec. 5.3).
    attribute_indptr: int64 [n + 1], attribute_ids: int32: annotated
      attributes (T_j of Eq. 2).
    hypernym_indptr: int64 [O + 1], hypernym_ids: int32: class o and its
      hypernyms; H_j of Eq. 1 is their union over region j's names.
    num_objects: O.
    num_attributes: T.
  """

  image_ids: np.ndarray
  rows: np.ndarray
  object_indptr: np.ndarray
  object_ids: np.ndarray
  attribute_indptr: np.ndarray
  attribute_ids: np.ndarray
  hypernym_indptr: np.ndarray
  hypernym_ids: np.ndarray
  num_objects: int
  num_attributes: int

  def __post_init__(self):
    """ValueError if the arrays are inconsistent (e.g. a stale cache)."""
    self.num_objects, self.num_attributes = int(self.num_objects), int(self.num_attributes)
    n = len(self.image_ids)
    if self.image_ids.shape != (n,) or self.rows.shape != (n,):
      raise ValueError(f"image_ids {self.image_ids.shape} and rows {self.rows.shape} "
                       "differ in shape")
    sparse_labels.check_csr(self.object_indptr, self.object_ids, n, self.num_objects,
                            "object labels")
    sparse_labels.check_csr(self.attribute_indptr, self.attribute_ids, n,
                            self.num_attributes, "attribute labels")
    sparse_labels.check_csr(self.hypernym_indptr, self.hypernym_ids, self.num_objects,
                            self.num_objects, "hypernym closure")

  def __len__(self) -> int:
    return len(self.image_ids)

  @property
  def _objects(self) -> sparse_labels.Csr:
    return self.object_indptr, self.object_ids

  @property
  def _attributes(self) -> sparse_labels.Csr:
    return self.attribute_indptr, self.attribute_ids

  @property
  def _hypernyms(self) -> sparse_labels.Csr:
    return self.hypernym_indptr, self.hypernym_ids

  @property
  def object_targets(self) -> np.ndarray:
    """bool [n, O]: annotated names plus their hypernyms (H_j, Eq. 1); O(n * O)."""
    return sparse_labels.dense(self._objects, self.num_objects, self._hypernyms)

  @property
  def object_labels(self) -> np.ndarray:
    """bool [n, O]: annotated names only (accuracy, Sec. 5.3); O(n * O)."""
    return sparse_labels.dense(self._objects, self.num_objects)

  @property
  def attribute_targets(self) -> np.ndarray:
    """bool [n, T]: annotated attributes (Eq. 2); O(n * T)."""
    return sparse_labels.dense(self._attributes, self.num_attributes)

  def batch(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
    """Targets of the "recognition" batch (without features).

    Returns:
      {"object_targets": [M, O], "object_labels": [M, O], "attribute_targets":
      [M, T]} float32 multi-hot, new 64-byte-aligned arrays (M = len(indices)).
    """
    return {"object_targets": sparse_labels.multi_hot(
                self._objects, indices, self.num_objects, expand=self._hypernyms),
            "object_labels": sparse_labels.multi_hot(self._objects, indices,
                                                     self.num_objects),
            "attribute_targets": sparse_labels.multi_hot(self._attributes, indices,
                                                         self.num_attributes)}


# Keys of the "vqa" batch that come from the split (not the feature store).
VQA_TEXT_KEYS = ("question_bins", "question_nouns", "question_adjectives",
                 "choice_words", "choice_nouns", "choice_adjectives", "label",
                 "question_id", "question_type")


@dataclasses.dataclass
class VQASplit:
  """A VQA split as padded arrays (one row per question; 0 = <pad>).

  Attributes:
    question_ids: int64 [n].
    image_ids: int64 [n].
    question_bins: int32 [n, 4, Lq] word ids of the 4 question bins.
    question_nouns, question_adjectives: int32 [n, Lq] lemma ids.
    choice_words, choice_nouns, choice_adjectives: int32 [n, C, La].
    label: int32 [n], index of the correct choice.
    question_type: int32 [n], index into ``question_type_names``.
    question_type_names: the split's question types, sorted.
    answer_type: int32 [n], index into ``answer_type_names``.
    answer_type_names: the split's answer types, sorted.
    questions: [n] question strings.
    choices: [n][C] choice strings.
    answer: [n] correct answer strings (choices[i][label[i]]).
    answers: [n][10] human answers.
  """

  question_ids: np.ndarray
  image_ids: np.ndarray
  question_bins: np.ndarray
  question_nouns: np.ndarray
  question_adjectives: np.ndarray
  choice_words: np.ndarray
  choice_nouns: np.ndarray
  choice_adjectives: np.ndarray
  label: np.ndarray
  question_type: np.ndarray
  question_type_names: List[str]
  answer_type: np.ndarray
  answer_type_names: List[str]
  questions: List[str]
  choices: List[List[str]]
  answer: List[str]
  answers: List[List[str]]

  def __len__(self) -> int:
    return len(self.question_ids)

  def batch(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
    """Text part of the "vqa" batch (keys ``VQA_TEXT_KEYS``)."""
    return {"question_bins": self.question_bins[indices],
            "question_nouns": self.question_nouns[indices],
            "question_adjectives": self.question_adjectives[indices],
            "choice_words": self.choice_words[indices],
            "choice_nouns": self.choice_nouns[indices],
            "choice_adjectives": self.choice_adjectives[indices],
            "label": self.label[indices],
            "question_id": self.question_ids[indices],
            "question_type": self.question_type[indices]}


_VQA_ARRAY_FIELDS = ("question_ids", "image_ids", "question_bins", "question_nouns",
                     "question_adjectives", "choice_words", "choice_nouns",
                     "choice_adjectives", "label", "question_type", "answer_type")
_VQA_STRING_FIELDS = ("question_type_names", "answer_type_names", "questions",
                      "choices", "answer", "answers")


# -- reader helpers --------------------------------------------------------------


def _read_json(path: str) -> Any:
  if not os.path.exists(path):
    raise DataError(path, "missing file")
  try:
    with open(path, "r", encoding="utf-8") as f:
      return json.load(f)
  except json.JSONDecodeError as e:
    raise DataError(path, f"malformed JSON at line {e.lineno} column {e.colno}: "
                    f"{e.msg}") from None
  except UnicodeDecodeError as e:
    raise DataError(path, f"not UTF-8 text: {e}") from None


def _iter_jsonl(path: str) -> Iterator[Tuple[int, Dict[str, Any]]]:
  """(line number, record) of each non-blank line; DataError on bad JSON."""
  if not os.path.exists(path):
    raise DataError(path, "missing file")
  for lineno, rec in iter_jsonl(path):
    if not isinstance(rec, dict):
      raise DataError(path, f"line {lineno}: expected a JSON object")
    yield lineno, rec


def _count_records(path: str) -> int:
  if not os.path.exists(path):
    raise DataError(path, "missing file")
  with open(path, "rb") as f:
    return sum(1 for line in f if line.strip())


class _Record:
  """Typed field access of one JSONL record with errors naming file and line."""

  def __init__(self, path: str, lineno: int, rec: Dict[str, Any]):
    self.path, self.lineno, self.rec = path, lineno, rec

  def error(self, problem: str) -> DataError:
    return DataError(self.path, f"line {self.lineno}: {problem}")

  def get(self, name: str, kind):
    if name not in self.rec:
      raise self.error(f"missing field {name!r}")
    value = self.rec[name]
    ok = (isinstance(value, kind) and not isinstance(value, bool)
          if kind is int else isinstance(value, kind))
    if not ok:
      raise self.error(f"field {name!r} should be {kind.__name__}, got "
                       f"{type(value).__name__}")
    return value

  def str_list(self, name: str, length: Optional[int] = None) -> List[str]:
    value = self.get(name, list)
    if length is not None and len(value) != length:
      raise self.error(f"field {name!r} has {len(value)} entries, expected {length}")
    if not all(isinstance(v, str) for v in value):
      raise self.error(f"field {name!r} should be a list of strings")
    return value

  def list_of_str_lists(self, name: str, length: int) -> List[List[str]]:
    value = self.get(name, list)
    if len(value) != length:
      raise self.error(f"field {name!r} has {len(value)} entries, expected {length}")
    if not all(isinstance(v, list) and all(isinstance(w, str) for w in v)
               for v in value):
      raise self.error(f"field {name!r} should be a list of lists of strings")
    return value


# -- reader ----------------------------------------------------------------------


def _class_ids(rec: "_Record", field: str, to_id: Dict[str, int], kind: str) -> List[int]:
  """Class ids of a record's names, in order, a name listed twice counted once."""
  ids = {}  # ordered set
  for name in rec.str_list(field):
    i = to_id.get(name)
    if i is None:
      raise rec.error(f"unknown {kind} class {name!r} (not in classes.json)")
    ids[i] = None
  return list(ids)


class PreparedData:
  """A validated prepared directory.

  Loads meta.json, vocab.json, word_vectors.npy and classes.json on
  construction (DataError naming the file on any problem); splits are loaded on
  request with :meth:`load_recognition` / :meth:`load_vqa`.

  Attributes:
    data_dir, meta, words, word_to_id, word_vectors (float32 [V, d]), objects,
    attributes, object_hypernyms, attribute_synsets, feature_dim,
    regions_per_image.
  """

  def __init__(self, data_dir: str, cache: bool = True):
    self.data_dir = os.fspath(data_dir)
    self.cache = cache
    if not os.path.isdir(self.data_dir):
      raise DataError(self.data_dir, "prepared data directory does not exist")
    self.meta = self._load_meta()
    self.words, self.word_to_id = self._load_vocab()
    self.word_vectors = self._load_word_vectors()
    (self.objects, self.attributes, self.object_hypernyms,
     self.attribute_synsets) = self._load_classes()
    self.object_to_id = {n: i for i, n in enumerate(self.objects)}
    self.attribute_to_id = {n: i for i, n in enumerate(self.attributes)}

  def path(self, *parts: str) -> str:
    return os.path.join(self.data_dir, *parts)

  @property
  def feature_dim(self) -> int:
    return self.meta["feature_dim"]

  @property
  def regions_per_image(self) -> int:
    return self.meta["regions_per_image"]

  def feature_store(self, kind: str) -> FeatureStore:
    """The memory-mapped store of features/<kind> ("genome" or "vqa")."""
    return FeatureStore(feature_store_path(self.data_dir, kind))

  # -- small files -------------------------------------------------------------

  def _load_meta(self) -> Dict[str, Any]:
    path = self.path("meta.json")
    meta = _read_json(path)
    if not isinstance(meta, dict):
      raise DataError(path, "expected a JSON object")
    if meta.get("format") != FORMAT:
      raise DataError(path, f"format is {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("version") != VERSION:
      raise DataError(path, f"unsupported version {meta.get('version')!r} "
                      f"(this code reads version {VERSION})")
    for key in ("feature_dim", "regions_per_image"):
      if key not in meta:
        raise DataError(path, f"missing field {key!r}")
      if not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] <= 0:
        raise DataError(path, f"field {key!r} should be a positive integer")
    full = dict(_META_DEFAULTS)
    full.update(meta)
    return full

  def _load_vocab(self) -> Tuple[List[str], Dict[str, int]]:
    path = self.path("vocab.json")
    vocab = _read_json(path)
    if not isinstance(vocab, dict) or "words" not in vocab:
      raise DataError(path, "missing field 'words'")
    words = vocab["words"]
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
      raise DataError(path, "'words' should be a list of strings")
    if words[:2] != [PAD, UNK]:
      raise DataError(path, f"words must start with {PAD!r}, {UNK!r}")
    word_to_id = {w: i for i, w in enumerate(words)}
    if len(word_to_id) != len(words):
      raise DataError(path, "duplicate words")
    return words, word_to_id

  def _load_word_vectors(self) -> np.ndarray:
    path = self.path("word_vectors.npy")
    if not os.path.exists(path):
      raise DataError(path, "missing file")
    try:
      vectors = np.load(path, allow_pickle=False)
    except Exception as e:
      raise DataError(path, f"cannot read: {e}") from None
    if vectors.ndim != 2 or vectors.shape[0] != len(self.words):
      raise DataError(path, f"shape {vectors.shape}, expected [{len(self.words)}, d] "
                      "(one row per vocab word)")
    if not np.issubdtype(vectors.dtype, np.floating):
      raise DataError(path, f"dtype {vectors.dtype}, expected float32")
    vectors = vectors.astype(np.float32, copy=False)
    if not np.all(np.isfinite(vectors)):
      row = int(np.nonzero(~np.all(np.isfinite(vectors), axis=1))[0][0])
      raise DataError(path, f"NaN or inf in row {row} ({self.words[row]!r})")
    if np.any(vectors[PAD_ID] != 0):
      raise DataError(path, "row 0 (<pad>) must be zeros")
    return vectors

  def _load_classes(self):
    path = self.path("classes.json")
    c = _read_json(path)
    if not isinstance(c, dict):
      raise DataError(path, "expected a JSON object")
    for key in ("objects", "attributes", "object_hypernyms"):
      if key not in c:
        raise DataError(path, f"missing field {key!r}")
    objects, attributes, hyper = c["objects"], c["attributes"], c["object_hypernyms"]
    for key, names in (("objects", objects), ("attributes", attributes)):
      if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataError(path, f"{key!r} should be a list of strings")
      if len(set(names)) != len(names):
        raise DataError(path, f"duplicate names in {key!r}")
    if not isinstance(hyper, dict):
      raise DataError(path, "'object_hypernyms' should be an object")
    known = set(objects)
    for name, hs in hyper.items():
      if name not in known:
        raise DataError(path, f"object_hypernyms: unknown object class {name!r}")
      if not isinstance(hs, list):
        raise DataError(path, f"object_hypernyms[{name!r}] should be a list")
      for h in hs:
        if not isinstance(h, str) or h not in known:
          raise DataError(path, f"object_hypernyms[{name!r}]: unknown object class "
                          f"{h!r}")
    synsets = c.get("attribute_synsets") or {}
    return objects, attributes, hyper, synsets

  def class_word_ids(self, kind: str, max_len: int) -> np.ndarray:
    """int32 [n, max_len] word ids of each class name (0-padded, truncated).

    Multi-word names ("traffic light", "tennis_racket") are split on spaces /
    underscores.  kind: "objects" or "attributes".
    """
    if kind not in ("objects", "attributes"):
      raise ValueError(f"kind must be 'objects' or 'attributes', got {kind!r}.")
    names = self.objects if kind == "objects" else self.attributes
    out = np.zeros((len(names), max_len), np.int32)
    for i, name in enumerate(names):
      words = class_name_words(name)
      if not words:
        raise DataError(self.path("classes.json"), f"empty {kind} class name")
      for j, w in enumerate(words[:max_len]):
        if w not in self.word_to_id:
          raise DataError(self.path("classes.json"), f"{kind} class {name!r}: word "
                          f"{w!r} is not in vocab.json")
        out[i, j] = self.word_to_id[w]
    return out

  # -- cache -------------------------------------------------------------------

  def _cache_path(self, jsonl: str, params: Dict[str, Any]) -> Tuple[str, str]:
    deps = [jsonl, self.path("vocab.json"), self.path("classes.json")]
    stats = [(os.path.getsize(p), os.stat(p).st_mtime_ns) for p in deps]
    key = json.dumps({"v": _CACHE_VERSIONS[params["kind"]], "params": params,
                      "stats": stats},
                     sort_keys=True)
    tag = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8]
    base = os.path.basename(jsonl)
    return os.path.join(os.path.dirname(jsonl), f".{base}.{tag}.cache.npz"), key

  def _cache_load(self, path: str, key: str) -> Optional[Dict[str, np.ndarray]]:
    if not self.cache or not os.path.exists(path):
      return None
    try:
      with np.load(path, allow_pickle=False) as z:
        if str(z["cache_key"]) != key:
          return None
        return {k: z[k] for k in z.files if k != "cache_key"}
    except Exception:  # a stale or broken cache is rebuilt, never an error
      return None

  def _cache_save(self, path: str, key: str, arrays: Dict[str, np.ndarray]) -> None:
    if not self.cache:
      return
    try:
      atomic_savez(path, dict(arrays, cache_key=np.array(key)))
    except OSError:  # read-only data dir: no cache
      pass

  # -- recognition -------------------------------------------------------------

  def load_recognition(self, split: str) -> RecognitionSplit:
    """Loads recognition/<split>.jsonl into a :class:`RecognitionSplit`."""
    _check_split(split)
    path = self.path("recognition", f"{split}.jsonl")
    if not os.path.exists(path):
      raise DataError(path, "missing file")
    cache_path, key = self._cache_path(path, {"kind": "recognition"})
    arrays = self._cache_load(cache_path, key)
    if arrays is not None:
      try:
        return self._recognition_split(arrays)
      except (KeyError, TypeError, ValueError):  # inconsistent cache: rebuild
        pass
    arrays = self._parse_recognition(path)
    self._cache_save(cache_path, key, arrays)
    return self._recognition_split(arrays)

  def _recognition_split(self, arrays: Dict[str, np.ndarray]) -> RecognitionSplit:
    # Class i and its hypernyms (H_j of Eq. 1), from classes.json.
    closure = [list(dict.fromkeys(
        [i] + [self.object_to_id[h] for h in self.object_hypernyms.get(o, [])]))
               for i, o in enumerate(self.objects)]
    hypernym_indptr, hypernym_ids = sparse_labels.csr_from_lists(closure)
    return RecognitionSplit(
        image_ids=arrays["image_ids"], rows=arrays["rows"],
        object_indptr=arrays["object_indptr"], object_ids=arrays["object_ids"],
        attribute_indptr=arrays["attribute_indptr"],
        attribute_ids=arrays["attribute_ids"], hypernym_indptr=hypernym_indptr,
        hypernym_ids=hypernym_ids, num_objects=len(self.objects),
        num_attributes=len(self.attributes))

  def _parse_recognition(self, path: str) -> Dict[str, np.ndarray]:
    n = _count_records(path)
    image_ids = np.zeros(n, np.int64)
    rows = np.zeros(n, np.int32)
    # Flat id lists + per-region counts (CSR), not a list per region.
    object_ids: List[int] = []
    object_counts = np.zeros(n, np.int64)
    attribute_ids: List[int] = []
    attribute_counts = np.zeros(n, np.int64)
    i = -1
    for i, (lineno, raw) in enumerate(_iter_jsonl(path)):
      rec = _Record(path, lineno, raw)
      image_ids[i] = rec.get("image_id", int)
      region = rec.get("region", int)
      if region < 0:
        raise rec.error(f"negative region {region}")
      rows[i] = region
      ids = _class_ids(rec, "objects", self.object_to_id, "object")
      object_ids.extend(ids)
      object_counts[i] = len(ids)
      ids = _class_ids(rec, "attributes", self.attribute_to_id, "attribute")
      attribute_ids.extend(ids)
      attribute_counts[i] = len(ids)
    if i + 1 != n:
      raise DataError(path, "file changed while reading")
    return {"image_ids": image_ids, "rows": rows,
            "object_indptr": sparse_labels.indptr_from_counts(object_counts),
            "object_ids": np.asarray(object_ids, np.int32).reshape(-1),
            "attribute_indptr": sparse_labels.indptr_from_counts(attribute_counts),
            "attribute_ids": np.asarray(attribute_ids, np.int32).reshape(-1)}

  # -- VQA -----------------------------------------------------------------------

  def load_vqa(self, split: str, max_question_words: int, max_answer_words: int,
               num_choices: int) -> VQASplit:
    """Loads vqa/<split>.jsonl into a :class:`VQASplit`.

    Word lists longer than ``max_question_words`` (per bin, nouns, adjectives)
    or ``max_answer_words`` (per choice) are truncated; shorter ones are padded
    with 0 (<pad>).  Every word must be in vocab.json.
    """
    _check_split(split)
    path = self.path("vqa", f"{split}.jsonl")
    if not os.path.exists(path):
      raise DataError(path, "missing file")
    params = {"kind": "vqa", "lq": max_question_words, "la": max_answer_words,
              "c": num_choices}
    cache_path, key = self._cache_path(path, params)
    arrays = self._cache_load(cache_path, key)
    if arrays is not None:
      try:  # a stale or damaged cache is parsed again, never an error
        strings = json.loads(arrays.pop("strings_json").tobytes().decode("utf-8"))
        return VQASplit(**arrays, **strings)
      except (KeyError, TypeError, ValueError):
        pass
    arrays, strings = self._parse_vqa(path, max_question_words, max_answer_words,
                                      num_choices)
    encoded = np.frombuffer(json.dumps(strings, ensure_ascii=False).encode("utf-8"),
                            np.uint8)
    self._cache_save(cache_path, key, dict(arrays, strings_json=encoded))
    return VQASplit(**arrays, **strings)

  def _parse_vqa(self, path: str, lq: int, la: int, c: int):
    n = _count_records(path)
    w2i = self.word_to_id
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
    for i, (lineno, raw) in enumerate(_iter_jsonl(path)):
      rec = _Record(path, lineno, raw)
      a["question_ids"][i] = rec.get("question_id", int)
      a["image_ids"][i] = rec.get("image_id", int)
      questions.append(rec.get("question", str))
      qtypes.append(rec.get("question_type", str))
      atypes.append(rec.get("answer_type", str))
      ch = rec.str_list("choices", c)
      ans = rec.get("answer", str)
      label = rec.get("label", int)
      if not 0 <= label < c:
        raise rec.error(f"label {label} out of range [0, {c})")
      if ch[label] != ans:
        raise rec.error(f"choices[{label}] is {ch[label]!r} but answer is {ans!r}")
      a["label"][i] = label
      choices.append(ch)
      answer.append(ans)
      answers.append(rec.str_list("answers", NUM_HUMAN_ANSWERS))
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
