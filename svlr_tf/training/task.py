"""The SVLR task: model, optimizer, inputs, the train step and evaluation scores.

One Task (in the spirit of tensorflow/models' ``official/core/base_task.py``) is
the only place where an experiment's model is built and its train step is
written.  The trainer (``svlr_tf.training.trainer``), the benchmark (``tools.benchmark``)
and the world calibration (``tools.calibrate_world``) all train with
:meth:`SVLRTask.train_step`; the loop around it stays generic.

* ``build_model`` / ``build_optimizer``: call them under ``strategy.scope()``
  (the trainer does); the optimizer is built before the first step (building it
  lazily inside ``strategy.run`` fails under TF 2.21).
* ``train_step``: Eq. 10 loss + weight decay (Sec. 4), gradients, Adam update.
  The per-replica loss is divided by the number of replicas, so summed gradients
  equal those of the global batch; with ``mixed_float16`` the loss is scaled.
* Input modes (``train.input_mode``, svlr_tf/data/input_mode.py): with
  ``build_resident`` returning :class:`~svlr_tf.data.resident.ResidentFeatures`,
  ``build_inputs`` yields indices instead of features and the step gathers the
  features on the device before ``train_step`` (the same batches).
* ``vqa_split_scores`` / ``recognition_split_scores``: a model's scores on a
  whole split, in split order, for the held-out selection and the test tables.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Callable, Dict, Mapping, Optional

import numpy as np
import tensorflow as tf
import keras

from svlr_tf.config import ExperimentConfig
from svlr_tf.data import input_mode, pipeline
from svlr_tf.data import resident as resident_lib
from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.data.prepared import PreparedData
from svlr_tf.evaluation.multiple_choice import VQAScorer
from svlr_tf.model.joint import SVLRModel
from svlr_tf.model.optimizer import build_optimizer, weight_decay_loss


def data_dims(data: PreparedData) -> Dict[str, Dict[str, int]]:
  """The config fields the prepared data decides (``svlr_tf.config.DATA_FIELDS``)."""
  return {"model": {"word_vector_dim": int(data.word_vectors.shape[1]),
                    "region_feature_dim": int(data.feature_dim),
                    "num_object_classes": len(data.objects),
                    "num_attribute_classes": len(data.attributes)},
          "data": {"regions_per_image": int(data.regions_per_image)}}


@contextlib.contextmanager
def _dtype_policy(name: str):
  """Keras global dtype policy for the layers built inside (then float32 again)."""
  keras.mixed_precision.set_global_policy("float32" if name == "none" else name)
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy("float32")


class SVLRTask:
  """One experiment of the paper as a task.

  Args:
    config: the experiment, with the data's dimensions set
      (``ExperimentConfig.with_data_dims``).
  """

  def __init__(self, config: ExperimentConfig):
    self.config = config
    self._scorers: Dict[tuple, VQAScorer] = {}

  # ---------------------------------------------------------------- building
  def build_model(self, word_vectors: np.ndarray, object_class_words: np.ndarray,
                  attribute_class_words: np.ndarray) -> SVLRModel:
    """The joint model (Sec. 3) under ``train.mixed_precision``'s dtype policy."""
    with _dtype_policy(self.config.train.mixed_precision):
      return SVLRModel(self.config.model, word_vectors, object_class_words,
                       attribute_class_words)

  def build_model_for_data(self, data: PreparedData) -> SVLRModel:
    """The model with the data's word vectors and class names."""
    la = self.config.data.max_answer_words
    return self.build_model(data.word_vectors, data.class_word_ids("objects", la),
                            data.class_word_ids("attributes", la))

  def build_optimizer(self, model: Optional[SVLRModel] = None):
    """Adam + staircase decay (Sec. 4); loss-scaled under ``mixed_float16``.

    With ``model``, the optimizer's variables are created now (do it under the
    strategy's scope, before the first step).
    """
    optimizer = build_optimizer(self.config.optimizer)
    if self.config.train.mixed_precision == "mixed_float16":
      optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    if model is not None:
      optimizer.build(model.trainable_variables)
    return optimizer

  def build_resident(self, data: PreparedData, stores: Mapping[str, FeatureStore],
                     strategy: Optional[tf.distribute.Strategy] = None,
                     log: Callable[[str], None] = print
                     ) -> Optional[resident_lib.ResidentFeatures]:
    """The input mode (``train.input_mode``; "auto" from the features' size and
    the replica devices' memory), said in one line; in "resident" mode the
    training features loaded on every replica device, else None (host mode)."""
    strategy = strategy or tf.distribute.get_strategy()
    requested = self.config.train.input_mode
    if requested == "host":
      log(f"[{self.config.name}] input mode host: train.input_mode=host")
      return None
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
      why = input_mode.MULTIWORKER_UNSUPPORTED
      if requested == "resident":
        raise ValueError(f"train.input_mode=resident is {why}; use host or auto.")
      log(f"[{self.config.name}] input mode host: auto: resident is {why}")
      return None
    index = resident_lib.ResidentIndex(data, stores, self.config)
    mode, reason = input_mode.choose(requested, index.nbytes,
                                     input_mode.replica_devices(strategy))
    log(f"[{self.config.name}] input mode {mode}: {reason}")
    return resident_lib.ResidentFeatures(index, strategy) if mode == "resident" else None

  def build_inputs(self, data: PreparedData, stores: Mapping[str, FeatureStore],
                   seed: int, num_batches: Optional[int] = None,
                   shard: Optional[pipeline.Shard] = None,
                   resident: Optional[resident_lib.ResidentFeatures] = None
                   ) -> tf.data.Dataset:
    """Training batches of the tasks the experiment trains (global batch sizes;
    with ``shard``, one input pipeline's per-replica part of each); with
    ``resident``, indices in place of the features (the same batches once the
    step has gathered them)."""
    if resident is not None:
      if shard is not None:
        raise ValueError("resident inputs are not sharded (build_resident refuses "
                         "MultiWorkerMirroredStrategy)")
      return resident_lib.joint_index_dataset(data, resident.index, self.config,
                                              seed=seed, num_batches=num_batches)
    return pipeline.joint_dataset(data, stores, self.config, seed=seed,
                                  num_batches=num_batches, shard=shard)

  # ---------------------------------------------------------------- training
  def gradients(self, batch, model: SVLRModel, optimizer, num_replicas: int = 1):
    """(gradients, losses) of one replica's batch: the forward and backward pass
    of ``train_step`` without the optimizer update.

    Eq. 10 (``model.compute_losses``) plus the weight decay of Sec. 4, divided by
    ``num_replicas`` (gradients are summed across replicas); loss-scaled under
    ``mixed_float16`` (``apply_gradients`` unscales).
    """
    cfg = self.config
    with tf.GradientTape() as tape:
      losses = model.compute_losses(batch, cfg.loss, training=True)
      decay = weight_decay_loss(model.trainable_variables, cfg.optimizer.weight_decay)
      total = losses["loss_total"] + decay
      scaled = total / tf.cast(num_replicas, total.dtype)
      if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        scaled = optimizer.scale_loss(scaled)
    grads = tape.gradient(scaled, model.trainable_variables)
    losses = dict(losses)
    losses["loss_weight_decay"] = decay
    return grads, losses

  def train_step(self, batch, model: SVLRModel, optimizer,
                 num_replicas: int = 1) -> Dict[str, tf.Tensor]:
    """One optimizer step on one replica's batch; returns the losses.

    ``gradients``, then the Adam update (under a strategy, the optimizer sums the
    gradients across replicas first).
    """
    grads, losses = self.gradients(batch, model, optimizer, num_replicas)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return losses

  def replica_step(self, model: SVLRModel, optimizer, num_replicas: int = 1,
                   distributed: bool = False,
                   resident: Optional[resident_lib.ResidentFeatures] = None
                   ) -> Callable:
    """``train_step`` bound to a model and optimizer: batch -> losses.

    With ``train.jit_compile``, XLA compiles the whole step on one device; under
    a distribution strategy (``distributed``) it compiles ``gradients`` only, once
    per replica, and the update (the cross-replica sum and Adam) runs outside XLA:
    an XLA cluster runs on one device and cannot hold the strategy's
    synchronisation point (docs/architecture.md, "XLA and tf.distribute").
    The result is a plain Python function: ``strategy.run`` given a jit-compiled
    ``tf.function`` itself compiles all replicas into one cluster on CPU devices.
    With ``resident``, the batch's indices become features on the device first
    (``ResidentFeatures.device_batch``; outside XLA under a strategy).
    """
    if resident is not None:
      return self._resident_replica_step(model, optimizer, num_replicas, distributed,
                                         resident)
    if not self.config.train.jit_compile:
      return functools.partial(self.train_step, model=model, optimizer=optimizer,
                               num_replicas=num_replicas)
    if not distributed:
      return tf.function(functools.partial(
          self.train_step, model=model, optimizer=optimizer,
          num_replicas=num_replicas), jit_compile=True)
    gradients = tf.function(functools.partial(
        self.gradients, model=model, optimizer=optimizer,
        num_replicas=num_replicas), jit_compile=True)

    def step(batch):
      grads, losses = gradients(batch)
      optimizer.apply_gradients(zip(grads, model.trainable_variables))
      return losses

    return step

  def _resident_replica_step(self, model, optimizer, num_replicas: int,
                             distributed: bool, resident) -> Callable:
    """``replica_step`` of a resident batch (indices): ``device_batch``, then the
    host-mode replica step of the same kind."""
    step = self.replica_step(model, optimizer, num_replicas, distributed)
    if self.config.train.jit_compile and not distributed:  # the gather inside XLA
      return tf.function(lambda batch: self.train_step(
          resident.device_batch(batch), model, optimizer, num_replicas),
                         jit_compile=True)
    return lambda batch: step(resident.device_batch(batch))

  def distributed_train_step(self, model: SVLRModel, optimizer,
                             strategy: tf.distribute.Strategy,
                             resident: Optional[resident_lib.ResidentFeatures] = None
                             ) -> Callable:
    """iterator -> losses averaged over replicas: one step of the trainer."""
    with strategy.scope():  # False for the default (one-device) strategy
      distributed = tf.distribute.has_strategy()
    replica_step = self.replica_step(model, optimizer, strategy.num_replicas_in_sync,
                                     distributed=distributed, resident=resident)

    @tf.function
    def step(iterator):
      per_replica = strategy.run(replica_step, args=(next(iterator),))
      return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
              for k, v in per_replica.items()}

    return step

  def compiled_train_step(self, model: SVLRModel, optimizer,
                          jit_compile: Optional[bool] = None,
                          resident: Optional[resident_lib.ResidentFeatures] = None
                          ) -> Callable:
    """batch -> losses on one device, as a ``tf.function`` (the benchmark's timed
    step and the calibration's); ``jit_compile`` defaults to the config's; with
    ``resident``, after the device-side gather of the features."""
    if jit_compile is None:
      jit_compile = self.config.train.jit_compile
    if resident is not None:
      return tf.function(lambda batch: self.train_step(
          resident.device_batch(batch), model, optimizer), jit_compile=jit_compile)
    return tf.function(functools.partial(self.train_step, model=model,
                                         optimizer=optimizer), jit_compile=jit_compile)

  # -------------------------------------------------------------- evaluation
  @staticmethod
  def eval_functions(model: SVLRModel) -> Dict[str, Callable]:
    """Compiled scorers: "vqa" (Eq. 7, with attention), "zero_shot" (Eq. 9),
    "recognition" (object and attribute scores)."""
    return {
        "vqa": tf.function(lambda b: model.vqa_scores(b, training=False),
                           reduce_retracing=True),
        "zero_shot": tf.function(model.zero_shot_scores, reduce_retracing=True),
        "recognition": tf.function(
            lambda x: model.recognition_scores(x, training=False), reduce_retracing=True),
    }

  def vqa_scorer(self, data: PreparedData, split: str) -> VQAScorer:
    """Official accuracy of every choice of ``split`` (cached per data and split)."""
    key = (data.data_dir, split)
    if key not in self._scorers:
      d = self.config.data
      self._scorers[key] = VQAScorer(data.load_vqa(
          split, d.max_question_words, d.max_answer_words, d.num_choices))
    return self._scorers[key]

  def vqa_split_scores(self, fn: Callable, data: PreparedData, store: FeatureStore,
                       split: str, return_attention: bool = False):
    """(scores [N, C], attention of the first batch's correct choices [n, K] or
    None) of ``fn`` (an ``eval_functions`` entry) over a VQA split, in order."""
    scores, attention = [], None
    for batch in pipeline.vqa_dataset(data, store, split, self.config.data,
                                      training=False, seed=0):
      valid = batch["valid"].numpy()
      out = fn(batch)
      if isinstance(out, (tuple, list)):
        s, att = out
        if return_attention and attention is None:
          label = batch["label"].numpy()
          attention = att.numpy()[np.arange(len(label)), label][valid]
      else:
        s = out
      scores.append(s.numpy()[valid])
    return np.concatenate(scores, axis=0), attention

  def recognition_split_scores(self, fn: Callable, data: PreparedData,
                               store: FeatureStore, split: str):
    """(object_scores, object_labels, attribute_scores, attribute_targets) of
    ``fn`` (``eval_functions(model)["recognition"]``) over a Genome split."""
    out = [[], [], [], []]
    for batch in pipeline.recognition_dataset(data, store, split, self.config.data,
                                              training=False, seed=0):
      valid = batch["valid"].numpy()
      obj, atr = fn(batch["region_features"])
      for lst, x in zip(out, (obj, batch["object_labels"], atr,
                              batch["attribute_targets"])):
        lst.append(np.asarray(x)[valid])
    return tuple(np.concatenate(x, axis=0) for x in out)
