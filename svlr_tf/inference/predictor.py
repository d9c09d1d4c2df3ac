"""Using a trained model: answer questions, recognise any word (Sec. 3.2.1, 3.3-3.4).

    from svlr_tf.inference import Predictor
    p = Predictor.from_workdir("runs/table1/seed0/joint_svlr")   # or Predictor.load(bundle)
    a = p.answer(1000000, "What color is the car?")             # image id of the data
    a.answers[:3], a.scores[:3], a.attention[0]                 # ranked; a(R) of the best
    r = p.recognize(1000000, ["dog", "puppy", "red car"])       # any words or phrases
    r.ranked(region=0)

``image`` is an image id of the run's prepared data (VQA store first, then the
Genome store), region features ``[K, D]``, or a picture file when the Predictor
was given ``picture_regions`` (a callable path -> :class:`Regions`; ``tools.ask``
builds it from the real-data tools: Edge Boxes, then the ResNet of the run's
data). A run on the embedded world has simulated features: no picture can be
turned into them.

Answers are scored by the trained VQA model (Eq. 3-7) when the run trained VQA,
otherwise by the zero-shot scorer (Eq. 9). Without ``choices`` the candidates are
the training answers of the question's type (docs/interpretations.md).
"""

from __future__ import annotations

import collections
import os
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import tensorflow as tf

from svlr_tf import text
from svlr_tf.config import ExperimentConfig
from svlr_tf.data.boxes import boxes_paths, load_boxes
from svlr_tf.data.prepared import PAD_ID, PreparedData, class_name_words
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import read_json
from svlr_tf.inference.results import (Answer, Recognition, RegionWords,
                                       Regions)
from svlr_tf.inference.vocabulary import OpenVocabulary
from svlr_tf.model.joint import SVLRModel
from svlr_tf.model.recognition import recognition_scores
from svlr_tf.model.svlr import masked_average
from svlr_tf.training.task import SVLRTask
from svlr_tf.world.questions import question_type_of

CHECKPOINTS = {"selection": "best", "recognition": "best_recognition"}
NO_QUESTION_TYPE = "none of the above"
ImageLike = Union[int, str, np.ndarray, Regions]


def answer_vocabulary(data: PreparedData, config: ExperimentConfig,
                      limit: int = 1000) -> Dict[str, List[str]]:
  """{question type: training answers of that type, most frequent first}.

  The ``""`` entry holds the ``limit`` most frequent answers of all types.
  """
  split = data.load_vqa("train", config.data.max_question_words,
                        config.data.max_answer_words, config.data.num_choices)
  types = np.asarray(split.question_type_names)[split.question_type]
  by_type: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
  for qtype, answer in zip(types.tolist(), split.answer):
    by_type[qtype][answer] += 1
    by_type[""][answer] += 1
  return {qtype: [a for a, _ in counts.most_common(limit)]
          for qtype, counts in sorted(by_type.items())}


