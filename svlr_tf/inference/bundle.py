"""A self-contained model bundle (``tools.export``) and its TF Serving signatures.

Layout of a bundle directory (version 1)::

  <model_dir>/
    model.keras      the SVLRModel (Keras 3 format; the word table and the class
                     names' word ids are weights inside it)
    vocab.json       {"words": [...]}: row i of the model's word table is words[i]
    classes.json     {"objects": [...], "attributes": [...]}
    answers.json     {question type: training answers, most frequent first; "": all}
    config.json      the run's ExperimentConfig
    meta.json        {"format": "svlr_tf.bundle", "version": 1, "experiment",
                      "seed", "checkpoint", "word_vectors" (name or file of the
                      pretrained vectors: the reference, not the vectors),
                      "word_vectors_mean_norm", "pos_backend", "simulated",
                      "data_description", "feature_dim", "regions_per_image",
                      "svlr_tf", "tensorflow", "keras"}
    saved_model/     SavedModel for TF Serving (see ``write_saved_model``)

``Predictor.load(model_dir)`` needs nothing else (no work directory, no prepared
data); words outside vocab.json get vectors from the referenced pretrained
vectors when that machine has them, otherwise a fixed pseudo-random vector.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

import svlr_tf
from svlr_tf.config import ExperimentConfig
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_write_json, current_umask, read_json
from svlr_tf.inference.vocabulary import load_pretrained
from svlr_tf.model.joint import SVLRModel
from svlr_tf.model.recognition import class_embeddings, recognition_scores

FORMAT = "svlr_tf.bundle"
VERSION = 1
MODEL_FILE = "model.keras"
SAVED_MODEL_DIR = "saved_model"


def export_bundle(predictor, model_dir: str) -> str:
  """Writes ``predictor`` (from ``Predictor.from_workdir``) as a bundle.

  The directory appears complete or not at all (written beside it, then
  renamed); an existing ``model_dir`` is an error. Returns ``model_dir``.
  """
  model_dir = os.path.abspath(model_dir)
  if os.path.exists(model_dir):
    raise DataError(model_dir, "exists already; remove it or choose another --out")
  parent = os.path.dirname(model_dir)
  os.makedirs(parent, exist_ok=True)
  tmp = tempfile.mkdtemp(prefix=".export-", dir=parent)
  try:
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp's 0700 would hide it from others
    _write(predictor, tmp)
    os.replace(tmp, model_dir)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  return model_dir


def _write(predictor, directory: str) -> None:
  settings, config = predictor.settings, predictor.config
  data_meta = predictor.data.meta if predictor.data is not None else {}
  predictor.model.save(os.path.join(directory, MODEL_FILE))
  vocabulary = predictor.vocabulary
  atomic_write_json(os.path.join(directory, "vocab.json"),
                    {"words": vocabulary.words[:vocabulary.num_trained]})
  atomic_write_json(os.path.join(directory, "classes.json"),
                    {"objects": predictor.objects, "attributes": predictor.attributes})
  atomic_write_json(os.path.join(directory, "answers.json"), predictor.answers)
  atomic_write_json(os.path.join(directory, "config.json"), config.to_dict(), indent=2)
  pretrained = load_pretrained(settings.get("word_vectors", ""))
  atomic_write_json(os.path.join(directory, "meta.json"), {
      "format": FORMAT, "version": VERSION, "experiment": config.name,
      "seed": config.train.seed,
      "checkpoint": os.path.basename(settings.get("checkpoint", "")),
      "word_vectors": settings.get("word_vectors", ""),
      "word_vectors_mean_norm": (pretrained.mean_norm if pretrained is not None
                                 else settings.get("word_vectors_mean_norm")),
      "pos_backend": settings.get("pos_backend"),
      "simulated": bool(settings.get("simulated")),
      "data_description": data_meta.get("description", ""),
      "feature_dim": config.model.region_feature_dim,
      "regions_per_image": config.data.regions_per_image,
      "svlr_tf": svlr_tf.__version__, "tensorflow": tf.__version__,
      "keras": keras.__version__}, indent=2)
  write_saved_model(predictor.model, config, os.path.join(directory, SAVED_MODEL_DIR))


def load_predictor(cls, model_dir: str, word_vectors: Optional[str] = None,
                   picture_regions: Optional[Callable] = None):
  """``Predictor.load``: a Predictor from a bundle directory."""
  meta_path = os.path.join(model_dir, "meta.json")
  if not os.path.isfile(meta_path):
    raise DataError(meta_path, "missing: not a model bundle (write one with "
                    "python -m tools.export)")
  meta = read_json(meta_path)
  if meta.get("format") != FORMAT or meta.get("version") != VERSION:
    raise DataError(meta_path, f"not a version {VERSION} {FORMAT} "
                    f"({meta.get('format')!r} version {meta.get('version')!r})")
  config = ExperimentConfig.from_dict(read_json(os.path.join(model_dir, "config.json")))
  model_path = os.path.join(model_dir, MODEL_FILE)
  try:
    model = keras.saving.load_model(model_path, compile=False)
  except (OSError, ValueError) as err:
    raise DataError(model_path, f"cannot load the model ({err})") from None
  words = read_json(os.path.join(model_dir, "vocab.json"))["words"]
  classes = read_json(os.path.join(model_dir, "classes.json"))
  if len(words) != int(model.word_embedding.vocabulary_size):
    raise DataError(os.path.join(model_dir, "vocab.json"),
                    f"{len(words)} words for a model table of "
                    f"{model.word_embedding.vocabulary_size} rows")
  settings = {"word_vectors": word_vectors or meta.get("word_vectors", ""),
              "word_vectors_mean_norm": meta.get("word_vectors_mean_norm"),
              "pos_backend": meta.get("pos_backend"),
              "simulated": bool(meta.get("simulated")),
              "checkpoint": meta.get("checkpoint", "")}
  return cls(model, config, words, classes["objects"], classes["attributes"],
             read_json(os.path.join(model_dir, "answers.json")), settings,
             picture_regions=picture_regions)


# ------------------------------------------------------------------ TF Serving
def write_saved_model(model: SVLRModel, config: ExperimentConfig, path: str) -> None:
  """A SavedModel with two signatures on region features and word ids.

  ``answer``: inputs ``image_features`` [P, K, D] float32, ``region_mask``
  [P, K] bool, ``question_bins`` [P, 4, Lq], ``question_nouns`` /
  ``question_adjectives`` [P, Lq], ``choice_words`` / ``choice_nouns`` /
  ``choice_adjectives`` [P, C, La] int32 ids of vocab.json (0 = pad; words
  outside vocab.json: ``<unk>`` = 1), with the run's K, C, Lq, La
  (``regions_per_image``, ``num_choices``, ``max_question_words``,
  ``max_answer_words`` of config.json; pad K with mask False); outputs ``scores``
  [P, C] (Eq. 7, or Eq. 9 for a run without VQA training) and ``attention``
  [P, C, K] (Eq. 4).

  ``recognize``: inputs ``region_features`` [N, D] float32 and ``word_ids``
  [W, L] int32 (one word or phrase per row, 0-padded); outputs
  ``object_scores`` / ``attribute_scores`` [N, W] (f_o(R)^T g(w), f_a(R)^T g(w),
  a phrase as the mean of g over its words); not for the Joint Multitask
  baseline, whose recognition heads use learned class vectors h_y.

  Keras writes the first endpoint (``answer``) also as ``serving_default``.
  """
  d, k = config.model.region_feature_dim, config.data.regions_per_image
  c, b = config.data.num_choices, config.model.num_question_bins
  lq, la = config.data.max_question_words, config.data.max_answer_words

  def ids(*shape, name):
    return tf.TensorSpec(shape, tf.int32, name=name)

  vqa_spec = {
      "image_features": tf.TensorSpec([None, k, d], tf.float32, name="image_features"),
      "region_mask": tf.TensorSpec([None, k], tf.bool, name="region_mask"),
      "question_bins": ids(None, b, lq, name="question_bins"),
      "question_nouns": ids(None, lq, name="question_nouns"),
      "question_adjectives": ids(None, lq, name="question_adjectives"),
      "choice_words": ids(None, c, la, name="choice_words"),
      "choice_nouns": ids(None, c, la, name="choice_nouns"),
      "choice_adjectives": ids(None, c, la, name="choice_adjectives"),
  }

  def answer(batch):
    if config.uses_vqa:
      scores, attention = model.vqa_scores(batch, training=False)
    else:
      scores, attention = model.zero_shot_scores(batch, return_attention=True)
    return {"scores": scores, "attention": attention}

  def recognize(region_features, word_ids):
    phrases = class_embeddings(model.word_embedding, word_ids)
    return {"object_scores": recognition_scores(
                model.object_embedding(region_features, training=False), phrases),
            "attribute_scores": recognition_scores(
                model.attribute_embedding(region_features, training=False), phrases)}

  archive = keras.export.ExportArchive()
  archive.track(model)
  archive.add_endpoint("answer", answer, input_signature=[vqa_spec])
  if not config.model.multitask:  # its recognition heads use h_y, not g
    archive.add_endpoint("recognize", recognize, input_signature=[
        tf.TensorSpec([None, d], tf.float32, name="region_features"),
        tf.TensorSpec([None, None], tf.int32, name="word_ids")])
  archive.write_out(path, verbose=False)


def serving_word_ids(words, phrases, length: Optional[int] = None) -> np.ndarray:
  """int32 [W, L] ids of vocab.json ``words`` for phrases (``<unk>`` = 1)."""
  from svlr_tf.data.prepared import class_name_words  # pylint: disable=import-outside-toplevel
  index = {w: i for i, w in enumerate(words)}
  split = [class_name_words(p) for p in phrases]
  length = length or max(len(s) for s in split)
  out = np.zeros((len(split), length), np.int32)
  for i, s in enumerate(split):
    for j, w in enumerate(s[:length]):
      out[i, j] = index.get(w, 1)
  return out


def check_saved_model(predictor, model_dir: str, seed: int = 0) -> float:
  """Largest |score difference| between the bundle's SavedModel and the model.

  Feeds both signatures random region features and word ids of the vocabulary
  (both tasks' scores), so a wrong export is caught where it is written.
  """
  config = predictor.config
  rng = np.random.default_rng(seed)
  served = tf.saved_model.load(os.path.join(model_dir, SAVED_MODEL_DIR))
  k, d = config.data.regions_per_image, config.model.region_feature_dim
  c, v = config.data.num_choices, predictor.vocabulary.num_trained
  lq, la = config.data.max_question_words, config.data.max_answer_words

  def words(*shape):
    ids = rng.integers(2, v, size=shape).astype(np.int32)
    ids[..., shape[-1] // 2 + 1:] = 0  # some padding
    return ids

  batch = {"image_features": rng.standard_normal((2, k, d)).astype(np.float32),
           "region_mask": np.arange(k)[None].repeat(2, 0) < np.array([[k], [k - 1]]),
           "question_bins": words(2, config.model.num_question_bins, lq),
           "question_nouns": words(2, lq), "question_adjectives": words(2, lq),
           "choice_words": words(2, c, la), "choice_nouns": words(2, c, la),
           "choice_adjectives": words(2, c, la)}
  model = predictor.model
  if config.uses_vqa:
    expected, _ = model.vqa_scores(batch, training=False)
  else:
    expected = model.zero_shot_scores(batch)
  got = served.answer({name: tf.constant(x) for name, x in batch.items()})["scores"]
  difference = float(np.max(np.abs(np.asarray(expected) - got.numpy())))
  if not config.model.multitask:
    features, ids = batch["image_features"][0], words(5, 3)
    expected = recognition_scores(model.object_embedding(features, training=False),
                                  class_embeddings(model.word_embedding, ids))
    got = served.recognize(region_features=tf.constant(features),
                           word_ids=tf.constant(ids))["object_scores"]
    difference = max(difference, float(np.max(np.abs(np.asarray(expected)
                                                      - got.numpy()))))
  return difference
