"""Whole-directory check of a prepared directory, run before the first training step.

    problems = check_prepared(data_dir, data_config)   # [] when the directory is usable
    require_valid(data_dir, data_config)               # DataError listing every problem

Training reads the held-out and test splits only at its first evaluation (step
2,000 of the paper preset) and at the end (step 100,000): a missing image or an
empty split found there costs the whole run.  This check reads what every run
will read, once, before any step:

- meta.json, vocab.json, word_vectors.npy, classes.json (``PreparedData``);
  every word of every class name is in the vocabulary;
- every split of both tasks exists, parses and is non-empty
  (recognition/{train,val,test}, vqa/{train,heldout,test});
- every image of every split is in its feature store (index lookups of the
  split's distinct image ids, ``FeatureStore.has_images``: no walk over the
  features), and every recognition ``region`` is a valid row of its image;
- the stores match meta.json (feature width; K = the VQA store's rows per
  image, or its largest count): :func:`store_problems`, which the pipeline also
  runs on the stores it is given;
- question ids are unique within and across the VQA splits (a duplicated test
  question would count twice in every row's overall), and no image is in two
  Genome splits or in two VQA splits (a leak between train and held-out / test).

Parsing goes through ``PreparedData.load_*`` with the run's padding sizes, so
the parse caches it builds are the ones training then reads; with valid caches
only the id arrays of the VQA splits are read (``PreparedData.vqa_ids``).
Measured on a paper-size directory (123,287 VQA images, 369,861 questions,
1.82 M Genome regions; sparse feature shards): ~4 min the first time (parsing
the JSONL, which training would do anyway), seconds after.
Each problem is one line; all of them are listed, not just the first.
"""

from __future__ import annotations

import os
from typing import List, Union

import numpy as np

from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.data.prepared import (FEATURE_STORES, RECOGNITION_SPLITS, VQA_SPLITS,
                                   PreparedData, RecognitionSplit, VQASplit,
                                   class_name_words)
from svlr_tf.runtime.errors import DataError

_SHOW = 5  # ids named per problem line


def _ids(values) -> str:
  values = [int(v) for v in values]
  more = f" (+{len(values) - _SHOW} more)" if len(values) > _SHOW else ""
  return ", ".join(str(v) for v in values[:_SHOW]) + more


def check_prepared(data: Union[str, PreparedData], data_config=None) -> List[str]:
  """Every problem of a prepared directory, one line each ([] when usable).

  Args:
    data: the directory or an opened :class:`PreparedData`.
    data_config: a ``DataConfig`` (or dict) giving num_choices /
      max_question_words / max_answer_words, as training will load the VQA
      splits; the ``DataConfig`` defaults when None.
  """
  if not isinstance(data, PreparedData):
    try:
      data = PreparedData(data)
    except DataError as err:  # without these files nothing else can be checked
      return [str(err)]
  problems: List[str] = []
  lq, la, c = _vqa_sizes(data_config)

  missing_words = sorted({w for name in list(data.objects) + list(data.attributes)
                          for w in class_name_words(name) if w not in data.word_to_id})
  if missing_words:
    problems.append(f"{data.path('classes.json')}: {len(missing_words)} class-name "
                    f"words not in vocab.json: {', '.join(missing_words[:_SHOW])}")

  stores = {}
  for kind in FEATURE_STORES:
    try:
      stores[kind] = data.feature_store(kind)
    except DataError as err:
      problems.append(str(err))
  for kind, store in stores.items():
    problems.extend(str(err) for err in store_problems(data, kind, store))

  split_images = {}
  for split in RECOGNITION_SPLITS:
    path = data.path("recognition", f"{split}.jsonl")
    try:
      rec = data.load_recognition(split)
    except DataError as err:
      problems.append(str(err))
      continue
    if len(rec) == 0:
      problems.append(f"{path}: empty split (no regions)")
      continue
    split_images[("recognition", split)] = np.unique(rec.image_ids)
    store = stores.get("genome")
    if store is None:
      continue
    ids = np.unique(rec.image_ids)
    found = store.has_images(ids)
    if not np.all(found):
      problems.append(f"{path}: {int((~found).sum())} of {len(ids)} images are not in "
                      f"{store.path}: {_ids(ids[~found])}")
    present = store.has_images(rec.image_ids)
    counts = store.counts(rec.image_ids[present])
    bad = rec.rows[present] >= counts
    if np.any(bad):
      j = int(np.nonzero(bad)[0][0])
      problems.append(f"{path}: {int(bad.sum())} regions point past their image's rows "
                      f"in {store.path} (first: image "
                      f"{int(rec.image_ids[present][j])} region {int(rec.rows[present][j])}"
                      f" of {int(counts[j])})")

  question_splits = {}
  for split in VQA_SPLITS:
    path = data.path("vqa", f"{split}.jsonl")
    try:
      question_ids, image_ids = data.vqa_ids(split, lq, la, c)
    except DataError as err:
      problems.append(str(err))
      continue
    if len(question_ids) == 0:
      problems.append(f"{path}: empty split (no questions)")
      continue
    split_images[("vqa", split)] = np.unique(image_ids)
    qids, counts = np.unique(question_ids, return_counts=True)
    if np.any(counts > 1):
      problems.append(f"{path}: {int((counts > 1).sum())} question ids appear more "
                      f"than once: {_ids(qids[counts > 1])}")
    question_splits[split] = qids
    store = stores.get("vqa")
    if store is None:
      continue
    ids = split_images[("vqa", split)]
    found = store.has_images(ids)
    if not np.all(found):
      problems.append(f"{path}: {int((~found).sum())} of {len(ids)} images are not in "
                      f"{store.path}: {_ids(ids[~found])}")

  names = list(question_splits)
  for i, a in enumerate(names):
    for b in names[i + 1:]:
      shared = np.intersect1d(question_splits[a], question_splits[b])
      if len(shared):
        problems.append(f"{data.path('vqa')}: {len(shared)} question ids are in both "
                        f"{a} and {b}: {_ids(shared)}")
  for task in ("recognition", "vqa"):
    splits = [s for (t, s) in split_images if t == task]
    for i, a in enumerate(splits):
      for b in splits[i + 1:]:
        shared = np.intersect1d(split_images[(task, a)], split_images[(task, b)])
        if len(shared):
          problems.append(f"{data.path(task)}: {len(shared)} images are in both the "
                          f"{a} and {b} splits: {_ids(shared)}")
  for store in stores.values():
    store.close()
  return problems


