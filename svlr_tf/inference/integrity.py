"""A bundle that checks itself: its manifest and its verification slice.

Two checks stand between a copied bundle and its first answer
(``Predictor.load``):

* **manifest.json**, written last by ``tools.export``: every file of the bundle
  with its size and SHA-256.  Loading hashes every file and stops at the first
  that differs (a flipped byte in ``model.keras``, two words of ``vocab.json``
  swapped, a truncated copy), naming it.  A bundle without a manifest is
  incomplete (its export was interrupted) or from an older svlr_tf.
* **verification.npz**: a few held-out questions of the run's data (the region
  features as the feature store holds them, float16, and the word ids of the
  questions and choices), the scores the model gave them at export and the
  official accuracy of each choice.  Loading scores them again (one batch: well
  under a second) and stops when a score differs by more than
  ``ATOL + RTOL * |recorded score|``: weights that are not the exported ones
  (a "mismatched" bundle whose manifest was rewritten to match), or another
  TensorFlow / Keras that computes the model differently.  Within the tolerance
  the chosen answers, and so the accuracy, are the recorded ones up to exact
  near-ties.  ``Predictor.load(..., verify=False)`` skips this check (not the
  manifest).
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Dict, Optional

import numpy as np

from svlr_tf.runtime.errors import DataError
from svlr_tf.evaluation.multiple_choice import best_choice
from svlr_tf.evaluation.vqa_eval import answer_accuracy
from svlr_tf.runtime.files import atomic_path, atomic_write_json, read_json

MANIFEST_FILE = "manifest.json"
VERIFICATION_FILE = "verification.npz"
VERIFICATION_SPLIT = "heldout"
VERIFICATION_QUESTIONS = 8
# A re-computed score may differ from the recorded one by ATOL + RTOL * |score|:
# float32 reductions in another order (other CPU kernels, another TF/Keras version)
# move Eq. 7's scores by ~1e-6; a changed weight moves them by far more.
ATOL = 1e-4
RTOL = 1e-3
_TEXT_KEYS = ("question_bins", "question_nouns", "question_adjectives",
              "choice_words", "choice_nouns", "choice_adjectives")


# --------------------------------------------------------------------- manifest
def file_sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    while block := f.read(1 << 20):
      digest.update(block)
  return digest.hexdigest()


def _bundle_files(directory: str):
  for root, dirs, files in os.walk(directory):
    dirs.sort()
    for name in sorted(files):
      path = os.path.join(root, name)
      relative = os.path.relpath(path, directory).replace(os.sep, "/")
      if relative != MANIFEST_FILE:
        yield relative, path


def write_manifest(directory: str) -> dict:
  """Writes ``manifest.json``: {"files": {relative path: {"bytes", "sha256"}}}.

  Call it last, when every other file of the bundle is written.
  """
  files = {relative: {"bytes": os.path.getsize(path), "sha256": file_sha256(path)}
           for relative, path in _bundle_files(directory)}
  manifest = {"files": files}
  atomic_write_json(os.path.join(directory, MANIFEST_FILE), manifest, indent=1)
  return manifest


# The files ``Predictor.load`` reads: each must be listed in the manifest.
LOADED_FILES = ("meta.json", "config.json", "model.keras", "vocab.json",
                "classes.json", "answers.json", "verification.npz")


def check_manifest(directory: str) -> None:
  """Raises a one-line DataError naming the first file that differs from the manifest.

  Every file the manifest lists must be there with its size and SHA-256, and
  every file the loader reads (``LOADED_FILES``) must be listed; a listed path
  must stay inside the bundle.  Other files (a user's notes) are ignored.
  """
  path = os.path.join(directory, MANIFEST_FILE)
  if not os.path.exists(path):
    raise DataError(path, "missing: the bundle is incomplete (an interrupted export) "
                    "or older than manifests; export it again with tools.export")
  manifest = read_json(path)
  files = manifest.get("files") if isinstance(manifest, dict) else None
  if not isinstance(files, dict) or not files:
    raise DataError(path, "no \"files\" list: not a bundle manifest")
  unlisted = [f for f in LOADED_FILES if f not in files  # a directory there: the
              and not os.path.isdir(os.path.join(directory, f))]  # loader says so
  if unlisted:
    raise DataError(path, f"does not list {', '.join(unlisted)}, which loading reads: "
                    "not this bundle's manifest; export the bundle again")
  for relative, expected in sorted(files.items()):
    parts = relative.split("/")
    if (not isinstance(expected, dict) or os.path.isabs(relative) or ".." in parts
        or "\\" in relative):
      raise DataError(path, f"entry {relative[:80]!r} is not a file of the bundle "
                      "with its size and SHA-256: not a bundle manifest")
    file_path = os.path.join(directory, *parts)
    if not os.path.lexists(file_path):
      raise DataError(file_path, "missing from the bundle (listed in manifest.json)")
    if not os.path.isfile(file_path):
      raise DataError(file_path, "is not a regular file (manifest.json lists a file)")
    size = os.path.getsize(file_path)
    if size != expected.get("bytes"):
      raise DataError(file_path, f"damaged: {size} bytes where manifest.json records "
                      f"{expected.get('bytes')} (truncated or changed copy); copy or "
                      "export the bundle again")
    if file_sha256(file_path) != expected.get("sha256"):
      raise DataError(file_path, "damaged: its SHA-256 differs from manifest.json's "
                      "(bytes changed since export); copy or export the bundle again")


# ------------------------------------------------------------ verification slice
def model_scores(model, config, batch: Dict[str, np.ndarray]) -> np.ndarray:
  """float32 [n, C]: the model's Eq. 7 scores (Eq. 9 for a run without VQA)."""
  if config.uses_vqa:
    scores, _ = model.vqa_scores(batch, training=False)
  else:
    scores = model.zero_shot_scores(batch)
  return np.asarray(scores, np.float32)


def accuracy(scores: np.ndarray, choice_accuracy: np.ndarray) -> float:
  """Official accuracy (percent) of the best-scoring choices."""
  pick = best_choice(scores)
  return float(100.0 * np.mean(choice_accuracy[np.arange(len(pick)), pick]))


def write_verification(predictor, directory: str,
                       questions: int = VERIFICATION_QUESTIONS) -> dict:
  """Writes ``verification.npz`` from the first held-out questions of the data.

  Returns the record for meta.json ({"split", "questions", "accuracy", "atol",
  "rtol"}).
  """
  data, config = predictor.data, predictor.config
  if data is None:
    raise DataError(None, "a verification slice needs the run's prepared data")
  split = data.load_vqa(VERIFICATION_SPLIT, config.data.max_question_words,
                        config.data.max_answer_words, config.data.num_choices)
  if len(split) == 0:
    raise DataError(data.path("vqa", f"{VERIFICATION_SPLIT}.jsonl"),
                    "empty split: no questions for the verification slice")
  index = np.arange(min(questions, len(split)))
  store = data.feature_store("vqa")
  try:
    features, mask = store.gather_images(split.image_ids[index])
  finally:
    store.close()
  text = split.batch(index)
  batch = {key: text[key] for key in _TEXT_KEYS}
  batch.update(image_features=np.asarray(features, np.float16),
               region_mask=np.asarray(mask, bool))
  scores = model_scores(predictor.model, config, batch)
  choice_accuracy = np.array([[answer_accuracy(c, split.answers[i])
                               for c in split.choices[i]] for i in index], np.float64)
  with atomic_path(os.path.join(directory, VERIFICATION_FILE)) as tmp:
    with open(tmp, "wb") as f:
      np.savez(f, scores=scores, choice_accuracy=choice_accuracy,
               question_ids=split.question_ids[index], **batch)
  return {"split": VERIFICATION_SPLIT, "questions": int(len(index)),
          "accuracy": accuracy(scores, choice_accuracy), "atol": ATOL, "rtol": RTOL}


class VerificationFailed(DataError):
  """The bundle's model does not give the scores recorded at export."""


def verify(model, config, directory: str, record: Optional[dict]) -> dict:
  """Re-scores the verification slice; raises VerificationFailed if it differs.

  Returns {"questions", "accuracy", "largest_difference", "seconds"}.
  """
  path = os.path.join(directory, VERIFICATION_FILE)
  if not record or not os.path.isfile(path):
    raise DataError(path, "missing: the bundle has no verification slice; export it "
                    "again with tools.export (or load with verify=False)")
  start = time.perf_counter()
  try:
    with np.load(path, allow_pickle=False) as f:
      arrays = {key: f[key] for key in f.files}
    batch = {key: arrays[key] for key in _TEXT_KEYS + ("image_features",
                                                        "region_mask")}
    recorded, choice_accuracy = arrays["scores"], arrays["choice_accuracy"]
  except (OSError, ValueError, KeyError) as err:
    raise DataError(path, f"unreadable verification slice ({err})") from None
  scores = model_scores(model, config, batch)
  seconds = time.perf_counter() - start
  atol, rtol = float(record.get("atol", ATOL)), float(record.get("rtol", RTOL))
  if scores.shape != recorded.shape:
    raise VerificationFailed(path, f"the model gives scores of shape {scores.shape}, "
                             f"recorded {recorded.shape}")
  excess = np.abs(scores - recorded) - (atol + rtol * np.abs(recorded))
  difference = float(np.max(np.abs(scores - recorded))) if scores.size else 0.0
  got = accuracy(scores, choice_accuracy)
  if not np.all(np.isfinite(scores)) or np.any(excess > 0):
    import keras  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    raise VerificationFailed(path, (
        f"the model does not reproduce its recorded scores on {len(recorded)} "
        f"{record.get('split', VERIFICATION_SPLIT)} questions: largest difference "
        f"{difference:.3g} (tolerance {atol:g} + {rtol:g} x |score|), accuracy "
        f"{got:.2f}% vs {float(record.get('accuracy', float('nan'))):.2f}% recorded; "
        f"damaged or replaced weights, or a TensorFlow/Keras that computes the "
        f"model differently (here TF {tf.__version__}, Keras {keras.__version__}; "
        f"exported with TF {record.get('tensorflow')}, Keras {record.get('keras')}); "
        "load with verify=False to use it anyway"))
  return {"questions": int(len(recorded)), "accuracy": got,
          "largest_difference": difference, "seconds": seconds}
