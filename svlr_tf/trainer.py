"""The training loop: joint loss (Eq. 10), tf.distribute, checkpoints, summaries.

One generic loop serves every experiment of the paper; an experiment differs only in
its config (alphas of Eq. 10, multitask baseline or SVLR).

* The model, optimizer, inputs, train step and evaluation scores come from the
  experiment's :class:`svlr_tf.task.SVLRTask`; everything with variables is
  created under ``strategy.scope()``.
* Training runs in segments of ``checkpoint_every`` steps.  Each segment reads a
  fresh input stream seeded by (seed, first step of the segment) and ends with a
  checkpoint (``tf.train.CheckpointManager`` in ``<workdir>/checkpoints``).  A run
  killed at any point (even SIGKILL) resumes from the last checkpoint and, because
  the data of a segment depends only on its first step, follows exactly the same
  trajectory as an uninterrupted run (bit-exact with op determinism enabled).
* Model selection: after every ``eval_every`` steps the held-out split is evaluated
  (VQA accuracy for runs with VQA, object accuracy on Genome val otherwise); every
  evaluation is kept in ``<workdir>/evaluations.json`` and the best weights in
  ``<workdir>/best``.
* Damage (docs/guarantees.md): an unreadable latest checkpoint is skipped for the
  previous one (said); a missing or unreadable best checkpoint is taken again from
  the training checkpoint of the step the evaluations select, or is an error.
* TensorBoard (layout in :mod:`svlr_tf.summaries`): ``<workdir>`` (HParams),
  ``<workdir>/train`` (the trained tasks' losses, learning rate, steps/s over the
  logging window, the config as text) and ``<workdir>/validation`` (held-out VQA
  accuracy overall and per question type, zero-shot VQA accuracy of a run without
  VQA training, recognition accuracy, pictures of the attention a(R)
  over the first held-out questions' images: ``svlr_tf.viz.attention_figure``).
"""

from __future__ import annotations

import json
import os
import time
import zlib
from typing import Callable, Optional

import numpy as np
import tensorflow as tf
import keras

from svlr_tf.checkpoints import (EvaluationHistory, checkpoint_steps,
                                 restore_newest_readable)
from svlr_tf.config import ExperimentConfig, with_legacy_defaults
from svlr_tf.data.store_verification import open_verified
from svlr_tf.data.prepared import PreparedData, feature_store_path
from svlr_tf.evaluation import recognition_eval
from svlr_tf.evaluation.multiple_choice import VQAEvaluation
from svlr_tf import summaries
from svlr_tf.errors import DataError
from svlr_tf.files import atomic_write_json, read_json
from svlr_tf.task import SVLRTask


DATA_RECORD = "data.json"  # {"data_dir": absolute path of the prepared data}


def segment_seed(seed: int, step: int) -> int:
  """Seed of the input stream of the segment that starts at ``step``."""
  return zlib.crc32(f"{seed}:{step}".encode()) & 0x7FFFFFFF


def _check_same_run(saved: dict, current: dict, path: str) -> None:
  """Resuming needs the config the checkpoints were made with (steps may grow;
  fields the saved config lacks count as their defaults, see
  ``ExperimentConfig.describes``)."""
  try:
    saved = ExperimentConfig.from_dict(with_legacy_defaults(saved)).to_dict()
  except (TypeError, ValueError):
    pass  # unknown fields: compared as they are, so they differ

  def comparable(config):
    config = json.loads(json.dumps(config))  # a deep copy with JSON types
    config["train"].pop("steps", None)
    config["train"].pop("log_every", None)
    return config
  if comparable(saved) != comparable(current):
    raise DataError(path, "this workdir holds checkpoints of a different config; "
                    "use another --workdir or delete this one")


