"""Reads and validates a prepared directory (docs/architecture.md, "Prepared format").

:class:`PreparedData` validates every small file on construction and loads a
split on request, each bad input a one-line ``DataError`` naming the file (and
the JSONL line). Parsed splits are cached as ``.npz`` next to the JSONL
(svlr_tf/data/prepared/cache.py).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Tuple

import numpy as np

from svlr_tf.data import sparse_labels
from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.data.prepared import cache, parse
from svlr_tf.data.prepared.layout import (FORMAT, META_DEFAULTS, PAD, PAD_ID,
                                          UNANNOTATED_VQA_SPLITS, UNK, VERSION,
                                          check_split, class_name_words,
                                          feature_store_path)
from svlr_tf.data.prepared.splits import RecognitionSplit, VQASplit
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import read_json


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
    meta = read_json(path)
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
    full = dict(META_DEFAULTS)
    full.update(meta)
    return full

  def _load_vocab(self) -> Tuple[List[str], Dict[str, int]]:
    path = self.path("vocab.json")
    vocab = read_json(path)
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
    c = read_json(path)
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

  # -- recognition -------------------------------------------------------------

  def load_recognition(self, split: str) -> RecognitionSplit:
    """Loads recognition/<split>.jsonl into a :class:`RecognitionSplit`."""
    check_split(split)
    path = self.path("recognition", f"{split}.jsonl")
    if not os.path.exists(path):
      raise DataError(path, "missing file")
    cache_path, key = cache.cache_path(self.data_dir, path, {"kind": "recognition"})
    arrays = cache.load(cache_path, key) if self.cache else None
    if arrays is not None:
      try:
        return self._recognition_split(arrays)
      except (KeyError, TypeError, ValueError):  # inconsistent cache: rebuild
        pass
    arrays = parse.parse_recognition(path, self.object_to_id,
                                     self.attribute_to_id)
    if self.cache:
      cache.save(cache_path, key, arrays)
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

  # -- VQA -----------------------------------------------------------------------

  def vqa_ids(self, split: str, max_question_words: int, max_answer_words: int,
              num_choices: int) -> Tuple[np.ndarray, np.ndarray]:
    """(question_ids, image_ids) int64 [n] of a VQA split, as :meth:`load_vqa`
    would load it: read from its parse cache alone when that is valid (no
    strings decoded; the whole-directory check at paper scale), else parsed
    (and cached) by :meth:`load_vqa`."""
    check_split(split)
    path = self.path("vqa", f"{split}.jsonl")
    if self.cache and os.path.exists(path):
      params = {"kind": "vqa", "lq": max_question_words, "la": max_answer_words,
                "c": num_choices}
      cache_path, key = cache.cache_path(self.data_dir, path, params)
      arrays = cache.load(cache_path, key, keys=("question_ids", "image_ids"))
      if arrays is not None and len(arrays) == 2:
        return arrays["question_ids"], arrays["image_ids"]
    split_arrays = self.load_vqa(split, max_question_words, max_answer_words,
                                 num_choices)
    return split_arrays.question_ids, split_arrays.image_ids

  def load_vqa(self, split: str, max_question_words: int, max_answer_words: int,
               num_choices: int) -> VQASplit:
    """Loads vqa/<split>.jsonl into a :class:`VQASplit`.

    Word lists longer than ``max_question_words`` (per bin, nouns, adjectives)
    or ``max_answer_words`` (per choice) are truncated; shorter ones are padded
    with 0 (<pad>).  Every word must be in vocab.json.  A split of
    ``UNANNOTATED_VQA_SPLITS`` (test-dev) has no answers: label -1, answer "",
    human answers [] and question / answer type "".
    """
    check_split(split)
    path = self.path("vqa", f"{split}.jsonl")
    if not os.path.exists(path):
      raise DataError(path, "missing file")
    params = {"kind": "vqa", "lq": max_question_words, "la": max_answer_words,
              "c": num_choices}
    cache_path, key = cache.cache_path(self.data_dir, path, params)
    arrays = cache.load(cache_path, key) if self.cache else None
    if arrays is not None:
      try:  # a stale or damaged cache is parsed again, never an error
        strings = json.loads(arrays.pop("strings_json").tobytes().decode("utf-8"))
        return VQASplit(**arrays, **strings)
      except (KeyError, TypeError, ValueError):
        pass
    arrays, strings = parse.parse_vqa(path, self.word_to_id, max_question_words,
                                     max_answer_words, num_choices,
                                     annotated=split not in UNANNOTATED_VQA_SPLITS)
    encoded = np.frombuffer(json.dumps(strings, ensure_ascii=False).encode("utf-8"),
                            np.uint8)
    if self.cache:
      cache.save(cache_path, key, dict(arrays, strings_json=encoded))
    return VQASplit(**arrays, **strings)
