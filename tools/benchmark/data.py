"""Synthetic paper-format inputs for tools.benchmark: batches, model inputs, and a
prepared directory with feature stores of a chosen size.

Values do not matter for speed, only shapes and dtypes (docs/architecture.md
"Batches", "Prepared format").
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from svlr_tf.config import ExperimentConfig


# -- synthetic batches and model inputs ---------------------------------------------


def _word_lists(rng, shape: Sequence[int], length: int, vocabulary_size: int,
                mean_words: float) -> np.ndarray:
  """int32 [*shape, length] ids in [2, V) with 0-padding after a random length."""
  lengths = np.minimum(rng.poisson(mean_words, size=shape), length)
  ids = rng.integers(2, vocabulary_size, size=tuple(shape) + (length,), dtype=np.int32)
  return np.where(np.arange(length) < lengths[..., None], ids, 0).astype(np.int32)


def _multi_hot(rng, rows: int, classes: int, mean_positives: float) -> np.ndarray:
  hot = rng.random((rows, classes)) < mean_positives / classes
  hot[np.arange(rows), rng.integers(0, classes, rows)] = True
  return hot.astype(np.float32)


def synthetic_batch(config: ExperimentConfig, vocabulary_size: int,
                    seed: int = 0) -> dict:
  """One training element as NumPy arrays (docs/architecture.md "Batches").

  Region features are float16 (as stored); word lists are 0-padded after a
  Poisson length; each region has at least one object and attribute.
  """
  rng = np.random.default_rng(seed)
  m, d = config.model, config.data
  p, k, c = d.vqa_batch_size, d.regions_per_image, d.num_choices
  lq, la, dim = d.max_question_words, d.max_answer_words, m.region_feature_dim
  batch = {}
  if config.uses_recognition:
    mr = d.recognition_batch_size
    labels = _multi_hot(rng, mr, m.num_object_classes, 1.0)
    batch["recognition"] = {
        "region_features": rng.random((mr, dim), dtype=np.float32).astype(np.float16),
        "object_targets": np.maximum(labels, _multi_hot(rng, mr, m.num_object_classes, 2.0)),
        "object_labels": labels,
        "attribute_targets": _multi_hot(rng, mr, m.num_attribute_classes, 1.5)}
  if config.uses_vqa:
    counts = rng.integers(k - k // 5, k + 1, size=p)
    batch["vqa"] = {
        "image_features": rng.random((p, k, dim), dtype=np.float32).astype(np.float16),
        "region_mask": np.arange(k)[None, :] < counts[:, None],
        "question_bins": _word_lists(rng, (p, m.num_question_bins), lq, vocabulary_size, 2),
        "question_nouns": _word_lists(rng, (p,), lq, vocabulary_size, 2),
        "question_adjectives": _word_lists(rng, (p,), lq, vocabulary_size, 1),
        "choice_words": _word_lists(rng, (p, c), la, vocabulary_size, 1.5),
        "choice_nouns": _word_lists(rng, (p, c), la, vocabulary_size, 0.7),
        "choice_adjectives": _word_lists(rng, (p, c), la, vocabulary_size, 0.3),
        "label": rng.integers(0, c, size=p).astype(np.int32),
        "question_id": np.arange(p, dtype=np.int64),
        "question_type": rng.integers(0, 64, size=p).astype(np.int32)}
  return batch


def synthetic_model_inputs(config: ExperimentConfig, vocabulary_size: int, seed: int = 0):
  """(word_vectors [V, d], object_class_words [O, La], attribute_class_words [T, La])."""
  rng = np.random.default_rng(seed)
  m, la = config.model, config.data.max_answer_words
  vectors = rng.standard_normal((vocabulary_size, m.word_vector_dim)).astype(np.float32)
  vectors[0] = 0.0
  objects = _word_lists(rng, (m.num_object_classes,), la, vocabulary_size, 1.2)
  attributes = _word_lists(rng, (m.num_attribute_classes,), la, vocabulary_size, 1.0)
  objects[:, 0] = np.maximum(objects[:, 0], 2)  # every class name has a word
  attributes[:, 0] = np.maximum(attributes[:, 0], 2)
  return vectors, objects, attributes


def to_tensors(tree):
  import tensorflow as tf
  if isinstance(tree, dict):
    return {key: to_tensors(value) for key, value in tree.items()}
  return tf.constant(tree)


# -- synthetic prepared data (paper format) --------------------------------------


def _image_bytes(config: ExperimentConfig) -> int:
  return config.data.regions_per_image * config.model.region_feature_dim * 2


def write_synthetic_prepared(data_dir: str, config: ExperimentConfig, store_bytes: float,
                             genome_fraction: float = 0.16, genome_rows: int = 16,
                             vocabulary_size: int = 5000, seed: int = 0) -> dict:
  """A prepared directory in the paper's format with ~``store_bytes`` of features.

  ``1 - genome_fraction`` of the bytes are VQA images (K rows each, one training
  question per image) and the rest Genome images (``genome_rows`` annotated
  regions each, one recognition record per region), so the training splits
  span the whole stores. Features are float16 copies of a few random images
  (their values do not matter for speed). Returns the counts written.
  """
  from svlr_tf.data.prepared import PreparedWriter
  rng = np.random.default_rng(seed)
  m, d = config.model, config.data
  k, dim, c = d.regions_per_image, m.region_feature_dim, d.num_choices
  num_vqa = max(2 * d.vqa_batch_size, int(store_bytes * (1 - genome_fraction)
                                          // _image_bytes(config)))
  num_genome = max(-(-2 * d.recognition_batch_size // genome_rows),
                   int(store_bytes * genome_fraction // (genome_rows * dim * 2)))
  writer = PreparedWriter(data_dir)
  writer.write_meta({"source": "embedded", "simulated": True, "feature_dim": dim,
                     "regions_per_image": k, "preset": None,
                     "description": "tools.benchmark synthetic paper-format data",
                     "word_vectors": "random"})
  objects = [f"object{i}" for i in range(m.num_object_classes)]
  attributes = [f"attribute{i}" for i in range(m.num_attribute_classes)]
  other = [f"word{i}" for i in range(max(0, vocabulary_size - 2 - len(objects)
                                         - len(attributes)))]
  words = ["<pad>", "<unk>"] + objects + attributes + other
  vectors = rng.standard_normal((len(words), m.word_vector_dim)).astype(np.float32)
  writer.write_vocab(words, vectors)
  hypernyms = {objects[i]: [objects[i // 10]] for i in range(10, len(objects))}
  writer.write_classes(objects, attributes, hypernyms)

  def pick(pool, n):
    return [pool[j] for j in rng.integers(0, len(pool), n)]

  def question(i):
    choices = [f"word{j}" for j in rng.integers(0, len(other), c)]
    choices = list(dict.fromkeys(choices))
    choices += [f"{a} {b}" for a, b in zip(pick(other, c), pick(other, c))]
    choices = choices[:c]
    label = int(rng.integers(0, c))
    return {"question_id": i * 10, "image_id": i, "question": "what is the word",
            "question_type": "what is the", "answer_type": "other",
            "choices": choices, "answer": choices[label], "label": label,
            "answers": [choices[label]] * 10,
            "question_bins": [pick(other, 2), pick(other, 1), pick(other, 2), pick(other, 1)],
            "question_nouns": pick(objects, 2), "question_adjectives": pick(attributes, 1),
            "choice_words": [ch.split() for ch in choices],
            "choice_nouns": [pick(objects, 1) for _ in choices],
            "choice_adjectives": [pick(attributes, int(rng.integers(0, 2))) for _ in choices]}

  writer.write_vqa("train", (question(i) for i in range(num_vqa)), official=False)
  writer.write_recognition("train", (
      {"image_id": i // genome_rows, "region": i % genome_rows,
       "objects": pick(objects, 1), "attributes": pick(attributes, 2)}
      for i in range(num_genome * genome_rows)))
  pool = rng.random((8, max(k, genome_rows), dim), dtype=np.float32).astype(np.float16)
  with writer.feature_store("vqa", dim, rows_per_image=k) as store:
    for i in range(num_vqa):
      store.add(i, pool[i % len(pool), :k - i % 7])
  with writer.feature_store("genome", dim) as store:
    for i in range(num_genome):
      store.add(i, pool[i % len(pool), :genome_rows])
  return {"vqa_images": num_vqa, "genome_images": num_genome,
          "genome_regions": num_genome * genome_rows}


def store_bytes(data_dir: str) -> int:
  total = 0
  for kind in ("vqa", "genome"):
    path = os.path.join(data_dir, "features", kind)
    total += sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)
                 if f.endswith(".npy"))
  return total


def warm_page_cache(data_dir: str) -> None:
  """Reads every shard once so the stores are in the page cache."""
  for kind in ("vqa", "genome"):
    path = os.path.join(data_dir, "features", kind)
    for name in sorted(os.listdir(path)):
      with open(os.path.join(path, name), "rb", buffering=0) as f:
        while f.read(64 << 20):
          pass


def warm_split_cache(data_dir: str, config: ExperimentConfig) -> None:
  """Parses the training splits once (PreparedData caches them as .npz)."""
  from svlr_tf.data.prepared import PreparedData
  data, d = PreparedData(data_dir), config.data
  data.load_vqa("train", d.max_question_words, d.max_answer_words, d.num_choices)
  data.load_recognition("train")


def prepared_config(config: ExperimentConfig, data_dir: str) -> ExperimentConfig:
  """``config`` with the data fields of the prepared data."""
  from svlr_tf.data.prepared import PreparedData
  from svlr_tf.training.task import data_dims
  return config.with_data_dims(data_dims(PreparedData(data_dir)))
