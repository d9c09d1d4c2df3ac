"""Held-out concepts (svlr_tf.data.novel_concepts): no held-out word reaches a VQA
training or selection batch; the split is seeded, recorded, atomic and reused."""

import json
import os
import sys

import numpy as np
import pytest

from svlr_tf.config import DataConfig
from svlr_tf.data import novel_concepts as nc
from svlr_tf.data import pipeline
from svlr_tf.data.prepared import VQA_TEXT_KEYS, PreparedData, PreparedWriter
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import iter_jsonl

sys.path.insert(0, os.path.dirname(__file__))
from test_prepared import make_prepared  # noqa: E402  (tiny fixture builder)

TEXT_KEYS = [k for k in VQA_TEXT_KEYS if k not in ("label", "question_id",
                                                   "question_type")]


def _batch_word_ids(data, split, data_config):
  """Every word id of every tf.data batch of one pass over ``split``."""
  store = data.feature_store("vqa")
  seen = set()
  n = 0
  for batch in pipeline.vqa_eval_dataset(data, store, split, data_config):
    valid = batch["valid"].numpy()
    n += int(valid.sum())
    for key in TEXT_KEYS:
      seen.update(np.unique(batch[key].numpy()[valid]).tolist())
  return seen, n


def _training_word_ids(data, data_config, steps):
  """Word ids of ``steps`` shuffled training batches (the trainer's input)."""
  store = data.feature_store("vqa")
  seen = set()
  dataset = pipeline.vqa_dataset(data, store, "train", data_config, training=True)
  for batch in dataset.take(steps):
    for key in TEXT_KEYS:
      seen.update(np.unique(batch[key].numpy()).tolist())
  return seen


def test_no_held_out_word_reaches_a_vqa_batch_on_the_world(tiny_data, tmp_path):
  pool = nc.candidates(tiny_data)
  assert len(pool) >= 4
  concepts = nc.choose(pool, 3, seed=0)
  forms = nc.forms_of(concepts)
  ids = set(nc.word_ids(tiny_data, forms).tolist())
  data_config = DataConfig(vqa_batch_size=8, regions_per_image=tiny_data.regions_per_image)
  # The source's batches do carry them (else the test proves nothing).
  before, _ = _batch_word_ids(tiny_data, "train", data_config)
  assert before & ids
  dest = str(tmp_path / "split")
  record = nc.derive(tiny_data, dest, concepts, 3, 0, log=lambda _: None)
  data = PreparedData(dest)
  for split in ("train", "heldout"):
    words, n = _batch_word_ids(data, split, data_config)
    assert n == record["counts"][split]["kept"] > 0
    assert not words & ids, split
  assert not _training_word_ids(data, data_config, 30) & ids
  assert record["counts"]["train"]["distractors_replaced"] > 0
  # The test split is the source's, and its novel questions name a concept.
  test = [r for _, r in iter_jsonl(data.path("vqa", "test.jsonl"))]
  novel = nc.novel_mask(test, forms)
  assert novel.sum() == record["counts"]["test"]["novel"] > 0
  # Genome training unchanged.
  assert (data.load_recognition("train").image_ids
          == tiny_data.load_recognition("train").image_ids).all()


def test_choice_is_seeded_and_balanced_over_frequency(tiny_data):
  pool = nc.candidates(tiny_data)
  a, b = nc.choose(pool, 4, 0), nc.choose(pool, 4, 0)
  assert a == b
  assert {c.word for c in nc.choose(pool, 4, 1)} != {c.word for c in a} or \
      {c.word for c in nc.choose(pool, 4, 2)} != {c.word for c in a}
  ranked = sorted(pool, key=lambda c: (-c.genome_regions, c.word))
  strata = np.array_split(np.arange(len(ranked)), 4)
  for concept, stratum in zip(a, strata):   # one per frequency stratum
    assert concept in [ranked[i] for i in stratum]
  with pytest.raises(ValueError, match="candidate concepts"):
    nc.choose(pool, len(pool) + 1, 0)


def test_split_is_recorded_reused_and_refuses_another(tiny_data, tmp_path):
  pool = nc.candidates(tiny_data)
  dest = str(tmp_path / "split")
  first = nc.derive(tiny_data, dest, nc.choose(pool, 2, 0), 2, 0, log=lambda _: None)
  meta = json.load(open(os.path.join(dest, "meta.json")))
  assert meta["novel_concepts"]["concepts"] == first["concepts"]
  assert first["k"] == 2 and first["seed"] == 0
  stamp = os.path.getmtime(os.path.join(dest, "vqa", "train.jsonl"))
  again = nc.derive(tiny_data, dest, nc.choose(pool, 2, 0), 2, 0, log=lambda _: None)
  assert again["counts"] == first["counts"]
  assert os.path.getmtime(os.path.join(dest, "vqa", "train.jsonl")) == stamp
  with pytest.raises(DataError, match="another split"):
    nc.derive(tiny_data, dest, nc.choose(pool, 3, 0), 3, 0, log=lambda _: None)
  assert not [e for e in os.listdir(tmp_path) if ".tmp" in e]


def test_real_data_layout_split(tmp_path):
  """A small prepared real-data-like directory (multi-word class "traffic_light"
  is no candidate; the lemma names the concept)."""
  root = str(tmp_path / "prepared")
  written = make_prepared(root, num_images=10, questions_per_image=4)
  # Every record's choices are all 18 answers: give half of them another
  # distractor, so the others' "cat" has a replacement.
  for split in ("train", "heldout"):
    records = written["vqa"][split]
    for r in records[::2]:
      j = r["choices"].index("cat")
      if j != r["label"]:
        r["choices"][j] = "how many"
        r["choice_words"][j], r["choice_nouns"][j] = ["how", "many"], []
    PreparedWriter(root).write_vqa(split, records)
  data = PreparedData(root)
  pool = nc.candidates(data)
  words = {c.word for c in pool}
  assert "traffic_light" not in words and {"cat", "red"} <= words
  concepts = [c for c in pool if c.word == "cat"]
  assert concepts
  dest = str(tmp_path / "split")
  record = nc.derive(data, dest, concepts, 1, 0, log=lambda _: None)
  assert record["counts"]["train"]["distractors_replaced"] > 0
  split = PreparedData(dest)
  ids = set(nc.word_ids(split, ["cat"]).tolist())
  config = DataConfig(vqa_batch_size=4, regions_per_image=4, num_choices=18,
                      max_question_words=3, max_answer_words=2)
  for name in ("train", "heldout"):
    got, n = _batch_word_ids(split, name, config)
    assert n > 0 and not got & ids


def test_every_question_names_a_concept_is_an_error(tmp_path):
  """Every question of the small directory asks about "dog": holding it out
  leaves nothing to train on: a one-line DataError, no directory left behind."""
  root = str(tmp_path / "prepared")
  make_prepared(root, num_images=6, questions_per_image=2)
  data = PreparedData(root)
  dog = [c for c in nc.candidates(data) if c.word == "dog"]
  assert dog
  dest = str(tmp_path / "split")
  with pytest.raises(DataError, match="no question is left"):
    nc.derive(data, dest, dog, 1, 0, log=lambda _: None)
  assert not os.path.exists(dest)
  assert not [e for e in os.listdir(tmp_path) if ".tmp" in e]
