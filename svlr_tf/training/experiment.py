"""Running one experiment of the paper end to end: train, select, test.

`run_experiment` trains one run (``svlr_tf.training.grid.run_grid`` calls it for every
row x seed of a table).  It is idempotent: a run
whose ``results.json`` exists (with the same config) is read back instead of being
trained again, and an interrupted run resumes from its last checkpoint.  So
``python -m reproduce.table1`` can be killed and started again at any point.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from typing import Any, Callable, Mapping, Optional

import tensorflow as tf

from svlr_tf.runtime.errors import DataError
from svlr_tf.config import DATA_FIELDS, ExperimentConfig
from svlr_tf.data.prepared import PreparedData
from svlr_tf.runtime.distribute import is_multi_worker, worker_role
from svlr_tf.presets import preset_config
from svlr_tf.runtime.files import atomic_write_json, read_json
from svlr_tf.runtime.provenance import provenance, stale_reason
from svlr_tf.training.task import data_dims
from svlr_tf.training.trainer import Trainer
from svlr_tf.runtime.workdir import lock_workdir
from svlr_tf.runtime import resources
from svlr_tf.training import summaries


def config_for_data(preset: str, experiment: str, data: PreparedData, seed: int,
                    steps: Optional[int] = None,
                    overrides: Optional[Mapping[str, Mapping[str, Any]]] = None
                    ) -> ExperimentConfig:
  """The named experiment at a preset, with the dimensions the data dictates.

  Args:
    preset / experiment: names in ``svlr_tf.presets`` / ``svlr_tf.config``.
    data: the prepared data; sets ``DATA_FIELDS`` (never a preset or override).
    seed: ``train.seed``.
    steps: shorthand for ``overrides={"train": {"steps": steps}}``.
    overrides: {section: {field: value}} applied on top of the experiment
      (e.g. ``{"loss": {"alpha_ans": 0.5}}``); data fields and the seed are refused.
  The eval / checkpoint cadence is shortened to fit the steps
  (``TrainConfig.fitted_to_steps``).
  """
  cfg = preset_config(preset, experiment)
  overrides = {section: dict(values) for section, values in (overrides or {}).items()}
  check_overrides(overrides)
  if steps is not None:
    overrides.setdefault("train", {})["steps"] = steps
  cfg = cfg.replace(**overrides).with_data_dims(data_dims(data))
  train = dataclasses.replace(cfg.train, seed=seed).fitted_to_steps()
  return cfg.replace(train=dataclasses.asdict(train))


def check_overrides(overrides: Mapping[str, Mapping[str, Any]]) -> None:
  """ValueError for an override of a field the data decides or of the seed."""
  for section, values in overrides.items():
    refused = [f"{section}.{f}" for f in values
               if f in DATA_FIELDS.get(section, ()) or (section, f) == ("train", "seed")]
    if refused:
      raise ValueError(f"{', '.join(refused)} cannot be overridden: the data decides "
                       "the data fields, and seeds are set by --seeds.")


def run_experiment(config: ExperimentConfig, data: PreparedData, workdir: str,
                   strategy: Optional[tf.distribute.Strategy] = None,
                   log: Callable[[str], None] = print,
                   zero_shot: bool = False, retrain_stale: bool = False) -> dict:
  """Trains (or resumes) ``config`` in ``workdir`` and evaluates it on the test splits.

  Returns (and writes to ``<workdir>/results.json``)::

    {"experiment", "seed", "best_step", "selection_metric", "heldout_metric",
     "vqa_test": {"overall", "per_question_type", "per_answer_type"} (VQA runs),
     "zero_shot_test": {...} (when zero_shot), "chance": float,
     "recognition_test": {"object_accuracy", "attribute_accuracy", "num_regions"}
       (from the checkpoint selected on Genome val object accuracy),
     "recognition_checkpoint", "config",
     "provenance": {"packages", "git"} (svlr_tf.runtime.provenance)}

  A finished run (``results.json`` with the same config) is read back, with
  ``"reused": True`` and, when the code that made it differs from this code,
  ``"stale": "<what differs>"`` (logged); with ``retrain_stale`` such a run is
  moved to ``<workdir>.stale`` and trained again.
  The test predictions are also written in the official VQA results format to
  ``<workdir>/vqa_test_results.json`` (and ``zero_shot_test_results.json``).
  The run holds the lock of ``workdir`` (``svlr_tf.runtime.workdir``): a second process
  on the same directory stops with a one-line error naming this one.
  """
  strategy = strategy or tf.distribute.get_strategy()
  if retrain_stale and is_multi_worker(strategy):
    raise ValueError("retrain_stale moves run directories, which the other workers "
                     "of a multi-worker run share: retrain without multiworker (or "
                     "delete the stale runs)")
  role = worker_role(strategy)
  if not role.is_chief:  # another worker of a multi-worker run: trains, writes nothing
    return _train_as_worker(config, data, workdir, strategy, log, zero_shot, role)
  with lock_workdir(workdir, log):  # one process per run directory
    cached = _finished_run(config, workdir, log, zero_shot, retrain_stale, data)
  if cached is not None:
    return cached
  # The run's traced steps are released with it (svlr_tf/runtime/resources.py).
  with lock_workdir(workdir, log), resources.released_gradient_registrations():
    return _train_and_test(config, data, workdir, strategy, log, zero_shot)


def _train_as_worker(config, data, workdir, strategy, log, zero_shot, role) -> dict:
  """A worker other than the chief (docs/multiworker.md): it reads the run's state
  from the shared ``workdir`` (a finished run is skipped, as by the chief), trains
  with the others and returns {"experiment", "seed", "worker", "steps"}; the
  chief evaluates and writes every file of the run."""
  with lock_workdir(workdir, log, worker=role.name):
    cached = _finished_run(config, workdir, log, zero_shot, False, data)
    if cached is not None:
      return cached
    with resources.released_gradient_registrations():
      fit = Trainer(config, data, workdir, strategy=strategy, log=log).fit()
  return {"experiment": config.name, "seed": config.train.seed, "worker": role.task,
          "steps": fit["steps"]}


def data_fingerprint(data: PreparedData) -> dict:
  """What identifies the prepared data a run was made on: the sha1 of its
  ``meta.json`` (world config, generator version, part-of-speech backend, sizes)."""
  path = os.path.join(data.data_dir, "meta.json")
  with open(path, "rb") as f:
    return {"meta_sha1": hashlib.sha1(f.read()).hexdigest()}


def _finished_run(config, workdir, log, zero_shot, retrain_stale,
                  data) -> Optional[dict]:
  """The results of a finished run of ``config``, or None (a stale run that is to
  be retrained is moved aside first).  A run made on other data is an error
  (results files from before the fingerprint was recorded are taken as they are)."""
  results_path = os.path.join(workdir, "results.json")
  if os.path.exists(results_path):
    cached = read_json(results_path)
    made_on = cached.get("data")
    if made_on and made_on != data_fingerprint(data):
      raise DataError(results_path, "this run was made on other data (its meta.json "
                      f"differs from {os.path.join(data.data_dir, 'meta.json')}); use "
                      "a new --workdir, or delete the run to train it again")
    if config.describes(cached.get("config") or {}) and (
        not zero_shot or "zero_shot_test" in cached):
      stale = stale_reason(cached.get("provenance"))
      if stale and retrain_stale:
        log(f"[{config.name} seed {config.train.seed}] stale ({stale}): retraining; "
            f"the old run is moved to {workdir}.stale")
        if os.path.exists(workdir + ".stale"):
          shutil.rmtree(workdir + ".stale")
        os.replace(workdir, workdir + ".stale")
      else:
        log(f"[{config.name} seed {config.train.seed}] done already: {results_path}"
            + (f"\n  WARNING stale results: {stale}; rerun with --retrain_stale to "
               "retrain" if stale else ""))
        return dict(cached, reused=True, **({"stale": stale} if stale else {}))
  return None


def _train_and_test(config, data, workdir, strategy, log, zero_shot) -> dict:
  results_path = os.path.join(workdir, "results.json")
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
  results["provenance"] = provenance()
  results["data"] = data_fingerprint(data)
  summaries.write_results(workdir, results)
  atomic_write_json(results_path, results, indent=2)
  return results
