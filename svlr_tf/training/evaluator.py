"""One evaluator: a model with its data and feature stores, scored split by split.

The only split-scoring loops of the project are here (``vqa_outputs`` for VQA
splits, ``recognition_scores`` for Genome splits). The Trainer's held-out
selection owns one (``Trainer.evaluator``), ``svlr_tf.training.grid.restore_run``
returns one for a finished run (no optimizer, no checkpoint managers), and
``svlr_tf.evaluation.attention_maps`` reads a split's attention through one.

  Evaluator(config, model, data, stores, task=None)
    .evaluate_vqa(split) -> VQAEvaluation          Eq. 7, multiple choice
    .zero_shot_scores(split) -> [N, C]             Eq. 9 scores
    .evaluate_zero_shot(split) -> VQAEvaluation    Eq. 9
    .evaluate_recognition(split) -> dict           Sec. 5.3
    .vqa_split_scores(split) -> ([N, C] scores, attention [n, K] | None)
    .vqa_outputs(split, select) -> (batch, keep [B], model output) per batch
    .recognition_scores(split) -> (object scores, labels, attribute scores, targets)
"""

from __future__ import annotations

from typing import Callable, Iterator, Mapping, Optional

import numpy as np

from svlr_tf.config import ExperimentConfig
from svlr_tf.data import pipeline
from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.data.prepared import PreparedData
from svlr_tf.evaluation import recognition_eval
from svlr_tf.evaluation.multiple_choice import VQAEvaluation
from svlr_tf.model.joint import SVLRModel
from svlr_tf.training.task import SVLRTask


class Evaluator:
  """Scores ``model`` on the splits of ``data`` (features from ``stores``,
  {"vqa", "genome"}: FeatureStore)."""

  def __init__(self, config: ExperimentConfig, model: SVLRModel, data: PreparedData,
               stores: Mapping[str, FeatureStore], task: Optional[SVLRTask] = None):
    self.config = config
    self.model = model
    self.data = data
    self.stores = stores
    self.task = task or SVLRTask(config)
    self.functions = SVLRTask.eval_functions(model)

  # ----------------------------------------------------------------- the loops
  def vqa_outputs(self, split: str, function: str = "vqa",
                  select: Optional[Callable[[dict], np.ndarray]] = None) -> Iterator:
    """(batch, keep [B] bool, output of ``functions[function]``) per batch of a VQA
    split, in order. ``keep`` is the batch's valid rows, and of those the ones
    ``select(batch)`` keeps when given (a batch keeping none is then not scored)."""
    fn = self.functions[function]
    for batch in pipeline.vqa_dataset(self.data, self.stores["vqa"], split,
                                      self.config.data, training=False, seed=0):
      keep = batch["valid"].numpy()
      if select is not None:
        keep = keep & select(batch)
        if not keep.any():
          continue
      yield batch, keep, fn(batch)

  def vqa_split_scores(self, split: str, function: str = "vqa",
                       return_attention: bool = False):
    """(scores [N, C], attention of the first batch's correct choices [n, K] or
    None) of ``functions[function]`` ("vqa": Eq. 7, "zero_shot": Eq. 9) over a
    VQA split, in order."""
    scores, attention = [], None
    for batch, valid, out in self.vqa_outputs(split, function):
      if isinstance(out, (tuple, list)):
        s, att = out
        if return_attention and attention is None:
          label = batch["label"].numpy()
          attention = att.numpy()[np.arange(len(label)), label][valid]
      else:
        s = out
      scores.append(s.numpy()[valid])
    return np.concatenate(scores, axis=0), attention

  def recognition_scores(self, split: str):
    """(object_scores [N, O], object_labels [N], attribute_scores [N, A],
    attribute_targets [N, A]) over a Genome split, in order."""
    fn = self.functions["recognition"]
    out = [[], [], [], []]
    for batch in pipeline.recognition_dataset(self.data, self.stores["genome"], split,
                                              self.config.data, training=False, seed=0):
      valid = batch["valid"].numpy()
      obj, atr = fn(batch["region_features"])
      for lst, x in zip(out, (obj, batch["object_labels"], atr,
                              batch["attribute_targets"])):
        lst.append(np.asarray(x)[valid])
    return tuple(np.concatenate(x, axis=0) for x in out)

  # ---------------------------------------------------------------- accuracies
  def evaluate_vqa(self, split: str, return_attention: bool = False):
    """Multiple-choice accuracy of the VQA model (Eq. 7) on a split."""
    scores, attention = self.vqa_split_scores(split, "vqa", return_attention)
    ev = self.task.vqa_scorer(self.data, split).evaluate(scores)
    return (ev, attention) if return_attention else ev

  def zero_shot_scores(self, split: str) -> np.ndarray:
    """[N, C] Eq. 9 scores of every choice of a VQA split, in split order."""
    scores, _ = self.vqa_split_scores(split, "zero_shot")
    return scores

  def evaluate_zero_shot(self, split: str) -> VQAEvaluation:
    """Multiple-choice accuracy of the zero-shot scorer (Eq. 9) on a split."""
    return self.task.vqa_scorer(self.data, split).evaluate(self.zero_shot_scores(split))

  def chance(self, split: str) -> float:
    return self.task.vqa_scorer(self.data, split).chance()

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