class Trainer:
  """Trains one experiment in one work directory.

  Args:
    config: the experiment.
    data: the prepared data (embedded world or real).
    workdir: checkpoints, summaries, config and results go here.
    strategy: a tf.distribute strategy (default: the current one).
    log: a function taking one line of progress output.
  """

  def __init__(self, config: ExperimentConfig, data: PreparedData, workdir: str,
               strategy: Optional[tf.distribute.Strategy] = None,
               log: Callable[[str], None] = print):
    self.config = config
    self.task = SVLRTask(config)
    self.data = data
    self.workdir = workdir
    self.strategy = strategy or tf.distribute.get_strategy()
    self.log = log
    os.makedirs(workdir, exist_ok=True)
    self.history = EvaluationHistory(workdir)
    # Both stores are opened for every experiment: the held-out evaluation reports
    # VQA and recognition accuracy whatever the model was trained on.  Each is
    # verified (checksums, finite values) before its first use, once.
    self.stores = {name: open_verified(feature_store_path(data.data_dir, name), log)
                   for name in ("vqa", "genome")}
    self._build()

  # ---------------------------------------------------------------- building
  def _build(self):
    cfg = self.config
    keras.utils.set_random_seed(cfg.train.seed)
    with self.strategy.scope():
      self.model = self.task.build_model_for_data(self.data)
      self.optimizer = self.task.build_optimizer(self.model)
      self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
      self.best_metric = tf.Variable(-1.0, dtype=tf.float64, trainable=False)
      self.best_step = tf.Variable(-1, dtype=tf.int64, trainable=False)
      self.best_recognition = tf.Variable(-1.0, dtype=tf.float64, trainable=False)
    self.checkpoint = tf.train.Checkpoint(
        model=self.model, optimizer=self.optimizer, step=self.step,
        best_metric=self.best_metric, best_step=self.best_step)
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(self.workdir, "checkpoints"), max_to_keep=2)
    self.best_checkpoint = tf.train.Checkpoint(model=self.model)
    self.best_managers = {
        # Selected on the experiment's own metric (held-out VQA, or Genome val).
        "selection": tf.train.CheckpointManager(
            self.best_checkpoint, os.path.join(self.workdir, "best"), max_to_keep=1),
        # Selected on Genome val object accuracy, for recognition results (Sec. 5.1:
        # "We use val for selecting the model for evaluating recognition").
        # Its own metric travels with it (older work directories lack both).
        "recognition": tf.train.CheckpointManager(
            tf.train.Checkpoint(model=self.model,
                                best_recognition=self.best_recognition),
            os.path.join(self.workdir, "best_recognition"), max_to_keep=1),
    }
    self.best_manager = self.best_managers["selection"]
    self._train_step = self.task.distributed_train_step(
        self.model, self.optimizer, self.strategy)
    self._eval_fns = self.task.eval_functions(self.model)

  # ---------------------------------------------------------------- training
  def _train_dataset(self, step: int, num_steps: int):
    """The input of the segment of ``num_steps`` steps that starts at ``step``."""
    ds = self.task.build_inputs(self.data, self.stores,
                                seed=segment_seed(self.config.train.seed, step),
                                num_batches=num_steps)
    return self.strategy.experimental_distribute_dataset(ds)

  def fit(self) -> dict:
    """Trains to ``config.train.steps`` (resuming if a checkpoint exists).

    Returns:
      {"best_step", "best_metric", "selection_metric", "steps"}.
    """
    cfg = self.config
    config_path = os.path.join(self.workdir, "config.json")
    if checkpoint_steps(self.manager.directory) and os.path.exists(config_path):
      _check_same_run(read_json(config_path), cfg.to_dict(), config_path)
    total_steps = cfg.train.steps
    # The newest readable checkpoint (an unreadable latest one is skipped, said).
    restored = restore_newest_readable(self.checkpoint, self.manager.directory,
                                       self._say)
    if restored is not None:
      if restored > total_steps:
        raise DataError(self.workdir, f"holds a model trained for {restored} steps, "
                        f"more than the {total_steps} asked for: a shorter run is "
                        "trained in a new --workdir, never taken from a longer one")
      self.history.forget_after(restored)  # evaluations after it are redone
      self._restore_best_recognition(restored)
      self.log(f"[{cfg.name}] resumed from {self.manager.directory}/ckpt-{restored} "
               f"at step {restored}")
    else:  # a start from scratch: evaluations of an earlier, deleted run are void
      self.history.forget_after(0)
      if cfg.train.init_from:
        self.initialise_from_run(cfg.train.init_from)
    atomic_write_json(config_path, cfg.to_dict(), indent=2)
    # Where the data is, so svlr_tf.inference.Predictor.from_workdir finds it.
    atomic_write_json(os.path.join(self.workdir, DATA_RECORD),
                      {"data_dir": os.path.abspath(self.data.data_dir)}, indent=2)
    if int(self.step.numpy()) == 0:
      summaries.write_run_header(self.workdir, cfg)
    train_writer = tf.summary.create_file_writer(os.path.join(self.workdir, "train"))
    logged = summaries.trained_losses(cfg)
    window = summaries.StepRate()
    step = int(self.step.numpy())
    every = max(1, cfg.train.checkpoint_every)
    t0, steps_done = time.time(), 0
    while step < total_steps:
      end = min(total_steps, (step // every + 1) * every)
      iterator = iter(self._train_dataset(step, end - step))
      while step < end:
        losses = self._train_step(iterator)
        step += 1
        steps_done += 1
        if steps_done == 1:  # the first step traces and compiles: not timed
          float(losses["loss_total"].numpy())
          window.start(step)
        self.step.assign(step)
        if step % cfg.train.log_every == 0 or step == total_steps:
          values = {k: float(v.numpy()) for k, v in losses.items()}
          if not all(np.isfinite(v) for v in values.values()):
            raise FloatingPointError(
                f"[{cfg.name}] non-finite loss at step {step}: {values}")
          rate = steps_done / max(time.time() - t0, 1e-9)
          lr = float(keras.ops.convert_to_numpy(self.optimizer.learning_rate))
          window_rate = window.read(step)
          with train_writer.as_default(step=step):
            for k in logged:
              tf.summary.scalar(k, values[k])
            tf.summary.scalar("learning_rate", lr)
            if window_rate is not None:
              tf.summary.scalar("steps_per_second", window_rate)
          eta = (total_steps - step) / max(rate, 1e-9)
          self.log(f"[{cfg.name} seed {cfg.train.seed}] step {step}/{total_steps} "
                   f"loss {values['loss_total']:.4f} ({rate:.1f} steps/s, "
                   f"eta {eta:.0f}s)")
      if step % cfg.train.eval_every == 0 or step == total_steps:
        self._select(step)
      self.manager.save(checkpoint_number=step)
    train_writer.flush()
    if not len(self.history):  # a work directory from before the history was kept
      if self.best_manager.latest_checkpoint is None:
        self._select(step, force=True)
      return {"best_step": int(self.best_step.numpy()),
              "best_metric": float(self.best_metric.numpy()),
              "selection_metric": self.selection_metric, "steps": step}
    best_step, best_metric = self.history.best(self.selection_metric)
    return {"best_step": best_step, "best_metric": best_metric,
            "selection_metric": self.selection_metric, "steps": step}

  def _say(self, line: str) -> None:
    self.log(f"[{self.config.name}] {line}")

  def _restore_best_recognition(self, step: int) -> None:
    """The best Genome val object accuracy up to ``step``: from the kept
    evaluations, or (older work directories) from its checkpoint."""
    best = self.history.best("val_object_accuracy", up_to=step)
    if best is not None:
      self.best_recognition.assign(best[1])
      return
    path = self.best_managers["recognition"].latest_checkpoint
    if path:
      tf.train.Checkpoint(best_recognition=self.best_recognition).restore(
          path).expect_partial()

  @property
  def selection_metric(self) -> str:
    return ("heldout_vqa_accuracy" if self.config.uses_vqa
            else "val_object_accuracy")

  def _select(self, step: int, force: bool = False):
    """Held-out evaluation, summaries, and best-model bookkeeping."""
    writer = tf.summary.create_file_writer(os.path.join(self.workdir, "validation"))
    with writer.as_default(step=step):
      metric = None
      if self.config.uses_vqa:
        ev, attention = self.evaluate_vqa("heldout", return_attention=True)
        tf.summary.scalar("vqa_accuracy/overall", ev.overall)
        for qt, acc in ev.per_question_type.items():
          tf.summary.scalar(f"vqa_accuracy/{qt}", acc)
        self._attention_summary(attention, ev.predictions)
        metric = ev.overall
        self.log(f"[{self.config.name}] step {step}: held-out VQA accuracy {ev.overall:.2f}")
      rec = self.evaluate_recognition("val")
      tf.summary.scalar("recognition/object_accuracy", rec["object_accuracy"])
      tf.summary.scalar("recognition/attribute_accuracy", rec["attribute_accuracy"])
      if not self.config.uses_vqa:  # the Genome-only model answers by Eq. 9
        zero_shot = self.evaluate_zero_shot("heldout")
        tf.summary.scalar("zero_shot_vqa_accuracy/overall", zero_shot.overall)
      if metric is None:
        metric = rec["object_accuracy"]
        self.log(f"[{self.config.name}] step {step}: val object accuracy "
                 f"{rec['object_accuracy']:.2f}, attribute {rec['attribute_accuracy']:.2f}")
    writer.flush()
    record = {"val_object_accuracy": rec["object_accuracy"],
              "val_attribute_accuracy": rec["attribute_accuracy"]}
    record[self.selection_metric] = metric
    self.history.record(step, record)
    if force or metric > float(self.best_metric.numpy()):
      self.best_metric.assign(metric)
      self.best_step.assign(step)
      self.best_manager.save(checkpoint_number=step)
    if force or rec["object_accuracy"] > float(self.best_recognition.numpy()):
      self.best_recognition.assign(rec["object_accuracy"])
      self.best_managers["recognition"].save(checkpoint_number=step)

  def initialise_from_run(self, name: str) -> str:
    """Starts from the selected weights of the finished run ``name`` in the same
    seed directory (``train.init_from``; Sec. 5.2's pre-training ablation).

    Every model weight is loaded (the two runs have the same architecture); the
    optimizer, step and learning-rate schedule start afresh.  Returns the path.
    """
    source = os.path.join(os.path.dirname(os.path.abspath(self.workdir)), name, "best")
    path = tf.train.latest_checkpoint(source)
    if path is None:
      raise DataError(source, f"no selected checkpoint of run {name!r} to start "
                      "from (train.init_from): train that run first")
    tf.train.Checkpoint(model=self.model).restore(path).assert_existing_objects_matched()
    self.log(f"[{self.config.name}] initialised from {path}")
    return path

  def _attention_summary(self, attention, predictions):
    """validation/attention: the first held-out questions drawn with a(R) of their
    correct answer (svlr_tf.viz); the matrix of a(R) when the data has no boxes."""
    from svlr_tf.viz.attention_figure import validation_images
    try:
      pictures = validation_images(self.data.data_dir, "heldout", attention,
                                   [p["answer"] for p in predictions],
                                   model_name=self.config.name)
    except (DataError, OSError, ValueError) as e:  # a picture never stops training
      self._say(f"attention pictures skipped ({e}); TensorBoard gets the matrix")
      pictures = None
    if pictures is None:
      tf.summary.image("attention_over_regions", attention_image(attention))
    else:
      tf.summary.image("attention", pictures, max_outputs=len(pictures))

  def restore_best(self, kind: str = "selection"):
    """Loads the best weights: ``selection`` (the experiment's held-out metric) or
    ``recognition`` (Genome val object accuracy). Returns the checkpoint path.

    The step comes from the kept evaluations (``evaluations.json``).  A best
    checkpoint that is missing, unreadable or of another step is replaced by the
    training checkpoint of the selected step when that is still kept (said so);
    otherwise it is an error, never another step's weights.
    """
    metric = self.selection_metric if kind == "selection" else "val_object_accuracy"
    directory = self.best_managers[kind].directory
    best = self.history.best(metric)
    if best is None:
      return self._restore_best_without_history(kind)
    step, value = best
    path = os.path.join(directory, f"ckpt-{step}")
    problem = "is missing"
    if step in checkpoint_steps(directory):
      try:
        self.best_checkpoint.restore(path).expect_partial()
        return path
      except Exception as err:  # pylint: disable=broad-except
        problem = f"is unreadable ({err.__class__.__name__})"
    kept = os.path.join(self.manager.directory, f"ckpt-{step}")
    if step in checkpoint_steps(self.manager.directory):
      try:
        tf.train.Checkpoint(model=self.model).restore(kept).expect_partial()
      except Exception:  # pylint: disable=broad-except
        pass
      else:
        self._say(f"best checkpoint {path} {problem}; step {step} ({metric} "
                  f"{value}, from {self.history.path}) restored from {kept} and "
                  "kept again as the best")
        self.best_managers[kind].save(checkpoint_number=step)
        return kept
    raise DataError(directory, f"the best checkpoint ckpt-{step} {problem}; the kept "
                    f"evaluations select step {step} ({metric} {value}) whose weights "
                    f"are no longer kept: delete {self.workdir} and train again")

  def _restore_best_without_history(self, kind: str):
    """Work directories from before ``evaluations.json``: the best directories as
    they are."""
    path = self.best_managers[kind].latest_checkpoint
    if path is None and kind == "recognition":
      # Work directories from before svlr_tf kept this second selection.
      self.log(f"[{self.config.name}] no best_recognition checkpoint in "
               f"{self.workdir}; using the experiment's own selection")
      path = self.best_managers["selection"].latest_checkpoint
    if path is None:
      raise DataError(self.workdir, f"no {kind} checkpoint and no evaluations.json; "
                      "train first")
    self.best_checkpoint.restore(path).expect_partial()
    return path

  # -------------------------------------------------------------- evaluation
  def evaluate_vqa(self, split: str, return_attention: bool = False):
    """Multiple-choice accuracy of the VQA model (Eq. 7) on a split."""
    scores, attention = self.task.vqa_split_scores(
        self._eval_fns["vqa"], self.data, self.stores["vqa"], split,
        return_attention=return_attention)
    ev = self.task.vqa_scorer(self.data, split).evaluate(scores)
    return (ev, attention) if return_attention else ev

  def evaluate_zero_shot(self, split: str) -> VQAEvaluation:
    """Multiple-choice accuracy of the zero-shot scorer (Eq. 9) on a split."""
    scores, _ = self.task.vqa_split_scores(self._eval_fns["zero_shot"], self.data,
                                           self.stores["vqa"], split)
    return self.task.vqa_scorer(self.data, split).evaluate(scores)

  def chance(self, split: str) -> float:
    return self.task.vqa_scorer(self.data, split).chance()

  def recognition_scores(self, split: str):
    """(object_scores, object_labels, attribute_scores, attribute_targets) arrays."""
    return self.task.recognition_split_scores(
        self._eval_fns["recognition"], self.data, self.stores["genome"], split)

  def evaluate_recognition(self, split: str, per_class: bool = False) -> dict:
    """Object and attribute accuracy (Sec. 5.3) on a Genome split.

    With ``per_class``, also "object_accuracy_per_class": [O] percent per object
    class (None for a class without regions in the split), as in Fig. 5.
    """
    scores = self.recognition_scores(split)
    metrics = recognition_eval.recognition_metrics(*scores)
    if per_class:
      acc = recognition_eval.per_class_object_accuracy(
          recognition_eval.object_hits(scores[0], scores[1]), scores[1])
      metrics["object_accuracy_per_class"] = [
          None if np.isnan(a) else round(100.0 * float(a), 2) for a in acc]
    return metrics


def attention_image(attention: np.ndarray, max_rows: int = 16, scale: int = 8):
  """Attention over regions as a [1, H, W, 1] image for TensorBoard.

  Each row is one held-out question (its correct choice), each column one region;
  brighter is more attention (each row scaled to its maximum).
  """
  att = np.asarray(attention)[:max_rows]
  att = att / np.maximum(att.max(axis=1, keepdims=True), 1e-9)
  att = np.repeat(np.repeat(att, scale, axis=0), scale, axis=1)
  return att[None, :, :, None].astype(np.float32)
