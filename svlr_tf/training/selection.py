"""Held-out model selection and evaluation: the part of a Trainer that scores a model.

:class:`HeldOutSelection` is mixed into :class:`svlr_tf.training.trainer.Trainer` (split out
of it along its jobs; the public names stay on the Trainer):

* ``_select``: after every ``eval_every`` steps the held-out split is evaluated
  (VQA accuracy for runs with VQA, object accuracy on Genome val otherwise); every
  evaluation is kept in ``<workdir>/evaluations.json`` and the best weights in
  ``<workdir>/best`` (and ``best_recognition``: Genome val object accuracy).
* ``restore_best``: the selected weights, from the kept evaluations; a missing or
  unreadable best checkpoint is taken again from the training checkpoint of the
  selected step, or is an error (docs/guarantees.md).
* ``evaluate_vqa`` / ``evaluate_zero_shot`` / ``evaluate_recognition``: a split's
  accuracy (Eq. 7, Eq. 9, Sec. 5.3).

It uses the Trainer's ``config``, ``task``, ``data``, ``stores``, ``model``,
``history``, ``best_*`` variables and managers, ``manager``, ``workdir``, ``log``.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from svlr_tf.training.checkpoints import checkpoint_steps
from svlr_tf.runtime.errors import DataError
from svlr_tf.evaluation import recognition_eval
from svlr_tf.evaluation.multiple_choice import VQAEvaluation


class HeldOutSelection:
  """Selection on the held-out split and evaluation of a Trainer's model."""

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
