"""Running one experiment of the paper end to end: train, select, test.

`run_experiment` is what every `reproduce/` module calls.  It is idempotent: a run
whose ``results.json`` exists (with the same config) is read back instead of being
trained again, and an interrupted run resumes from its last checkpoint.  So
``python -m reproduce.table1`` can be killed and started again at any point.
"""

from __future__ import annotations

import os
from typing import Callable, Optional

import tensorflow as tf

from svlr_tf.config import ExperimentConfig
from svlr_tf.data.prepared import PreparedData
from svlr_tf.presets import preset_config
from svlr_tf.files import atomic_write_json, read_json
from svlr_tf.trainer import Trainer


def config_for_data(preset: str, experiment: str, data: PreparedData, seed: int,
                    steps: Optional[int] = None) -> ExperimentConfig:
  """The named experiment at a preset, with the dimensions the data dictates."""
  cfg = preset_config(preset, experiment)
  train = {"seed": seed}
  if steps is not None:
    eval_every = min(cfg.train.eval_every, steps)
    checkpoint_every = min(cfg.train.checkpoint_every, eval_every)
    if eval_every % checkpoint_every:  # evaluations happen at checkpoints
      checkpoint_every = eval_every
    train.update(steps=steps, eval_every=eval_every, checkpoint_every=checkpoint_every)
  return cfg.replace(
      model={"word_vector_dim": int(data.word_vectors.shape[1]),
             "region_feature_dim": int(data.feature_dim),
             "num_object_classes": len(data.objects),
             "num_attribute_classes": len(data.attributes)},
      data={"regions_per_image": int(data.regions_per_image)},
      train=train)


def run_experiment(config: ExperimentConfig, data: PreparedData, workdir: str,
                   strategy: Optional[tf.distribute.Strategy] = None,
                   log: Callable[[str], None] = print,
                   zero_shot: bool = False) -> dict:
  """Trains (or resumes) ``config`` in ``workdir`` and evaluates it on the test splits.

  Returns (and writes to ``<workdir>/results.json``)::

    {"experiment", "seed", "best_step", "selection_metric", "heldout_metric",
     "vqa_test": {"overall", "per_question_type", "per_answer_type"} (VQA runs),
     "zero_shot_test": {...} (when zero_shot), "chance": float,
     "recognition_test": {"object_accuracy", "attribute_accuracy", "num_regions"}
       (from the checkpoint selected on Genome val object accuracy),
     "recognition_checkpoint"}

  The test predictions are also written in the official VQA results format to
  ``<workdir>/vqa_test_results.json`` (and ``zero_shot_test_results.json``).
  """
  results_path = os.path.join(workdir, "results.json")
  if os.path.exists(results_path):
    cached = read_json(results_path)
    if cached.get("config") == config.to_dict() and (
        not zero_shot or "zero_shot_test" in cached):
      log(f"[{config.name} seed {config.train.seed}] done already: {results_path}")
      return cached
  trainer = Trainer(config, data, workdir, strategy=strategy, log=log)
  fit = trainer.fit()
  trainer.restore_best()
  results = {"experiment": config.name, "seed": config.train.seed,
             "best_step": fit["best_step"], "selection_metric": fit["selection_metric"],
             "heldout_metric": fit["best_metric"], "config": config.to_dict(),
             "chance": trainer.chance("test")}
  if config.uses_vqa:
    ev = trainer.evaluate_vqa("test")
    results["vqa_test"] = ev.to_dict()
    atomic_write_json(os.path.join(workdir, "vqa_test_results.json"), ev.predictions)
  if zero_shot:
    ev = trainer.evaluate_zero_shot("test")
    results["zero_shot_test"] = ev.to_dict()
    atomic_write_json(os.path.join(workdir, "zero_shot_test_results.json"),
                       ev.predictions)
  # Recognition is reported from the checkpoint selected on Genome val (Sec. 5.1).
  path = trainer.restore_best("recognition")
  results["recognition_checkpoint"] = os.path.basename(path)
  results["recognition_test"] = trainer.evaluate_recognition("test", per_class=True)
  atomic_write_json(results_path, results, indent=2)
  return results