def store_problems(data: PreparedData, kind: str, store: FeatureStore
                   ) -> List[DataError]:
  """Where a feature store disagrees with meta.json, one DataError (naming
  meta.json) each: the feature width, and for the "vqa" store K, its rows per
  image (the largest count of a variable-row store).  The data decides these
  sizes; the pipeline checks the stores it is given with this too."""
  meta_path = data.path("meta.json")
  problems = []
  if store.dim != data.feature_dim:
    problems.append(DataError(meta_path, f"feature_dim is {data.feature_dim} but "
                              f"{store.path} holds {store.dim}-d features"))
  if kind == "vqa" and store.image_rows != data.regions_per_image:
    problems.append(DataError(meta_path, f"regions_per_image is "
                              f"{data.regions_per_image} but {store.path} has "
                              f"{store.image_rows} rows per image"))
  return problems


def require_valid(data: Union[str, PreparedData], data_config=None) -> None:
  """Raises one DataError whose message lists every problem (see check_prepared)."""
  problems = check_prepared(data, data_config)
  if problems:
    directory = data.data_dir if isinstance(data, PreparedData) else os.fspath(data)
    raise PreparedDataProblems(directory, problems)


class PreparedDataProblems(DataError):
  """Every problem of a prepared directory; ``problems`` holds one line each.

  ``str()`` is one line (a count and the first problem); entry points print
  :attr:`problems` one per line.
  """

  def __init__(self, data_dir: str, problems: List[str]):
    self.problems = list(problems)
    super().__init__(data_dir, f"{len(problems)} problem(s) in the prepared data, "
                     f"first: {problems[0]}")


def _vqa_sizes(data_config) -> tuple:
  if data_config is None:
    from svlr_tf.config import DataConfig
    data_config = DataConfig()
  get = (data_config.get if isinstance(data_config, dict)
         else lambda k: getattr(data_config, k))
  return (int(get("max_question_words")), int(get("max_answer_words")),
          int(get("num_choices")))


# -- the checks of one split, made by the training input before its first batch ---------


def check_store(data: PreparedData, kind: str, store: FeatureStore) -> None:
  """The store against meta.json (svlr_tf/data/check.py): the sizes of a batch
  come from the data, so a disagreement is found before any step."""
  problems = store_problems(data, kind, store)
  if problems:
    raise problems[0]


def check_recognition_split(split: RecognitionSplit, store: FeatureStore,
                            data: PreparedData, name: str) -> None:
  """A recognition split the training input can batch: not empty, every region's
  image in the store and within its rows (one-line DataError naming the file)."""
  path = data.path("recognition", f"{name}.jsonl")
  check_store(data, "genome", store)
  _check_images_in_store(path, len(split), split.image_ids, store, "regions")
  counts = store.counts(split.image_ids)
  bad = split.rows >= counts
  if np.any(bad):
    j = int(np.nonzero(bad)[0][0])
    raise DataError(path, f"region {int(split.rows[j])} of image "
                    f"{int(split.image_ids[j])} is beyond its {int(counts[j])} rows in "
                    f"the feature store {store.path}")


def check_vqa_split(split: VQASplit, store: FeatureStore, data: PreparedData,
                    name: str) -> None:
  """A VQA split the training input can batch: not empty, every image in the store."""
  path = data.path("vqa", f"{name}.jsonl")
  check_store(data, "vqa", store)
  _check_images_in_store(path, len(split), split.image_ids, store, "questions")


def _check_images_in_store(path: str, size: int, image_ids: np.ndarray,
                           store: FeatureStore, items: str) -> None:
  """A split of ``size`` items (``items``: "regions" / "questions") is not empty
  and each item's image is in ``store`` (one-line DataError naming ``path``)."""
  if size == 0:
    raise DataError(path, "split is empty")
  present = store.has_images(image_ids)
  if not np.all(present):
    missing = image_ids[~present]
    raise DataError(path, f"{len(missing)} {items} refer to images not in the feature "
                    f"store {store.path} (e.g. image {int(missing[0])})")
