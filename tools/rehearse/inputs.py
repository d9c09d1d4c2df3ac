"""Synthetic raw inputs in the real layouts, at a fraction of the real sizes.

Written for ``tools.rehearse``: the values are random, the layouts, record
counts and sizes are those of the released files (docs/real_data.md):

- Visual Genome v1.2: ``image_data.json`` (108,077 images, ~15 % with a
  ``coco_id``, so ~92,000 are kept), ``objects.json`` and ``attributes.json``
  (~35 objects an image, names / synsets / attributes drawn Zipf-like from
  WordNet's nouns and adjectives ordered by tagged-sense frequency),
  ``attribute_synsets.json``;
- VQA v1 multiple choice: ``MultipleChoice_mscoco_{train,val}2014_questions.json``
  and ``mscoco_{train,val}2014_annotations.json`` (82,783 / 40,504 images, 3
  questions each, 18 choices, 10 answers);
- the bottom-up-attention TSV (no header; ``image_id, image_w, image_h,
  num_boxes, boxes, features``, base64 float32, boxes x1 y1 x2 y2), 36 boxes;
- a word2vec binary file of 300-d vectors, 3,000,000 words at full size
  (GoogleNews), holding every word the questions and classes use.

Every count is ``round(full count x fraction)`` (at least a few, so the tools'
minimum sizes hold). Writing is streamed: memory does not grow with the fraction.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Dict, Iterator, List

import numpy as np

FULL = {"genome_images": 108_077, "vqa_train_images": 82_783, "vqa_val_images": 40_504,
        "word_vectors": 3_000_000}
OBJECTS_PER_IMAGE = 35
COCO_SHARE = 0.15  # Genome images with a coco_id (dropped without image dirs)
QUESTIONS_PER_IMAGE = 3
CHOICES = 18
TSV_BOXES = 36
FEATURE_DIM = 2048
VECTOR_DIM = 300
WORDNET = "/usr/share/wordnet"

# Bytes per unit of each raw file, measured on the files this module writes:
# used to say how much disk a fraction needs before writing anything.
_TSV_BYTES_PER_IMAGE = 4 * (TSV_BOXES * (FEATURE_DIM + 4)) * 4 // 3 + 64
_STORE_BYTES_PER_IMAGE = 100 * FEATURE_DIM * 2 + 100 * 16
_GENOME_ROWS_PER_IMAGE = 20  # kept regions an image (measured: ~17-20)


def counts(fraction: float) -> Dict[str, int]:
  """Record counts at ``fraction`` of the real sizes."""
  out = {k: max(8, int(round(v * fraction))) for k, v in FULL.items()}
  out["genome_images"] = max(out["genome_images"], 40)
  return out


def disk_needed(fraction: float) -> Dict[str, float]:
  """Bytes each part of a rehearsal at ``fraction`` writes (an upper estimate)."""
  n = counts(fraction)
  vqa_images = n["vqa_train_images"] + n["vqa_val_images"]
  genome_kept = n["genome_images"] * (1 - COCO_SHARE)
  parts = {
      "raw genome JSON": n["genome_images"] * 11_500.0,
      "raw VQA JSON": vqa_images * QUESTIONS_PER_IMAGE * 2_400.0,
      "raw word2vec": n["word_vectors"] * (VECTOR_DIM * 4 + 12.0),
      "raw TSV": vqa_images * float(_TSV_BYTES_PER_IMAGE),
      "VQA feature store": vqa_images * float(_STORE_BYTES_PER_IMAGE),
      "Genome feature store": genome_kept * _GENOME_ROWS_PER_IMAGE * FEATURE_DIM * 2.0,
      "prepared splits + caches": n["genome_images"] * 6_000.0 + vqa_images * 9_000.0,
      "training work dirs": 2 * 600e6,
  }
  parts["total"] = sum(parts.values())
  return parts


# -- words -------------------------------------------------------------------------


def _wordnet_lemmas(pos: str, limit: int) -> List[str]:
  """WordNet lemmas of ``pos`` ("noun"/"adj"), most tagged senses first."""
  path = os.path.join(WORDNET, f"index.{pos}")
  ranked = []
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      for line in f:
        if line.startswith(" "):
          continue
        parts = line.split()
        p_cnt = int(parts[3])
        lemma = parts[0].replace("_", " ")
        if lemma.replace(" ", "").isalpha() and lemma.count(" ") <= 1:
          ranked.append((-int(parts[5 + p_cnt]), lemma))
  ranked.sort()
  words = [w for _, w in ranked[:limit]]
  words += [f"{pos}{i}" for i in range(limit - len(words))]  # no WordNet: made up
  return words


class Words:
  """Object names and attributes with Zipf-like frequencies (s ~ 1.05)."""

  def __init__(self, rng: np.random.Generator):
    self.rng = rng
    self.nouns = _wordnet_lemmas("noun", 20_000)
    self.adjectives = _wordnet_lemmas("adj", 6_000)
    self._p_noun = self._zipf(len(self.nouns))
    self._p_adj = self._zipf(len(self.adjectives))

  @staticmethod
  def _zipf(n: int) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** 1.05
    return np.cumsum(p / p.sum())

  def noun_ids(self, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(self._p_noun, self.rng.random(n)), len(self.nouns) - 1)

  def adjective_ids(self, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(self._p_adj, self.rng.random(n)),
                      len(self.adjectives) - 1)


# -- JSON arrays written one record at a time --------------------------------------


def _write_json_array(path: str, records: Iterator, head: str = "", tail: str = "") -> int:
  """Writes ``head [r1, r2, ...] tail`` streaming; returns the records written."""
  tmp = path + ".tmp"
  count = 0
  with open(tmp, "w", encoding="utf-8") as f:
    f.write(head + "[")
    for record in records:
      f.write((", " if count else "") + json.dumps(record))
      count += 1
    f.write("]" + tail)
  os.replace(tmp, path)
  return count


# -- Visual Genome -----------------------------------------------------------------


def _genome_images(n: int, rng: np.random.Generator):
  for i in range(n):
    width, height = int(rng.integers(400, 801)), int(rng.integers(300, 601))
    coco = int(1_000_000 + i) if rng.random() < COCO_SHARE else None
    yield {"width": width, "url": f"https://cs.stanford.edu/people/rak248/VG_100K/{i + 1}.jpg",
           "height": height, "image_id": i + 1, "coco_id": coco,
           "flickr_id": int(rng.integers(1e6, 1e9))}


def write_genome(root: str, fraction: float, seed: int = 0) -> Dict[str, int]:
  """``image_data.json``, ``objects.json``, ``attributes.json`` and
  ``attribute_synsets.json`` of Visual Genome v1.2 in ``root``."""
  rng = np.random.default_rng(seed)
  words = Words(rng)
  n = counts(fraction)["genome_images"]
  sizes = list(_genome_images(n, np.random.default_rng(seed + 1)))
  _write_json_array(os.path.join(root, "image_data.json"), iter(sizes))
  object_id = [1_000_000]

  def objects_of(image):
    count = max(1, int(rng.poisson(OBJECTS_PER_IMAGE)))
    names = words.noun_ids(count)
    xs = rng.integers(0, image["width"] - 8, count)
    ys = rng.integers(0, image["height"] - 8, count)
    ws = rng.integers(8, 300, count)
    hs = rng.integers(8, 300, count)
    out = []
    for j in range(count):
      name = words.nouns[names[j]]
      shown = name.title() if rng.random() < 0.1 else (
          name + "s" if rng.random() < 0.15 else name)
      object_id[0] += 1
      n_attr = int(rng.poisson(0.9))
      attrs = [words.adjectives[a] for a in words.adjective_ids(n_attr)]
      out.append({"synsets": [f"{name.replace(' ', '_')}.n.01"], "h": int(hs[j]),
                  "object_id": object_id[0], "merged_object_ids": [],
                  "names": [shown], "w": int(ws[j]), "y": int(ys[j]), "x": int(xs[j]),
                  "attributes": attrs})
    return out

  objects_tmp = os.path.join(root, "objects.json.tmp")
  attributes_tmp = os.path.join(root, "attributes.json.tmp")
  total = 0
  with open(objects_tmp, "w", encoding="utf-8") as fo, \
      open(attributes_tmp, "w", encoding="utf-8") as fa:
    fo.write("[")
    fa.write("[")
    for i, image in enumerate(sizes):
      objs = objects_of(image)
      total += len(objs)
      url = image["url"]
      sep = ", " if i else ""
      fo.write(sep + json.dumps({"image_id": image["image_id"], "image_url": url,
                                 "objects": [{k: v for k, v in o.items()
                                              if k != "attributes"} for o in objs]}))
      fa.write(sep + json.dumps({"image_id": image["image_id"], "attributes": objs}))
    fo.write("]")
    fa.write("]")
  os.replace(objects_tmp, os.path.join(root, "objects.json"))
  os.replace(attributes_tmp, os.path.join(root, "attributes.json"))
  synsets = {a: f"{a.replace(' ', '_')}.a.01" for a in words.adjectives}
  with open(os.path.join(root, "attribute_synsets.json"), "w", encoding="utf-8") as f:
    json.dump(synsets, f)
  return {"genome_images": n, "genome_objects": total}


# -- VQA v1 ------------------------------------------------------------------------

_TEMPLATES = [  # (question, question_type, answer_type, answer kind)
    ("What color is the {n}?", "what color is the", "other", "adj"),
    ("Is there a {n} in the picture?", "is there a", "yes/no", "yesno"),
    ("How many {n}s are there?", "how many", "number", "number"),
    ("What is the {n} on the {m} made of?", "what is the", "other", "noun"),
    ("Is the {n} {a}?", "is the", "yes/no", "yesno"),
    ("What is the man holding next to the {n}?", "what is the man", "other", "noun"),
    ("Where is the {a} {n}?", "where is the", "other", "noun"),
    ("Why is the {n} {a}?", "why", "other", "noun"),
]


def _vqa_records(image_ids: np.ndarray, words: Words, rng: np.random.Generator):
  """(question, annotation) pairs, 3 per image, question ids image_id*10+k."""
  numbers = [str(i) for i in range(0, 21)]
  for image_id in image_ids.tolist():
    for k in range(QUESTIONS_PER_IMAGE):
      template, qtype, atype, kind = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
      n1, n2 = (words.nouns[j] for j in words.noun_ids(2))
      adj = words.adjectives[int(words.adjective_ids(1)[0])]
      question = template.format(n=n1, m=n2, a=adj)
      pool = ([words.nouns[j] for j in words.noun_ids(8)]
              + [words.adjectives[j] for j in words.adjective_ids(5)]
              + [numbers[j] for j in rng.integers(0, 21, 3)] + ["yes", "no"])
      pool[0] = f"{adj} {pool[0]}"
      choices = list(dict.fromkeys(pool))
      while len(choices) < CHOICES:
        choices.append(words.nouns[int(words.noun_ids(1)[0])] + " " + str(len(choices)))
        choices = list(dict.fromkeys(choices))
      choices = choices[:CHOICES]
      answer = {"yesno": "yes" if rng.random() < 0.5 else "no", "number": choices[13],
                "adj": choices[8], "noun": choices[1]}[kind]
      qid = image_id * 10 + k
      yield ({"image_id": image_id, "question": question, "multiple_choices": choices,
              "question_id": qid},
             {"question_type": qtype, "multiple_choice_answer": answer,
              "answers": [{"answer": answer if j < 7 else choices[j], "answer_confidence":
                           "yes", "answer_id": j + 1} for j in range(10)],
              "image_id": image_id, "answer_type": atype, "question_id": qid})


def vqa_image_ids(fraction: float) -> Dict[str, np.ndarray]:
  """COCO-like image ids of the train and val images (disjoint, sorted)."""
  n = counts(fraction)
  return {"train": np.arange(1, n["vqa_train_images"] + 1) * 7 + 9,
          "val": np.arange(1, n["vqa_val_images"] + 1) * 7 + 12}


def write_vqa(root: str, fraction: float, seed: int = 0) -> Dict[str, int]:
  """The four VQA v1 multiple-choice JSON files in ``root``."""
  out = {}

  def records(subset, ids, which):  # the same stream twice: questions, annotations
    rng = np.random.default_rng([seed + 2, len(subset)])
    return (pair[which] for pair in _vqa_records(ids, Words(rng), rng))

  for subset, ids in vqa_image_ids(fraction).items():
    out[f"{subset}_questions"] = _write_json_array(
        os.path.join(root, f"MultipleChoice_mscoco_{subset}2014_questions.json"),
        records(subset, ids, 0),
        head=json.dumps({"info": {"description": "rehearsal (synthetic)"},
                         "task_type": "Multiple-Choice", "data_type": "mscoco",
                         "license": {}, "data_subtype": f"{subset}2014",
                         "num_choices": CHOICES})[:-1] + ', "questions": ',
        tail="}")
    _write_json_array(
        os.path.join(root, f"mscoco_{subset}2014_annotations.json"),
        records(subset, ids, 1),
        head=json.dumps({"info": {}, "license": {}, "data_subtype": f"{subset}2014",
                         "data_type": "mscoco"})[:-1] + ', "annotations": ', tail="}")
  return out


# -- bottom-up-attention TSV and word vectors --------------------------------------


def write_tsv(path: str, fraction: float, seed: int = 0) -> int:
  """The bottom-up-attention TSV of every VQA image (36 boxes, float32 base64).

  Features come from a pool of 8 random images (their values do not matter).
  """
  rng = np.random.default_rng(seed + 3)
  pool = []
  for _ in range(8):
    xy = rng.uniform(0, 300, (TSV_BOXES, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(10, 300, (TSV_BOXES, 2))], 1)
    feats = rng.random((TSV_BOXES, FEATURE_DIM), dtype=np.float32) * 4
    pool.append((base64.b64encode(boxes.astype(np.float32).tobytes()).decode(),
                 base64.b64encode(feats.tobytes()).decode()))
  ids = np.concatenate(list(vqa_image_ids(fraction).values()))
  tmp = path + ".tmp"
  with open(tmp, "w", encoding="ascii") as f:
    for i, image_id in enumerate(ids.tolist()):
      boxes, feats = pool[i % len(pool)]
      f.write(f"{image_id}\t640\t480\t{TSV_BOXES}\t{boxes}\t{feats}\n")
  os.replace(tmp, path)
  return len(ids)


def write_word2vec(path: str, fraction: float, seed: int = 0) -> int:
  """A word2vec binary file (GoogleNews layout): every WordNet noun and
  adjective the inputs use, the question words, then made-up words up to
  ``fraction`` x 3,000,000."""
  rng = np.random.default_rng(seed + 4)
  words = Words(rng)
  vocabulary = list(dict.fromkeys(
      [w for name in words.nouns + words.adjectives for w in name.split()]
      + [w.strip("?").lower() for t in _TEMPLATES for w in t[0].split()
         if "{" not in w] + [str(i) for i in range(21)] + ["yes", "no", "s"]))
  total = max(len(vocabulary), counts(fraction)["word_vectors"])
  block = rng.standard_normal((1024, VECTOR_DIM)).astype(np.float32)
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(f"{total} {VECTOR_DIM}\n".encode())
    for i in range(total):
      word = vocabulary[i] if i < len(vocabulary) else f"w_{i}"
      f.write(word.replace(" ", "_").encode() + b" " + block[i % 1024].tobytes())
  os.replace(tmp, path)
  return total
