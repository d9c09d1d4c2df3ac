"""A grid of runs: experiments (table rows) x seeds, resumable, reusing finished runs.

    rows = [Run("VQA Only", "vqa_only"), Run("Zero-Shot VQA", "genome_only",
                                             zero_shot=True)]
    grid = run_grid(rows, seeds=[0, 1, 2], data=data, workdir="runs/table1",
                    preset="default")
    grid.results("VQA Only")            # {seed: results.json of that run}
    trainer = restore_run(grid.run_dir("VQA Only", 0), data)  # trained model

Each run lives in ``<workdir>/seed<seed>/<name>`` (``name`` defaults to the
experiment) and is trained by :func:`svlr_tf.training.experiment.run_experiment`: a run
whose ``results.json`` matches its config is read back, an interrupted one
resumes from its last checkpoint.  Two reproduce modules that declare the same
row (name, experiment, overrides) at the same workdir share its runs.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

from svlr_tf.config import ExperimentConfig
from svlr_tf.runtime import resources
from svlr_tf.runtime.files import read_json

# TensorFlow is imported when a grid runs, not when a reproduce module declares
# its rows (so --help and flag errors are fast).


@dataclasses.dataclass(frozen=True)
class Run:
  """One row of a grid.

  Attributes:
    label: the row's name in the table ("Joint SVLR").
    experiment: a named experiment of ``svlr_tf.config`` ("joint_svlr").
    zero_shot: also score the VQA test split with Eq. 9.
    overrides: {section: {field: value}} for this row only (on top of the
      command line's); give such a row its own ``name``.
    name: directory (and config) name; default ``experiment``.
  """

  label: str
  experiment: str
  zero_shot: bool = False
  overrides: Optional[Mapping[str, Mapping[str, Any]]] = None
  name: Optional[str] = None

  @property
  def dirname(self) -> str:
    return self.name or self.experiment


def _merge(*overrides) -> Dict[str, Dict[str, Any]]:
  merged: Dict[str, Dict[str, Any]] = {}
  for o in overrides:
    for section, values in (o or {}).items():
      merged.setdefault(section, {}).update(values)
  return merged


def format_duration(seconds: float) -> str:
  """A wall time for progress lines: "45s", "3m05s", "1h02m"."""
  seconds = int(round(seconds))
  if seconds < 60:
    return f"{seconds}s"
  if seconds < 3600:
    return f"{seconds // 60}m{seconds % 60:02d}s"
  return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@dataclasses.dataclass
class GridResults:
  """What :func:`run_grid` returns: per row and seed, the run's results and dir."""

  rows: Sequence[Run]
  seeds: Sequence[int]
  workdir: str
  by_run: Dict[tuple, dict]
  configs: Dict[tuple, ExperimentConfig]

  def _row(self, label: str) -> Run:
    for row in self.rows:
      if row.label == label:
        return row
    raise KeyError(f"no row {label!r} in this grid ({[r.label for r in self.rows]})")

  def results(self, label: str) -> Dict[int, dict]:
    """{seed: results dict (``run_experiment``)} of a row."""
    self._row(label)
    return {seed: self.by_run[(label, seed)] for seed in self.seeds}

  def run_dir(self, label: str, seed: int) -> str:
    return run_dir(self.workdir, self._row(label), seed)

  def config(self, label: str, seed: Optional[int] = None) -> ExperimentConfig:
    return self.configs[(label, self.seeds[0] if seed is None else seed)]


def run_dir(workdir: str, row: Run, seed: int) -> str:
  """``<workdir>/seed<seed>/<row name>``: where a run of a grid lives."""
  return os.path.join(workdir, f"seed{seed}", row.dirname)


def run_grid(rows: Sequence[Run], seeds: Sequence[int], *, data: "PreparedData",
             workdir: str, preset: str, steps: Optional[int] = None,
             overrides: Optional[Mapping[str, Mapping[str, Any]]] = None,
             strategy: Optional["tf.distribute.Strategy"] = None,
             log: Callable[[str], None] = print,
             retrain_stale: bool = False) -> GridResults:
  """Trains (or reuses) every row x seed; returns their results.

  Args:
    rows: the experiments (table rows).
    seeds: training seeds; runs go seed by seed, row by row.
    data: prepared data (its dimensions set the data fields of every config).
    workdir: root of the grid's runs.
    preset: a name in ``svlr_tf.presets``.
    steps / overrides: applied to every row (``config_for_data``); a row's own
      ``overrides`` come on top.
    strategy: a tf.distribute strategy (default: the current one).
    log: one line of progress at a time.
    retrain_stale: retrain a finished run whose results were made by other code
      (package versions or git commit) instead of only saying so.
  """
  from svlr_tf.training.experiment import config_for_data, run_experiment
  seeds = list(seeds)
  labels = [row.label for row in rows]
  if len(set(labels)) != len(labels) or len({r.dirname for r in rows}) != len(rows):
    raise ValueError(f"run_grid: row labels and names must be unique: {labels}")
  total = len(rows) * len(seeds)
  by_run, configs = {}, {}
  t0, trained_seconds, trained = time.time(), 0.0, 0
  index = 0
  for seed in seeds:
    for row in rows:
      index += 1
      cfg = config_for_data(preset, row.experiment, data, seed, steps,
                            _merge(overrides, row.overrides))
      if row.name:
        cfg = cfg.replace(name=row.name)
      path = run_dir(workdir, row, seed)
      remaining = total - index + 1
      eta = ("" if not trained else
             f", eta {format_duration(trained_seconds / trained * remaining)}")
      log(f"== run {index}/{total}: {row.label} (seed {seed}) -> {path} "
          f"[elapsed {format_duration(time.time() - t0)}{eta}]")
      start = time.time()
      exact_peak = resources.reset_peak_rss()
      result = run_experiment(cfg, data, path, strategy=strategy, log=log,
                              zero_shot=row.zero_shot, retrain_stale=retrain_stale)
      if not result.get("reused"):
        trained_seconds += time.time() - start
        trained += 1
        peak = resources.memory_status()["VmHWM"]
        log(f"== run {index}/{total} done in {format_duration(time.time() - start)}; peak "
            f"resident memory {peak / 1024:.2f} GB"
            + ("" if exact_peak else " (of the whole process so far)"))
      by_run[(row.label, seed)] = result
      configs[(row.label, seed)] = cfg
  log(f"== {total} run(s) done in {format_duration(time.time() - t0)} "
      f"({total - trained} reused)")
  return GridResults(rows=list(rows), seeds=seeds, workdir=workdir, by_run=by_run,
                     configs=configs)


def restore_run(path: str, data: "PreparedData", kind: str = "selection",
                strategy: Optional["tf.distribute.Strategy"] = None,
                log: Callable[[str], None] = print) -> "Trainer":
  """A finished run's Trainer with its best weights loaded (for later analysis).

  ``kind``: "selection" (the experiment's held-out metric) or "recognition"
  (Genome val object accuracy).  ``trainer.model`` is the ``SVLRModel``;
  ``trainer.evaluate_vqa(split)``, ``trainer.recognition_scores(split)`` etc.
  evaluate it.  The config is the run's own ``config.json``.
  """
  from svlr_tf.training.trainer import Trainer
  config = ExperimentConfig.from_dict(read_json(os.path.join(path, "config.json")))
  trainer = Trainer(config, data, path, strategy=strategy, log=log)
  trainer.restore_best(kind)
  return trainer
