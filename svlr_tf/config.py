"""Typed configuration for svlr_tf.

Every hyperparameter of the paper (Gupta et al., ICCV 2017, Sec. 3 and Sec. 4) is
a field here, and its default is the paper's value.  The presets
(``svlr_tf/presets.py``) override the dimensions that are not the data's; the
fields in ``DATA_FIELDS`` are always read from the prepared data
(:meth:`ExperimentConfig.with_data_dims`).

Config tree (in the spirit of tensorflow/models ``config_definitions``)::

    ExperimentConfig
      model:     ModelConfig      (SVLR module, VQA head, class counts)
      loss:      LossConfig       (margins, alphas of Eq. 10)
      optimizer: OptimizerConfig  (Adam, staircase exponential decay, weight decay)
      data:      DataConfig       (batch sizes M and P, regions per image, choices)
      train:     TrainConfig      (steps, evaluation and checkpoint cadence, seed)

Named experiments (Sec. 5.2 / 5.3): ``vqa_only``, ``language_only`` (VQA
without the image), ``genome_only``,
``joint_multitask``, ``joint_svlr`` (and ``joint_svlr_vr`` for the VQA -> VR
direction of Sec. 5.3, ``pretrain_then_joint`` for Sec. 5.2's pre-training
ablation).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional

# The question is parsed into 4 bins (Shih et al. 2016 [49], Sec. 4 of the paper);
# svlr_tf.text.questions fills them.
NUM_QUESTION_BINS = 4


@dataclasses.dataclass
class ModelConfig:
  """Model dimensions (Sec. 3.1, 3.3).

  Attributes:
    word_vector_dim: width of the pretrained word vectors fed to g (300 for
      word2vec; 50 for the GloVe 6B 50-d vectors of the embedded dataset).
    embedding_dim: output width of g, f_o and f_a (paper: 300).
    word_hidden_dim: hidden width of g (paper: 300, ReLU after the first layer).
    region_feature_dim: width of the CNN region features (ResNet-50 pool: 2048).
    region_hidden_dim: hidden width of f_o and f_a (paper: 2048).
    region_final_relu: whether the last layer of f_o / f_a has a ReLU after its
      batch norm (ambiguous in the paper; see docs/interpretations.md).
    num_object_classes: |O| (paper: 1000).
    num_attribute_classes: |T| (paper: 1000).
    bimodal_dim: width of beta(Q, I, A) in Eq. 6 (paper: 2500).
    num_question_bins: bins of the question representation (Shih et al.: 4).
    multitask: True builds the Joint Multitask baseline of Sec. 5.2: the
      recognition heads use learned per-class vectors h_y instead of g(y).
    attention_words: which word embedding the attention of Eq. 3 (and so
      Eq. 4) uses: "g" (SVLR: the shared, recognition-aligned g) or
      "vqa_only" (a second word embedding, same architecture as g, that only
      the VQA loss trains; the ablation beyond the paper, reproduce.ablation).
    image_class_vectors: the class vectors of the region scores s(R) pooled
      by Eq. 5: "recognition" (the recognition heads' own: g(y) for SVLR,
      h_y for Joint Multitask) or "vqa_only" (separate learned per-class
      vectors that only the VQA loss trains; the other ablation).
    zero_shot_empty_question: how Eq. 9 scores a question without nouns or
      adjectives: "no_constraint" (the question puts no term into the min(),
      S = sum_R a(R) p_a(R)) or "zero" (p_q(R) = 0, S = sum_R a(R) min(0,
      p_a(R))); docs/interpretations.md entry 7.
    use_image: False builds the Language Only baseline (the question-and-
      answer-only model of Sec. 5.2's language prior): the image
      representation f(I) of Eq. 5 is replaced by zeros, so Eq. 6 sees only
      [q(Q); a(A)] (docs/interpretations.md, "Language Only").
  """

  word_vector_dim: int = 300
  embedding_dim: int = 300
  word_hidden_dim: int = 300
  region_feature_dim: int = 2048
  region_hidden_dim: int = 2048
  region_final_relu: bool = False
  num_object_classes: int = 1000
  num_attribute_classes: int = 1000
  bimodal_dim: int = 2500
  num_question_bins: int = NUM_QUESTION_BINS
  multitask: bool = False
  attention_words: str = "g"
  image_class_vectors: str = "recognition"
  zero_shot_empty_question: str = "no_constraint"
  use_image: bool = True


@dataclasses.dataclass
class LossConfig:
  """Loss weights of Eq. 10 and the margins of Eq. 1 and Eq. 8 (Sec. 4).

  Defaults are the VR -> VQA setting of Sec. 5.2: alpha_ans = 1,
  alpha_obj = alpha_atr = 0.1.
  """

  alpha_ans: float = 1.0
  alpha_obj: float = 0.1
  alpha_atr: float = 0.1
  eta_obj: float = 1.0
  eta_ans: float = 1.0


@dataclasses.dataclass
class OptimizerConfig:
  """Adam with a staircase exponential decay and weight decay (Sec. 4)."""

  learning_rate: float = 1e-3
  decay_rate: float = 0.5
  decay_steps: int = 24000
  weight_decay: float = 1e-5


@dataclasses.dataclass
class DataConfig:
  """Batching and region counts (Sec. 4).

  Attributes:
    recognition_batch_size: M, Genome regions per step (paper: 200).
    vqa_batch_size: P, VQA questions per step (paper: 50).
    regions_per_image: Edge Boxes proposals per VQA image (paper: 100).
    num_choices: multiple-choice options per question (VQA v1: 18).
    max_question_words: padded length of a question's word list per bin and
      of its noun / adjective lists.
    max_answer_words: padded length of an answer's word list.
  """

  recognition_batch_size: int = 200
  vqa_batch_size: int = 50
  regions_per_image: int = 100
  num_choices: int = 18
  max_question_words: int = 16
  max_answer_words: int = 6


MIXED_PRECISION_POLICIES = ("none", "mixed_float16", "mixed_bfloat16")
INPUT_MODES = ("auto", "host", "resident")  # svlr_tf/data/input_mode.py

# Fields the prepared data decides (word vectors, feature store, classes.json,
# meta.json): never set by a preset or an override, always by ``with_data_dims``.
DATA_FIELDS = {
    "model": ("word_vector_dim", "region_feature_dim", "num_object_classes",
              "num_attribute_classes"),
    "data": ("regions_per_image",),
}


@dataclasses.dataclass
class TrainConfig:
  """Training loop cadence.

  Attributes:
    steps: optimizer steps per run.
    eval_every: steps between held-out evaluations (model selection).
    checkpoint_every: steps between checkpoints.
    log_every: steps between scalar summaries / progress lines.
    seed: global seed (tf, numpy, tf.data).
    jit_compile: compile the train step with XLA.
    mixed_precision: Keras dtype policy of the model ("none" = float32,
      "mixed_float16" with loss scaling, "mixed_bfloat16").
    init_from: "" (Xavier initialisation, Sec. 4), or the name of a finished
      run in the same seed directory (e.g. "genome_only") whose selected weights
      start this run: the pre-training ablation of Sec. 5.2.
    recognition_warmup_steps: during the first N steps Eq. 10 weights the
      recognition losses by alpha_obj = alpha_atr = 1 (0: never).  The control
      of Sec. 5.2's pre-training ablation: Joint SVLR from scratch given the
      recognition budget the pre-trained row gets from its Genome-only phase
      (reproduce.pretraining); needs alpha_obj > 0 and alpha_atr > 0.
    input_mode: how training batches reach the device: "host" (features
      gathered on the host every step), "resident" (the training features
      loaded once into device memory, indices per step) or "auto" (resident
      when they fit).  Both train identically, so it is in ``RUN_ONLY_FIELDS``.

  The cadence rule (checked here, once): evaluations happen at checkpoints, so
  ``eval_every`` is a multiple of ``checkpoint_every``.
  """

  steps: int = 100000
  eval_every: int = 2000
  checkpoint_every: int = 2000
  log_every: int = 100
  seed: int = 0
  jit_compile: bool = False
  mixed_precision: str = "none"
  init_from: str = ""
  input_mode: str = "auto"
  recognition_warmup_steps: int = 0   # issue 22; 0 = the behaviour before it existed

  def __post_init__(self):
    for name in ("steps", "eval_every", "checkpoint_every", "log_every"):
      if getattr(self, name) < 1:
        raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}.")
    if self.eval_every % self.checkpoint_every:
      raise ValueError(
          f"train.eval_every ({self.eval_every}) must be a multiple of "
          f"train.checkpoint_every ({self.checkpoint_every}): evaluations happen "
          "at checkpoints.")
    if self.mixed_precision not in MIXED_PRECISION_POLICIES:
      raise ValueError(f"train.mixed_precision must be one of "
                       f"{list(MIXED_PRECISION_POLICIES)}, got {self.mixed_precision!r}.")
    if self.recognition_warmup_steps < 0:
      raise ValueError(f"train.recognition_warmup_steps must be >= 0, got "
                       f"{self.recognition_warmup_steps}.")
    if self.input_mode not in INPUT_MODES:
      raise ValueError(f"train.input_mode must be one of {list(INPUT_MODES)}, got "
                       f"{self.input_mode!r}.")

  def fitted_to_steps(self) -> "TrainConfig":
    """The cadence shortened to fit ``steps`` (a run shorter than ``eval_every``
    still evaluates and checkpoints at its end)."""
    eval_every = min(self.eval_every, self.steps)
    checkpoint_every = min(self.checkpoint_every, eval_every)
    if eval_every % checkpoint_every:
      checkpoint_every = eval_every
    return dataclasses.replace(self, eval_every=eval_every,
                               checkpoint_every=checkpoint_every)


@dataclasses.dataclass
class ExperimentConfig:
  """A whole experiment: model, loss, optimizer, data and training cadence.

  ``uses_vqa`` / ``uses_recognition`` follow from the alphas: a task whose
  alpha is zero gets no batches at all.
  """

  name: str = "joint_svlr"
  model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
  loss: LossConfig = dataclasses.field(default_factory=LossConfig)
  optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
  data: DataConfig = dataclasses.field(default_factory=DataConfig)
  train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

  @property
  def uses_vqa(self) -> bool:
    return self.loss.alpha_ans > 0

  @property
  def uses_recognition(self) -> bool:
    return self.loss.alpha_obj > 0 or self.loss.alpha_atr > 0

  def to_dict(self) -> Dict[str, Any]:
    return dataclasses.asdict(self)

  def with_data_dims(self, dims: Dict[str, Dict[str, Any]]) -> "ExperimentConfig":
    """A copy with the ``DATA_FIELDS`` set from ``dims`` ({section: {field: value}},
    e.g. ``svlr_tf.data.prepared.PreparedData.dims()``); all of them required."""
    missing = [f"{s}.{f}" for s, fields in DATA_FIELDS.items() for f in fields
               if f not in dims.get(s, {})]
    extra = [f"{s}.{f}" for s, values in dims.items() for f in values
             if f not in DATA_FIELDS.get(s, ())]
    if missing or extra:
      raise ValueError(f"with_data_dims: missing {missing}, not data fields {extra}.")
    return self.replace(**dims)

  @classmethod
  def from_dict(cls, d: Dict[str, Any]) -> "ExperimentConfig":
    return cls(
        name=d.get("name", "joint_svlr"),
        model=ModelConfig(**d.get("model", {})),
        loss=LossConfig(**d.get("loss", {})),
        optimizer=OptimizerConfig(**d.get("optimizer", {})),
        data=DataConfig(**d.get("data", {})),
        train=TrainConfig(**d.get("train", {})),
    )

  def describes(self, saved: Dict[str, Any]) -> bool:  # see LEGACY_DEFAULTS
    """Whether ``saved`` (a config.json / results.json "config") is this config.

    A field that ``saved`` lacks counts as its default: fields added to the
    config after a run was made (``train.init_from``, ``train.mixed_precision``,
    ...) default to what the code did before they existed, so such a run is
    still this config.  A field ``saved`` has that this code does not know makes
    it another config.  ``RUN_ONLY_FIELDS`` (how a run computes, not what) are
    not compared.
    """
    try:
      saved = ExperimentConfig.from_dict(with_legacy_defaults(saved)).to_dict()
    except (TypeError, ValueError):
      return False
    return without_run_only_fields(saved) == without_run_only_fields(self.to_dict())

  def replace(self, **sections: Dict[str, Any]) -> "ExperimentConfig":
    """Returns a copy with fields of sections overridden.

    Example: ``cfg.replace(model={"embedding_dim": 8}, train={"steps": 10})``.
    """
    d = self.to_dict()
    for section, values in sections.items():
      if section == "name":
        d["name"] = values
        continue
      if section not in d or not isinstance(d[section], dict):
        raise ValueError(f"Unknown config section {section!r}.")
      unknown = set(values) - set(d[section])
      if unknown:
        raise ValueError(
            f"Unknown field(s) {sorted(unknown)} in config section {section!r}.")
      d[section].update(values)
    return ExperimentConfig.from_dict(d)


# Loss weights of Sec. 4.  VR -> VQA (Sec. 5.2): alpha_ans = 1, alpha_obj =
# alpha_atr = 0.1.  VQA -> VR (Sec. 5.3): alpha_ans = 0.1, alpha_obj = alpha_atr = 1.
# "VQA only" and "Genome only" set the corresponding alphas to 1, others to 0.
_EXPERIMENTS = {
    "vqa_only": dict(loss=dict(alpha_ans=1.0, alpha_obj=0.0, alpha_atr=0.0),
                     model=dict(multitask=False)),
    # The VQA model with the image removed (question and answer only): the
    # language prior that VQA Only is measured against (Table 1's Language Only).
    "language_only": dict(loss=dict(alpha_ans=1.0, alpha_obj=0.0, alpha_atr=0.0),
                          model=dict(multitask=False, use_image=False)),
    "genome_only": dict(loss=dict(alpha_ans=0.0, alpha_obj=1.0, alpha_atr=1.0),
                        model=dict(multitask=False)),
    "joint_multitask": dict(loss=dict(alpha_ans=1.0, alpha_obj=0.1, alpha_atr=0.1),
                            model=dict(multitask=True)),
    "joint_svlr": dict(loss=dict(alpha_ans=1.0, alpha_obj=0.1, alpha_atr=0.1),
                       model=dict(multitask=False)),
    "joint_svlr_vr": dict(loss=dict(alpha_ans=0.1, alpha_obj=1.0, alpha_atr=1.0),
                          model=dict(multitask=False)),
    # Sec. 5.2's pre-training ablation: Joint SVLR started from the Genome-only
    # model's selected weights (docs/interpretations.md).
    "pretrain_then_joint": dict(loss=dict(alpha_ans=1.0, alpha_obj=0.1, alpha_atr=0.1),
                                model=dict(multitask=False),
                                train=dict(init_from="genome_only")),
    # Ablation beyond the paper (reproduce.ablation): Joint SVLR with exactly
    # one of its two uses of the aligned words removed.
    "joint_svlr_vqa_attention": dict(
        loss=dict(alpha_ans=1.0, alpha_obj=0.1, alpha_atr=0.1),
        model=dict(multitask=False, attention_words="vqa_only")),
    "joint_svlr_vqa_classes": dict(
        loss=dict(alpha_ans=1.0, alpha_obj=0.1, alpha_atr=0.1),
        model=dict(multitask=False, image_class_vectors="vqa_only")),
}

EXPERIMENT_NAMES = tuple(_EXPERIMENTS)


def experiment_config(name: str,
                      base: Optional[ExperimentConfig] = None) -> ExperimentConfig:
  """Returns the named experiment of the paper on top of ``base``.

  Args:
    name: one of ``EXPERIMENT_NAMES``.
    base: dimensions / cadence to start from (default: the paper's values).
  """
  if name not in _EXPERIMENTS:
    raise ValueError(
        f"Unknown experiment {name!r}; expected one of {list(EXPERIMENT_NAMES)}.")
  base = base or ExperimentConfig()
  return base.replace(name=name, **_EXPERIMENTS[name])


# Fields added after runs were made whose default is NOT what the code did before
# they existed: a saved config without them means this value (not the default).
LEGACY_DEFAULTS: Dict[str, Dict[str, Any]] = {
    # Eq. 9 for questions without nouns or adjectives; "zero" before it was a field.
    "model": {"zero_shot_empty_question": "zero"},
}


# Fields that choose how a run computes, never its numbers (both input modes
# train on the same batches with the same values, tests/training/
# test_input_modes.py): a finished run is reused and a checkpoint resumed
# whatever their values.
RUN_ONLY_FIELDS: Dict[str, tuple] = {"train": ("input_mode",)}


def without_run_only_fields(config: Dict[str, Any]) -> Dict[str, Any]:
  """A copy of a config dict without the ``RUN_ONLY_FIELDS``."""
  out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}
  for section, names in RUN_ONLY_FIELDS.items():
    if isinstance(out.get(section), dict):
      for name in names:
        out[section].pop(name, None)
  return out


def with_legacy_defaults(saved: Dict[str, Any]) -> Dict[str, Any]:
  """A copy of a saved config dict with the LEGACY_DEFAULTS of absent fields."""
  out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in saved.items()}
  for section, fields in LEGACY_DEFAULTS.items():
    if isinstance(out.get(section), dict):
      for name, value in fields.items():
        out[section].setdefault(name, value)
  return out
