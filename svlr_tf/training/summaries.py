"""TensorBoard summaries of a run beyond the per-step scalars.

Layout of a run's work directory (``tensorboard --logdir`` on the parent of many
runs compares them)::

  <workdir>/            hparams: the run's session (experiment, seed, alphas, ...)
                        and the experiment config (which hparams and metrics the
                        HParams dashboard shows; the same in every run)
  <workdir>/train/      losses of the tasks the run trains (Eq. 10 terms with
                        alpha > 0, their weighted sum, weight decay), learning rate,
                        steps/s over the last logging window; the config as text
  <workdir>/validation/ held-out curves (VQA accuracy; zero-shot VQA accuracy of a
                        run without VQA training; Genome val recognition accuracy)
  <workdir>/results/    the HParams metrics: the selected held-out value and the
                        test accuracies, at the selected step

So rows x seeds of Table 1 sit in one HParams table (``tensorboard --logdir
runs/table1``), with held-out and test accuracy side by side.
"""

from __future__ import annotations

import json
import os
import time
from typing import Callable, Dict, List, Optional

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from svlr_tf.config import EXPERIMENT_NAMES, ExperimentConfig

RESULTS_DIR = "results"
# HParams metrics: (tag in <workdir>/results, display name).
METRICS = (
    ("heldout/selection_metric", "held-out (selection)"),
    ("test/vqa_accuracy", "test VQA accuracy"),
    ("test/zero_shot_vqa_accuracy", "test zero-shot VQA accuracy"),
    ("test/object_accuracy", "test object accuracy"),
    ("test/attribute_accuracy", "test attribute accuracy"),
)
_HPARAMS = (
    hp.HParam("experiment", hp.Discrete(list(EXPERIMENT_NAMES)),
              description="Named experiment (row of Table 1)"),
    hp.HParam("seed", hp.IntInterval(0, 2**31 - 1)),
    hp.HParam("alpha_ans", hp.RealInterval(0.0, 100.0), description="Eq. 10"),
    hp.HParam("alpha_obj", hp.RealInterval(0.0, 100.0), description="Eq. 10"),
    hp.HParam("alpha_atr", hp.RealInterval(0.0, 100.0), description="Eq. 10"),
    hp.HParam("multitask", hp.Discrete([False, True]),
              description="Joint Multitask baseline (class vectors h_y)"),
    hp.HParam("steps", hp.IntInterval(0, 2**31 - 1)),
    hp.HParam("learning_rate", hp.RealInterval(0.0, 1.0)),
    hp.HParam("embedding_dim", hp.IntInterval(1, 2**31 - 1)),
)


def hparams_of(config: ExperimentConfig) -> Dict[str, object]:
  """The run's values of the HParams dashboard's columns."""
  return {"experiment": config.name, "seed": int(config.train.seed),
          "alpha_ans": float(config.loss.alpha_ans),
          "alpha_obj": float(config.loss.alpha_obj),
          "alpha_atr": float(config.loss.alpha_atr),
          "multitask": bool(config.model.multitask),
          "steps": int(config.train.steps),
          "learning_rate": float(config.optimizer.learning_rate),
          "embedding_dim": int(config.model.embedding_dim)}


def trained_losses(config: ExperimentConfig) -> List[str]:
  """Names of the losses worth a curve: the tasks with alpha > 0, the sum, decay."""
  names = [name for name, alpha in (("loss_ans", config.loss.alpha_ans),
                                    ("loss_obj", config.loss.alpha_obj),
                                    ("loss_atr", config.loss.alpha_atr)) if alpha > 0]
  return names + ["loss_total", "loss_weight_decay"]


def write_run_header(workdir: str, config: ExperimentConfig) -> None:
  """HParams session + experiment config in ``workdir``; the config as text."""
  writer = tf.summary.create_file_writer(workdir)
  with writer.as_default():
    hp.hparams_config(hparams=list(_HPARAMS),
                      metrics=[hp.Metric(tag, group=RESULTS_DIR, display_name=name)
                               for tag, name in METRICS])
    hp.hparams(hparams_of(config), trial_id=f"{config.name}/seed{config.train.seed}")
  writer.flush()
  train = tf.summary.create_file_writer(os.path.join(workdir, "train"))
  with train.as_default(step=0):
    tf.summary.text("config", "```\n" + json.dumps(config.to_dict(), indent=2,
                                                 sort_keys=True) + "\n```")
  train.flush()


def write_results(workdir: str, results: dict) -> None:
  """The HParams metrics of a finished run (``run_experiment``'s results)."""
  values = {"heldout/selection_metric": results.get("heldout_metric"),
            "test/vqa_accuracy": (results.get("vqa_test") or {}).get("overall"),
            "test/zero_shot_vqa_accuracy":
                (results.get("zero_shot_test") or {}).get("overall"),
            "test/object_accuracy":
                (results.get("recognition_test") or {}).get("object_accuracy"),
            "test/attribute_accuracy":
                (results.get("recognition_test") or {}).get("attribute_accuracy")}
  writer = tf.summary.create_file_writer(os.path.join(workdir, RESULTS_DIR))
  with writer.as_default(step=int(results.get("best_step", 0))):
    for tag, value in values.items():
      if value is not None:
        tf.summary.scalar(tag, float(value))
  writer.flush()


class StepRate:
  """Steps per second over the window since the last reading.

  The clock starts at :meth:`start`, which the trainer calls after the first step
  of a process: tracing and compiling the step are not counted.

  Args:
    clock: a function returning seconds (``time.perf_counter``).
  """

  def __init__(self, clock: Callable[[], float] = time.perf_counter):
    self.clock = clock
    self._step: Optional[int] = None
    self._time = 0.0

  def start(self, step: int) -> None:
    self._step, self._time = step, self.clock()

  def read(self, step: int) -> Optional[float]:
    """Steps/s since the last ``start`` / ``read`` (None without a window)."""
    if self._step is None or step <= self._step:
      return None
    now = self.clock()
    rate = (step - self._step) / max(now - self._time, 1e-9)
    self._step, self._time = step, now
    return rate
