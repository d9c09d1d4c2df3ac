"""Held-out concepts: a VQA split that never names K recognition concepts
(docs/novel_concepts.md).

A *concept* is one word that names an object or attribute class with Genome
training regions (its WordNet lemma: noun for objects, adjective for
attributes; the world's class names are lemmas already).  K of them are chosen
with a seed, one per frequency stratum of the Genome training counts, and every
VQA train / held-out question that names one is removed; the Genome splits stay
as they are.  A question *names* a concept when a word form of it (the class
name or its lemma) is in its question (any of the four bins, its nouns or
adjectives), its correct choice (words, nouns, adjectives), its answer or any
of its human answers.  A distractor choice of a remaining question that names
one is replaced by another answer of the split that names none (the batch has
no choice mask: docs/interpretations.md, "Held-out concepts"); a question whose
distractors cannot all be replaced is removed too.

  candidates(data) -> [Concept]              frequency = Genome train regions
  choose(candidates, k, seed) -> [Concept]   one per frequency stratum
  derive(source, dest, concepts, seed)       the filtered prepared directory
  novel_mask(records, forms) -> [Q] bool     test questions that name one

The derived directory links everything but ``meta.json`` and ``vqa/`` to the
source; its ``meta.json`` carries the split (``novel_concepts``), so runs made
on it are never mistaken for runs on the source (their data fingerprint is
the sha1 of meta.json).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
import shutil
from typing import Dict, Iterable, List, Mapping, Sequence, Set

import numpy as np

from svlr_tf.data.prepared.layout import class_name_words
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_write_json, iter_jsonl, read_json

SPLIT_FILE = "novel_concepts.json"   # in the derived directory: the split
FILTERED_SPLITS = ("train", "heldout")
VERSION = 1


@dataclasses.dataclass(frozen=True)
class Concept:
  """One held-out candidate.

  Attributes:
    word: the concept (a class name's WordNet lemma).
    classes: the class names it covers ("object:dog", "attribute:red").
    forms: the words that name it (class names and lemma), each in vocab.json.
    genome_regions: Genome training regions annotated with one of its classes.
  """

  word: str
  classes: tuple
  forms: tuple
  genome_regions: int

  def to_dict(self) -> dict:
    return dict(word=self.word, classes=list(self.classes), forms=list(self.forms),
                genome_regions=self.genome_regions)


def _lemma(name: str, pos: str) -> str:
  from svlr_tf import text
  return text.lemmatize(name, pos)


def candidates(data) -> List[Concept]:
  """Every single-word class with Genome training regions, as concepts
  (sorted by word).  ``data``: a ``PreparedData``."""
  path = data.path("recognition", "train.jsonl")
  counts = collections.Counter()
  for _, record in iter_jsonl(path):
    for kind in ("objects", "attributes"):
      for name in record.get(kind) or ():
        counts[(kind, name)] += 1
  by_word: Dict[str, dict] = {}
  for kind, names, pos in (("objects", data.objects, "n"),
                           ("attributes", data.attributes, "a")):
    for name in names:
      if counts[(kind, name)] == 0 or len(class_name_words(name)) != 1:
        continue
      word = _lemma(name, pos)
      entry = by_word.setdefault(word, {"classes": [], "forms": set(), "n": 0})
      entry["classes"].append(f"{kind[:-1]}:{name}")
      entry["forms"].update(f for f in (name, word) if f in data.word_to_id)
      entry["n"] += counts[(kind, name)]
  return [Concept(w, tuple(e["classes"]), tuple(sorted(e["forms"])), e["n"])
          for w, e in sorted(by_word.items()) if e["forms"]]


def choose(pool: Sequence[Concept], k: int, seed: int) -> List[Concept]:
  """K concepts balanced over Genome frequency: the candidates sorted by their
  Genome training regions are cut into K strata of (nearly) equal size and one
  is drawn from each with ``seed``.  Sorted by frequency, most frequent first."""
  if not 1 <= k <= len(pool):
    raise ValueError(f"--k {k}: there are {len(pool)} candidate concepts (single-word "
                     "classes with Genome training regions); choose 1 to "
                     f"{len(pool)}")
  ranked = sorted(pool, key=lambda c: (-c.genome_regions, c.word))
  rng = np.random.default_rng(seed)
  strata = np.array_split(np.arange(len(ranked)), k)
  return [ranked[int(rng.choice(s))] for s in strata]


def forms_of(concepts: Iterable[Concept]) -> Set[str]:
  return {f for c in concepts for f in c.forms}


def _choice_words(record: dict, j: int) -> Set[str]:
  out = set(record["choice_words"][j]) | set(record["choice_nouns"][j])
  out |= set(record["choice_adjectives"][j]) | set(record["choices"][j].split())
  return out


def question_words(record: dict) -> Set[str]:
  """The words a question names: its question (bins, nouns, adjectives), its
  correct choice, its answer and its human answers."""
  out = {w for b in record["question_bins"] for w in b}
  out |= set(record["question_nouns"]) | set(record["question_adjectives"])
  out |= set(record["answer"].split()) | _choice_words(record, record["label"])
  for answer in record.get("answers") or ():
    out |= set(answer.split())
  return out


def novel_mask(records: Sequence[dict], forms: Set[str]) -> np.ndarray:
  """[Q] bool: the questions that name a held-out concept."""
  return np.array([bool(question_words(r) & forms) for r in records], bool)


def _filter(records: List[dict], forms: Set[str], rng) -> tuple:
  """(kept records with replaced distractors, counts)."""
  kept = [r for r in records if not question_words(r) & forms]
  pool = {}   # replacement choices: answers of this split that name no concept
  for r in kept:
    for j, choice in enumerate(r["choices"]):
      if choice not in pool and not _choice_words(r, j) & forms:
        pool[choice] = (list(r["choice_words"][j]), list(r["choice_nouns"][j]),
                        list(r["choice_adjectives"][j]))
  names = sorted(pool)
  replaced = questions_replaced = unreplaceable = 0
  out = []
  for r in kept:
    bad = [j for j in range(len(r["choices"]))
           if j != r["label"] and _choice_words(r, j) & forms]
    if bad:
      r = json.loads(json.dumps(r))
      taken = set(r["choices"]) | set(r.get("answers") or ())
      free = [c for c in names if c not in taken]
      if len(free) < len(bad):   # no answer to replace them with: dropped
        unreplaceable += 1
        continue
      for j, c in zip(bad, rng.choice(len(free), size=len(bad), replace=False)):
        choice = free[int(c)]
        r["choices"][j] = choice
        (r["choice_words"][j], r["choice_nouns"][j],
         r["choice_adjectives"][j]) = (list(x) for x in pool[choice])
      replaced += len(bad)
      questions_replaced += 1
    out.append(r)
  counts = {"questions": len(records), "kept": len(out),
            "removed": len(records) - len(kept),
            "removed_no_replacement": unreplaceable,
            "questions_with_replaced_distractors": questions_replaced,
            "distractors_replaced": replaced}
  return out, counts


def _meta_sha1(data_dir: str) -> str:
  with open(os.path.join(data_dir, "meta.json"), "rb") as f:
    return hashlib.sha1(f.read()).hexdigest()


def split_record(source_dir: str, concepts: Sequence[Concept], k: int,
                 seed: int) -> dict:
  """What identifies a split: the source's meta.json, K, the seed, the concepts."""
  return {"version": VERSION, "source_meta_sha1": _meta_sha1(source_dir),
          "k": k, "seed": seed, "concepts": [c.to_dict() for c in concepts]}


def derive(source, dest: str, concepts: Sequence[Concept], k: int, seed: int,
           log=print) -> dict:
  """The prepared directory ``dest``: ``source`` (a ``PreparedData``) without the
  VQA train / held-out questions that name a held-out concept.  Written in a
  temporary directory renamed onto ``dest`` (atomic); an existing ``dest`` of
  the same split is reused, one of another split is an error.  Returns the
  split record (with the counts of every split)."""
  wanted = split_record(source.data_dir, concepts, k, seed)
  record_path = os.path.join(dest, SPLIT_FILE)
  if os.path.exists(record_path):
    have = read_json(record_path)
    if {key: have.get(key) for key in wanted} != wanted:
      raise DataError(record_path, "holds another split (other source data, K, seed "
                      "or concepts); delete it or use another --workdir")
    log(f"Held-out-concept split reused: {dest}")
    return have
  if os.path.exists(dest):
    shutil.rmtree(dest)   # an interrupted build (no split record)
  tmp = f"{dest}.tmp-{os.getpid()}"
  if os.path.exists(tmp):
    shutil.rmtree(tmp)
  try:
    os.makedirs(os.path.join(tmp, "vqa"))
    src = os.path.abspath(source.data_dir)
    for entry in os.listdir(src):
      if entry not in ("meta.json", "vqa") and not entry.startswith("."):
        os.symlink(os.path.join(src, entry), os.path.join(tmp, entry))
    forms = forms_of(concepts)
    rng = np.random.default_rng(seed)
    counts = {}
    from svlr_tf.data.prepared.writer import PreparedWriter
    writer = PreparedWriter(tmp)
    for entry in sorted(os.listdir(os.path.join(src, "vqa"))):
      split = entry[:-len(".jsonl")] if entry.endswith(".jsonl") else None
      if split in FILTERED_SPLITS:
        records = [r for _, r in iter_jsonl(os.path.join(src, "vqa", entry))]
        kept, counts[split] = _filter(records, forms, rng)
        writer.write_vqa(split, kept)
    ids = {s: set() for s in FILTERED_SPLITS}
    for split in FILTERED_SPLITS:
      for _, r in iter_jsonl(os.path.join(tmp, "vqa", f"{split}.jsonl")):
        ids[split].add(r["question_id"])
    for entry in sorted(os.listdir(os.path.join(src, "vqa"))):
      target = os.path.join(tmp, "vqa", entry)
      if os.path.exists(target) or entry.endswith(".npz") or entry.startswith("."):
        continue
      split = entry.split("_")[0]
      if split in FILTERED_SPLITS and entry.endswith("_grounding.jsonl"):
        lines = [json.dumps(r) for _, r in iter_jsonl(os.path.join(src, "vqa", entry))
                 if r["question_id"] in ids[split]]
        with open(target, "w", encoding="utf-8") as f:
          f.write("".join(line + "\n" for line in lines))
      elif split not in FILTERED_SPLITS:
        os.symlink(os.path.join(src, "vqa", entry), target)
    test = [r for _, r in iter_jsonl(os.path.join(src, "vqa", "test.jsonl"))]
    novel = novel_mask(test, forms)
    counts["test"] = {"questions": len(test), "novel": int(novel.sum()),
                      "seen": int((~novel).sum())}
    for split in FILTERED_SPLITS:
      if counts.get(split, {}).get("kept", 0) == 0:
        raise DataError(os.path.join(src, "vqa", f"{split}.jsonl"), "no question is "
                        "left after removing the held-out concepts; choose fewer")
    split_info = dict(wanted, counts=counts)
    meta = dict(source.meta, novel_concepts=split_info)
    meta["description"] = (f"{source.meta.get('description', '')} Held-out-concept "
                           f"split (K={k}, seed {seed}) of {src}.").strip()
    atomic_write_json(os.path.join(tmp, "meta.json"), meta, indent=2)
    atomic_write_json(os.path.join(tmp, SPLIT_FILE), split_info, indent=2)
    os.replace(tmp, dest)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  log(f"Held-out-concept split written: {dest} ({counts})")
  return split_info


def word_ids(data, forms: Iterable[str]) -> np.ndarray:
  """The vocabulary ids of ``forms`` (those in vocab.json)."""
  return np.array(sorted(data.word_to_id[f] for f in forms if f in data.word_to_id),
                  np.int64)


def type_accuracy(accuracy: np.ndarray, types: np.ndarray, mask: np.ndarray,
                  columns: Sequence[str]) -> Mapping[str, List[float]]:
  """Column -> per-seed accuracy (%) over the questions of ``mask`` (and of the
  column's question type; "Overall": all of ``mask``).  accuracy: [S, Q]."""
  out = {}
  for column in columns:
    keep = mask & (types == column) if column != "Overall" else mask
    out[column] = ([round(100.0 * float(a[keep].mean()), 2) for a in accuracy]
                   if keep.any() else None)
  return out
