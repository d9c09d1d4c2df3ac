"""What the reproduce entry points share: flags, start-up, the grid, the results.

A reproduce module's result is declared in ``reproduce.registry`` (its rows, the
paper's numbers, its work directory, the runs it reuses); the module then reads::

    setup = common.start(RESULT)            # devices, data, strategy, header line
    grid = common.run_rows(RESULT, setup)   # its rows x seeds, resumable; reused
                                            # runs are read, never trained
    common.write_results("table1", results, markdown, text)
    ...
    if __name__ == "__main__":
      common.run(main, RESULT)              # defines the flags, then runs main

Flags are defined when a module runs, never when it is imported.  Flags of every
module: --preset, --workdir (default: ``registry.default_workdir``), --data_dir,
--seeds, --steps,
--experiments (a subset of the rows), --config.<section>.<field>=value (any
``ExperimentConfig`` field that is not the data's, for every row), --mixed_precision,
--jit_compile, --retrain_stale, --strategy, --collective_timeout, --deterministic,
--cpu_devices.

Several machines (``--strategy multiworker``, docs/multiworker.md): every worker runs
the same command with its own ``TF_CONFIG`` and the same shared ``--workdir``; the
chief writes everything, the others train with it and exit 0 after the last grid.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import sys

# Keep TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices) out of the
# output of the entry points; set TF_CPP_MIN_LOG_LEVEL yourself to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from typing import Any, Dict, Optional, Sequence

from absl import flags

from svlr_tf import config as config_lib
from reproduce import console
from svlr_tf.runtime.entry_points import fail, run_main
from svlr_tf.runtime.errors import DataError
from reproduce.options import (FLAGS, define_common_flags, overridable,  # noqa: F401
                               overrides, select_rows)

def setup_devices() -> None:
  """Checks cheap arguments before TensorFlow starts, then sets up devices."""
  from svlr_tf.runtime.entry_points import quiet_tensorflow
  quiet_tensorflow()  # an explicit --verbosity=0 or more shows its start-up log
  if FLAGS.cpu_devices:
    from svlr_tf.runtime.distribute import split_cpu
    split_cpu(FLAGS.cpu_devices)
  if FLAGS.deterministic:
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()


def resolve_data(preset: str, data_dir):
  """PreparedData for --data_dir, or the embedded world of the preset."""
  from svlr_tf.data.prepared import PreparedData
  if data_dir:
    if not os.path.isdir(data_dir):
      raise DataError(data_dir, "no such directory (expected a prepared data directory)")
    return PreparedData(data_dir)
  from svlr_tf import world
  return PreparedData(world.ensure_world(preset))


Setup = collections.namedtuple("Setup", "data strategy dataset")


def worker_role():
  """This process's part (svlr_tf.runtime.distribute.WorkerRole): from TF_CONFIG under
  --strategy multiworker (read before TensorFlow starts), else the only process."""
  from svlr_tf.runtime import distribute
  if FLAGS.strategy != "multiworker":
    return distribute.SINGLE_PROCESS
  try:
    return distribute.role_from_tf_config()
  except ValueError as e:
    fail(str(e))


def _lock_workdir_until_exit() -> None:
  """One entry point per --workdir at a time (the lock ends with the process);
  stale temporaries of an interrupted run are removed once it is held.  A
  multi-worker run's workers other than the chief share the chief's --workdir
  and lock it as themselves (svlr_tf.runtime.workdir)."""
  from svlr_tf.runtime.workdir import lock_workdir
  role = worker_role()
  lock = lock_workdir(FLAGS.workdir, log=lambda line: print(line, flush=True),
                      worker="" if role.is_chief else role.name)
  lock.__enter__()
  _held_locks.append(lock)


_held_locks = []


def check_data(data, data_config) -> None:
  """The whole prepared directory is checked before the first step (every split,
  every image in its store, meta.json against the stores; svlr_tf.data.check):
  each problem is printed as one ``error:`` line, then exit 1."""
  from svlr_tf.data.check import check_prepared
  problems = check_prepared(data, data_config)
  if problems:
    for problem in problems:
      print(f"error: {problem}", file=sys.stderr)
    sys.exit(1)


def start(result) -> Setup:
  """Devices, data and strategy from the flags; prints the run's header line.

  ``result``: the module's ``reproduce.registry.Result``.  Exits with a one-line
  error on a bad flag, --data_dir or malformed prepared data, and, before the data
  is read, when none of the runs it reuses are there.
  """
  from svlr_tf.presets import preset_config
  title = result.header
  resolve_workdirs(result)
  try:  # bad override values fail here, before TensorFlow starts
    config = preset_config(FLAGS.preset).replace(**overrides())
  except (ValueError, TypeError) as e:
    fail(f"config override: {e}")
  if FLAGS["data_dir"].present and not FLAGS.data_dir:
    fail("--data_dir is empty (give a prepared data directory, or leave the flag "
         "out for the embedded dataset)")
  if FLAGS.data_dir and not os.path.isdir(FLAGS.data_dir):
    fail(f"{FLAGS.data_dir}: no such directory (expected a prepared data directory, "
         "see docs/real_data.md)")
  if not FLAGS.workdir:
    fail("--workdir is empty")
  if FLAGS.strategy == "multiworker" and FLAGS.retrain_stale:
    fail("--retrain_stale moves run directories: use it without --strategy "
         "multiworker (or delete the stale runs)")
  if FLAGS.strategy == "multiworker" and config.train.input_mode == "resident":
    from svlr_tf.data.input_mode import MULTIWORKER_UNSUPPORTED
    fail(f"--input_mode=resident is {MULTIWORKER_UNSUPPORTED}; use --input_mode=host "
         "or auto")
  from reproduce import reuse
  if result.reused and not reuse.seeds_with_results(result):
    fail(reuse.not_trained(result, list(range(FLAGS.seeds))))
  _lock_workdir_until_exit()
  setup_devices()
  from svlr_tf.runtime.distribute import get_strategy
  data = _resolve_data_as_worker()
  check_data(data, config.data)
  dataset = ("real VQA v1 + Visual Genome" if not data.meta.get("simulated")
             else f"the embedded simulated dataset (preset {FLAGS.preset})")
  strategy = get_strategy(FLAGS.strategy, collective_timeout=FLAGS.collective_timeout)
  if FLAGS.strategy == "multiworker":  # each worker reads its replicas' slices
    from svlr_tf.data.indices import batch_size_problem
    problem = batch_size_problem(config.data, strategy.num_replicas_in_sync)
    if problem:
      fail(problem)
  from svlr_tf.presets import word_vector_warning
  warning = word_vector_warning(FLAGS.preset, int(data.word_vectors.shape[1]))
  if warning:  # loud: on both streams, before any training
    print(f"\n{'!' * 78}\n{warning}\n{'!' * 78}\n", file=sys.stderr, flush=True)
    print(warning, flush=True)
  given = overrides()
  role = worker_role()
  cluster = (f" on {role.num_workers} worker(s), this is {role.task}"
             + (" (chief)" if role.is_chief else "") if role.task else "")
  print(f"{title} on {dataset}; {FLAGS.seeds} seed(s); workdir {FLAGS.workdir}; "
        f"{strategy.num_replicas_in_sync} replica(s){cluster}"
        + (f"; overrides {given}" if given else ""), flush=True)
  return Setup(data, strategy, dataset)


_RUN_LOG = console.ModuleLog()  # the runs' input mode said once per module


def run_grid(rows: Sequence, setup: Setup, workdir: Optional[str] = None,
             select: bool = True, last: bool = True, seeds: Optional[Sequence] = None):
  """``svlr_tf.training.grid.run_grid`` over the rows selected by --experiments (all of
  ``rows`` with ``select=False``) and the seeds, preset, overrides and workdir
  (unless ``workdir`` / ``seeds`` are given) of the flags.

  A multi-worker run's workers other than the chief exit 0 after the ``last``
  grid of the module: the chief evaluates and writes the tables."""
  from svlr_tf.training.grid import run_grid as grid
  try:
    result = grid(select_rows(rows, FLAGS.experiments) if select else list(rows),
                  range(FLAGS.seeds) if seeds is None else seeds, data=setup.data,
                  workdir=workdir or FLAGS.workdir, preset=FLAGS.preset,
                  overrides=overrides(), strategy=setup.strategy,
                  log=_RUN_LOG,
                  retrain_stale=FLAGS.retrain_stale)
  except ValueError as e:  # e.g. an override the cadence rule refuses
    if isinstance(e, DataError):
      raise
    fail(str(e))
  role = worker_role()
  if last and not role.is_chief:
    print(f"{role.task}: training done; the chief writes the results", flush=True)
    sys.exit(0)
  return result


def _resolve_data_as_worker():
  """resolve_data; under --strategy multiworker every worker, the chief too, waits
  (up to 30 minutes) while another process generates the embedded world: the
  workers start together and any one of them may be the one generating it (a
  chief that stopped here would leave the others waiting for it in the
  strategy's start-up).  One process alone stops at once, as before."""
  import time
  from svlr_tf.runtime.workdir import DirectoryInUse
  deadline = time.time() + (1800 if FLAGS.strategy == "multiworker" else 0)
  while True:
    try:
      return resolve_data(FLAGS.preset, FLAGS.data_dir)
    except DirectoryInUse:
      if time.time() > deadline:
        raise
      time.sleep(2)


def write_results(name: str, results: dict, markdown: Optional[str] = None,
                  text: Optional[str] = None) -> None:
  """<workdir>/<name>.json and .md (``svlr_tf.tables.write_results``)."""
  from svlr_tf.tables import write_results as write
  write(FLAGS.workdir, name, results, markdown, text,
        log=lambda line: print(line, flush=True))


def stale_note(grid) -> str:
  """A line naming the reused runs made by other code, or ""."""
  stale = [f"{label} seed {seed}" for (label, seed), r in grid.by_run.items()
           if r.get("stale")]
  return (f"\nWARNING: {len(stale)} reused run(s) were made by other code "
          f"({', '.join(stale)}); --retrain_stale retrains them.\n" if stale else "")


def test_accuracy(results: dict, column: str):
  """A run's test accuracy in one column: Eq. 7 for VQA runs, Eq. 9 for a run
  that was scored zero-shot."""
  ev = results.get("zero_shot_test") or results["vqa_test"]
  return ev["overall"] if column == "Overall" else ev["per_question_type"].get(column)


def test_columns(setup: Setup, config):
  """(columns, counts): the test split's question types, most frequent first, then
  "Overall"; and the number of test questions of each type."""
  import collections
  d = config.data
  test = setup.data.load_vqa("test", d.max_question_words, d.max_answer_words,
                             d.num_choices)
  counts = collections.Counter(test.question_type_names[i] for i in test.question_type)
  return [t for t, _ in counts.most_common()] + ["Overall"], counts


# --- Declared results (reproduce.registry): flags, directories, reused runs --------

def define_flags(result) -> None:
  """The flags of ``result``'s module: every module's, and --runs when it finds the
  runs it reuses in another directory."""
  from reproduce import registry
  name = result.workdir_name
  where = (f" Default: runs/{name} (default preset), runs/<preset>/{name} (another "
           f"preset), runs/<data dir name>-<preset>/{name} (--data_dir); "
           "docs/results_registry.md.")
  define_common_flags(None, result.seeds, where)
  if result.runs_flag:
    source = registry.RESULTS[result.reuses]
    flags.DEFINE_string(
        "runs", None, f"Where {source.header}'s runs are (those of "
        f"{', '.join(result.reused)}: read from there, never trained here). "
        f"Default: {source.header}'s "
        f"default --workdir (runs/{result.runs_name} for the default preset, "
        f"runs/<preset>/{result.runs_name}, runs/<data dir name>-<preset>/"
        f"{result.runs_name}).")


def run(main, result=None, define=None) -> None:
  """Defines the flags of ``result``'s module (and the module's own, ``define``),
  lists them in --help, then runs ``main`` (one-line errors)."""
  if result is not None:
    define_flags(result)
  if define is not None:
    define()
  for module in (__name__, "reproduce.options"):  # --help lists them
    for flag in FLAGS.get_key_flags_for_module(module):
      FLAGS.register_key_flag_for_module(sys.argv[0], flag)

  def main_then_next(argv):  # then a last line: what to look at next
    status = main(argv)
    print(console.next_steps(FLAGS.workdir), flush=True)
    return status
  run_main(main_then_next)


def resolve_workdirs(result) -> None:
  """--workdir (and --runs) default to the registry's directories for the preset
  and data: presets and data never share a default work directory."""
  from reproduce import registry
  if FLAGS.workdir is None and not FLAGS["workdir"].present:
    FLAGS.workdir = registry.default_workdir(result.key, FLAGS.preset, FLAGS.data_dir)
  if result.runs_flag and FLAGS.runs is None and not FLAGS["runs"].present:
    FLAGS.runs = registry.default_runs(result.key, FLAGS.preset, FLAGS.data_dir)
  if result.runs_flag and not FLAGS.runs:
    fail("--runs is empty")


def run_grids(result, setup: Setup, last: bool = True) -> list:
  """``result``'s rows (those --experiments selects) x seeds, one grid per
  directory (the reused runs' first): reused runs are read, never trained (only
  the seeds whose runs are all finished: ``reused_seeds``); its own rows are
  trained, or reused when finished.  ``last=False``: the module trains more grids
  after these (multi-worker: the other workers stay for them)."""
  from reproduce import reuse
  rows = reuse.selected(result)
  seeds = reuse.reused_seeds(result, setup) if reuse.reused_rows(result) else None
  own_dir = FLAGS.runs if result.own_rows_with_runs else FLAGS.workdir
  parts = {}
  for row in rows:
    where = reuse.runs_dir(result) if row.label in result.reused else own_dir
    parts.setdefault(where, []).append(row)
  return [run_grid(part, setup, workdir=where, select=False,
                   last=last and i == len(parts) - 1, seeds=seeds)
          for i, (where, part) in enumerate(parts.items())]


def run_rows(result, setup: Setup, last: bool = True):
  """``run_grids`` of a result whose rows all live in one directory."""
  grid, = run_grids(result, setup, last)
  return grid