class Predictor:
  """A trained SVLR model with everything needed to ask it questions.

  Build it with :meth:`from_workdir` (a run's work directory) or
  :meth:`load` (a bundle of ``tools.export``); the constructor is for those two.

  Args:
    model: the trained ``SVLRModel``.
    config: the run's experiment config.
    words: the vocabulary of the model's word table.
    objects / attributes: the class names of the recognition heads.
    answers: :func:`answer_vocabulary`.
    settings: {"word_vectors": name or path of the pretrained vectors,
      "word_vectors_mean_norm": float or None, "pos_backend": str or None,
      "simulated": bool, "checkpoint": str}.
    data: the prepared data (image ids), or None.
    picture_regions: callable picture path -> :class:`Regions`, or None.
  """

  def __init__(self, model: SVLRModel, config: ExperimentConfig, words: Sequence[str],
               objects: Sequence[str], attributes: Sequence[str],
               answers: Dict[str, List[str]], settings: dict,
               data: Optional[PreparedData] = None,
               picture_regions: Optional[Callable[[str], Regions]] = None):
    self.model = model
    self.config = config
    self.objects, self.attributes = list(objects), list(attributes)
    self.answers = answers
    self.settings = dict(settings)
    self.data = data
    self.picture_regions = picture_regions
    table = np.asarray(model.word_embedding.word_vectors.numpy(), np.float32)
    self.vocabulary = OpenVocabulary(words, table, settings.get("word_vectors", ""),
                                     settings.get("word_vectors_mean_norm"))
    self.notes: List[str] = []
    wanted = settings.get("pos_backend")
    if wanted and wanted != text.pos_backend():
      try:
        text.use_backend(wanted)
      except ValueError as err:
        self.notes.append(f"questions were tagged with {wanted!r} in training; here "
                          f"{text.pos_backend()!r} ({err})")
    self._stores = {}

  # ------------------------------------------------------------------ building
  @classmethod
  def from_workdir(cls, workdir: str, data_dir: Optional[str] = None,
                   checkpoint: str = "selection", word_vectors: Optional[str] = None,
                   picture_regions: Optional[Callable[[str], Regions]] = None
                   ) -> "Predictor":
    """The best checkpoint of a run's work directory.

    Args:
      workdir: a run's work directory (config.json, data.json, best/).
      data_dir: the prepared data (default: the one recorded in data.json).
      checkpoint: "selection" (the run's own held-out selection) or
        "recognition" (selected on Genome val object accuracy).
      word_vectors: path of the pretrained vectors for new words (default:
        meta.json's ``word_vectors``).
      picture_regions: see the class docstring.
    """
    config_path = os.path.join(workdir, "config.json")
    if not os.path.isfile(config_path):
      raise DataError(config_path, "missing: not a run's work directory")
    try:
      config = ExperimentConfig.from_dict(read_json(config_path))
    except (TypeError, ValueError) as err:
      raise DataError(config_path, f"not a config this svlr_tf reads ({err})") from None
    if data_dir is None:
      record = os.path.join(workdir, "data.json")
      if not os.path.isfile(record):
        raise DataError(record, "missing (a run from before data.json was "
                        "recorded): pass the prepared data directory")
      data_dir = read_json(record)["data_dir"]
    data = PreparedData(data_dir)
    if checkpoint not in CHECKPOINTS:
      raise ValueError(f"checkpoint must be one of {sorted(CHECKPOINTS)}")
    directory = os.path.join(workdir, CHECKPOINTS[checkpoint])
    path = tf.train.latest_checkpoint(directory)
    if path is None:
      raise DataError(directory, "no checkpoint: train the run first")
    model = SVLRTask(config).build_model_for_data(data)
    tf.train.Checkpoint(model=model).restore(path).expect_partial()
    settings = {"word_vectors": word_vectors or data.meta.get("word_vectors", ""),
                "word_vectors_mean_norm": None,
                "pos_backend": data.meta.get("pos_backend"),
                "simulated": bool(data.meta.get("simulated")),
                "checkpoint": os.path.abspath(path)}
    return cls(model, config, data.words, data.objects, data.attributes,
               answer_vocabulary(data, config), settings, data=data,
               picture_regions=picture_regions)

  @classmethod
  def load(cls, model_dir: str, word_vectors: Optional[str] = None,
           picture_regions: Optional[Callable[[str], Regions]] = None,
           data_dir: Optional[str] = None) -> "Predictor":
    """A bundle written by ``tools.export`` (no work directory or data needed).

    ``data_dir``: optional prepared data whose image ids ``answer`` and
    ``recognize`` then accept.
    """
    from svlr_tf.inference import bundle  # pylint: disable=import-outside-toplevel
    predictor = bundle.load_predictor(cls, model_dir, word_vectors, picture_regions)
    if data_dir is not None:
      predictor.data = PreparedData(data_dir)
    return predictor

  # ------------------------------------------------------------------- regions
  def regions(self, image: ImageLike) -> Regions:
    """The regions of an image id, a picture file, or features [K, D]."""
    if isinstance(image, Regions):
      return image
    if isinstance(image, np.ndarray):
      features = np.asarray(image, np.float32)
      if features.ndim != 2 or features.shape[1] != self.config.model.region_feature_dim:
        raise ValueError(f"region features have shape {features.shape}; expected "
                         f"[K, {self.config.model.region_feature_dim}]")
      return Regions(features, np.ones(len(features), bool))
    if isinstance(image, str) and not image.strip().isdigit():
      return self._picture(image)
    return self._stored(int(image))

  def _picture(self, path: str) -> Regions:
    if not os.path.isfile(path):
      raise DataError(path, "no such picture file (or give an image id)")
    if self.settings.get("simulated"):
      raise DataError(path, "this run's data is the embedded world, whose region "
                      "features are simulated: no picture maps to them; give an "
                      "image id of its data")
    if self.picture_regions is None:
      raise DataError(path, "no picture_regions given to the Predictor "
                      "(tools.ask builds one from Edge Boxes and the ResNet)")
    return self.picture_regions(path)

  def _stored(self, image_id: int) -> Regions:
    if self.data is None:
      raise DataError(str(image_id), "this Predictor has no prepared data (a "
                      "bundle): give region features or a picture")
    for kind in ("vqa", "genome"):
      if kind not in self._stores:
        self._stores[kind] = self.data.feature_store(kind)
      store = self._stores[kind]
      if image_id in store:
        features = np.asarray(store.regions(image_id), np.float32)
        regions = Regions(features, np.ones(len(features), bool), image_id=image_id)
        if boxes_paths(self.data.data_dir, kind):  # where the regions are, if known
          found = load_boxes(self.data.data_dir, kind, [image_id])[image_id]
          if len(found.boxes) == len(features):
            regions.boxes = np.asarray(found.boxes, np.float32)
            regions.picture = found.file
            regions.image_size = (int(found.width), int(found.height))
        return regions
    raise DataError(self.data.data_dir, f"image {image_id} is in neither feature store")

  # -------------------------------------------------------------------- answer
  def question_type(self, question: str) -> Optional[str]:
    """The longest training question type that starts the question, or None."""
    types = [t for t in self.answers if t]
    found = question_type_of(" ".join(text.tokenize(question)), types)
    return None if found == NO_QUESTION_TYPE else found

  def answer(self, image: ImageLike, question: str,
             choices: Optional[Sequence[str]] = None) -> Answer:
    """Ranks ``choices`` (or the training answers of the question's type)."""
    regions = self.regions(image)
    qtype = self.question_type(question)
    open_ended = choices is None
    if open_ended:
      choices = self.answers.get(qtype or "") or self.answers.get("", [])
    choices = [str(c) for c in choices]
    if not choices:
      raise ValueError("no choices to rank")
    batch, used = self._vqa_batch(regions, question, choices)
    table = self.vocabulary.table()
    if self.config.uses_vqa:
      scores, attention = self.model.vqa_scores(batch, training=False,
                                                word_vectors=table)
      scorer = "Eq. 7"
    else:
      scores, attention = self.model.zero_shot_scores(batch, word_vectors=table,
                                                      return_attention=True)
      scorer = "Eq. 9 (zero-shot)"
    scores = np.asarray(scores)[0]
    attention = np.asarray(attention)[0]
    order = np.argsort(-scores, kind="stable")
    return Answer(
        question=question, question_type=qtype, scorer=scorer, open_ended=open_ended,
        answers=[choices[i] for i in order], scores=scores[order],
        attention=attention[order], regions=regions,
        region_words=self.region_words(regions),
        new_words=self.vocabulary.notes_for(used))

  def _vqa_batch(self, regions: Regions, question: str, choices: Sequence[str]):
    lq, la = self.config.data.max_question_words, self.config.data.max_answer_words
    ids = self.vocabulary.ids
    q = text.analyze_question(question)
    analyzed = [text.analyze_answer(c) for c in choices]
    used = set(q.tokens) | set(q.nouns) | set(q.adjectives)
    for a in analyzed:
      used.update(a.tokens + a.nouns + a.adjectives)
    return {
        "image_features": regions.features[None],
        "region_mask": regions.mask[None],
        "question_bins": np.stack([ids(b, lq) for b in q.bins])[None],
        "question_nouns": ids(q.nouns, lq)[None],
        "question_adjectives": ids(q.adjectives, lq)[None],
        "choice_words": np.stack([ids(a.tokens, la) for a in analyzed])[None],
        "choice_nouns": np.stack([ids(a.nouns, la) for a in analyzed])[None],
        "choice_adjectives": np.stack([ids(a.adjectives, la) for a in analyzed])[None],
    }, used

  # ---------------------------------------------------------------- recognize
  def region_words(self, regions: Regions) -> RegionWords:
    """The best object and attribute class of every region."""
    objects, attributes = self.model.recognition_scores(regions.features,
                                                        training=False)
    objects, attributes = np.asarray(objects), np.asarray(attributes)
    o, a = objects.argmax(axis=1), attributes.argmax(axis=1)
    rows = np.arange(len(o))
    return RegionWords([self.objects[i] for i in o], objects[rows, o],
                       [self.attributes[i] for i in a], attributes[rows, a])

  def recognize(self, image: ImageLike, words: Sequence[str]) -> Recognition:
    """f_o(R)^T g(w) and f_a(R)^T g(w) for any words or phrases (Sec. 3.2.1).

    A phrase ("red car") is embedded as the mean of g over its words, as
    multi-word class names are in training. Words the training vocabulary
    lacks get vectors by the training rules (``new_words`` says which).
    The Joint Multitask baseline scores its class names only (its recognition
    heads use learned class vectors h_y, not g).
    """
    regions = self.regions(image)
    words = [str(w) for w in words]
    if not words:
      raise ValueError("no words to score")
    classes = np.array([w in self.objects or w in self.attributes for w in words])
    model = self.model
    if model.model_config.multitask:
      return self._recognize_multitask(regions, words, classes)
    phrases = [class_name_words(w) for w in words]
    width = max(len(p) for p in phrases)
    ids = np.stack([self.vocabulary.ids(p, width) for p in phrases])
    vectors = np.take(self.vocabulary.table(), ids, axis=0)        # [W, L, d]
    g = np.asarray(model.word_embedding.embed_vectors(vectors))   # [W, L, E]
    g = masked_average(g, ids != PAD_ID)                             # [W, E]
    object_scores = recognition_scores(
        model.object_embedding(regions.features, training=False), g)
    attribute_scores = recognition_scores(
        model.attribute_embedding(regions.features, training=False), g)
    return Recognition(words, np.asarray(object_scores), np.asarray(attribute_scores),
                       classes, regions,
                       self.vocabulary.notes_for(w for p in phrases for w in p))

  def _recognize_multitask(self, regions, words, classes) -> Recognition:
    if not classes.all():
      missing = [w for w, c in zip(words, classes) if not c]
      raise ValueError(f"the Joint Multitask baseline scores class names only "
                       f"(learned class vectors h_y, no open vocabulary): {missing}")
    objects, attributes = self.model.recognition_scores(regions.features,
                                                        training=False)
    objects, attributes = np.asarray(objects), np.asarray(attributes)
    nan = np.float32(np.nan)
    obj = np.stack([objects[:, self.objects.index(w)] if w in self.objects
                    else np.full(len(objects), nan) for w in words], axis=1)
    atr = np.stack([attributes[:, self.attributes.index(w)] if w in self.attributes
                    else np.full(len(attributes), nan) for w in words], axis=1)
    return Recognition(words, obj, atr, classes, regions, {})
