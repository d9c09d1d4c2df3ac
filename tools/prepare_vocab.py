r"""The vocabulary, word vectors and meta.json of a real-data prepared directory.

    python -m tools.prepare_vocab --data_dir prepared \
        --word_vectors raw/GoogleNews-vectors-negative300.bin.gz

Runs last (after ``tools.prepare_genome``, ``tools.prepare_vqa`` and, for a
test-dev submission, ``tools.prepare_vqa_test``): the vocabulary is every word of
the VQA records (question bins, question nouns /
adjectives, choice words / nouns / adjectives) and of the class names in
classes.json (split on spaces / underscores as ``PreparedData`` does), sorted,
after ``<pad>``, ``<unk>``. ``word_vectors.npy`` comes from
``svlr_tf.text.word_vectors.build_table`` (the paper's word2vec GoogleNews vectors,
or ``glove-6b-50d`` for a quick offline run); unknown words are logged.

``meta.json`` takes ``feature_dim`` / ``regions_per_image`` from the feature
stores when they exist (features/vqa, else features/genome), otherwise from
``--feature_dim`` / ``--regions_per_image``.
"""

from __future__ import annotations

import os
from typing import List, Optional

from absl import flags, logging

from svlr_tf.text import word_vectors as wv
from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.data.prepared import (PAD, UNK, UNANNOTATED_VQA_SPLITS, VQA_SPLITS,
                                   PreparedWriter,
                                   class_name_words, feature_store_path)
from svlr_tf.runtime.errors import DataError
from tools._common import read_json, read_jsonl, run_main

FLAGS = flags.FLAGS
_WORD_FIELDS = ("question_nouns", "question_adjectives")
_NESTED_WORD_FIELDS = ("question_bins", "choice_words", "choice_nouns",
                       "choice_adjectives")


def vocabulary_words(data_dir: str) -> List[str]:
  """["<pad>", "<unk>", sorted words of the VQA splits and class names]."""
  words = set()
  found = 0
  for split in VQA_SPLITS + UNANNOTATED_VQA_SPLITS:
    path = os.path.join(data_dir, "vqa", f"{split}.jsonl")
    if not os.path.exists(path):
      continue
    found += 1
    for record in read_jsonl(path):
      for field in _WORD_FIELDS:
        words.update(record.get(field) or [])
      for field in _NESTED_WORD_FIELDS:
        for group in record.get(field) or []:
          words.update(group)
  if not found:
    logging.warning("no vqa/*.jsonl in %s: vocabulary of class names only", data_dir)
  classes_path = os.path.join(data_dir, "classes.json")
  classes = read_json(classes_path)
  if not isinstance(classes, dict) or "objects" not in classes:
    raise DataError(classes_path, "expected an object with 'objects' and 'attributes'")
  for name in list(classes["objects"]) + list(classes.get("attributes", [])):
    words.update(class_name_words(name))
  words.discard(PAD)
  words.discard(UNK)
  return [PAD, UNK] + sorted(w for w in words if isinstance(w, str) and w)


def _store_shape(data_dir: str):
  for kind in ("vqa", "genome"):
    path = feature_store_path(data_dir, kind)
    if os.path.exists(os.path.join(path, "index.npz")):
      store = FeatureStore(path)
      return store.dim, store.rows_per_image if kind == "vqa" else None
  return None, None


def prepare_vocab(data_dir: str, word_vectors: str, feature_dim: int = 2048,
                  regions_per_image: int = 100, limit: Optional[int] = None,
                  description: str = "VQA v1 + Visual Genome (real data)") -> int:
  """Writes vocab.json, word_vectors.npy and meta.json; returns the vocab size."""
  words = vocabulary_words(data_dir)
  # A binary word2vec file is streamed, keeping only the rows the vocabulary can
  # use (GoogleNews: ~3.6 GB of vectors otherwise held in memory).
  vectors = wv.load_word_vectors(word_vectors, limit=limit,
                                 keep=wv.lookup_candidates(words))
  table, unknown = wv.build_table(vectors, words)
  if unknown:
    logging.info("words without a pretrained vector (first 20): %s", unknown[:20])
  store_dim, store_k = _store_shape(data_dir)
  writer = PreparedWriter(data_dir)
  writer.write_vocab(words, table)
  meta = {"source": "real", "simulated": False, "description": description,
          "preset": None, "word_vectors": vectors.name,
          "feature_dim": store_dim or feature_dim,
          "regions_per_image": store_k or regions_per_image}
  text_processing = os.path.join(data_dir, "vqa", "text_processing.json")
  if os.path.exists(text_processing):  # written by tools.prepare_vqa
    meta["pos_backend"] = read_json(text_processing).get("pos_backend")
  writer.write_meta(meta)
  logging.info("vocab: %d words, %d-d vectors from %s", len(words), table.shape[1],
               vectors.name)
  return len(words)


def main(argv):
  del argv
  if not FLAGS.data_dir or not FLAGS.word_vectors:
    raise DataError(None, "--data_dir and --word_vectors are required")
  prepare_vocab(FLAGS.data_dir, FLAGS.word_vectors, FLAGS.feature_dim,
                FLAGS.regions_per_image, FLAGS.limit)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_string("data_dir", None, "Prepared data directory.")
  flags.DEFINE_string("word_vectors", None,
                      "A word2vec .bin(.gz) / GloVe text path, or 'glove-6b-50d'.")
  flags.DEFINE_integer("feature_dim", 2048,
                       "Region feature width, when features/ is not written yet.")
  flags.DEFINE_integer("regions_per_image", 100,
                       "Proposals per VQA image, when features/vqa is not written yet.")
  flags.DEFINE_integer("limit", None, "Read only the first N vectors of a file.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
