"""What the reproduce entry points share: flags, start-up, the grid, the results.

A reproduce module declares its rows (``svlr_tf.training.grid.Run``), then::

    setup = common.start("Table 1")        # devices, data, strategy, header line
    grid = common.run_grid(ROWS, setup)    # rows x seeds from the flags, resumable
    common.write_results("table1", results, markdown, text)

Flags of every module: --preset, --workdir, --data_dir, --seeds, --steps,
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
from svlr_tf.runtime.entry_points import fail
from svlr_tf.runtime.entry_points import run_main as run  # noqa: F401  every module's common.run(main)
from svlr_tf.runtime.errors import DataError
from svlr_tf.presets import PRESET_NAMES

FLAGS = flags.FLAGS

_SECTIONS = {"model": config_lib.ModelConfig, "loss": config_lib.LossConfig,
             "optimizer": config_lib.OptimizerConfig, "data": config_lib.DataConfig,
             "train": config_lib.TrainConfig}
_DEFINE = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer,
           float: flags.DEFINE_float, str: flags.DEFINE_string}


def _overridable():
  """(section, field, default) of every config field a flag may override."""
  for section, cls in _SECTIONS.items():
    for field in dataclasses.fields(cls):
      if (field.name in config_lib.DATA_FIELDS.get(section, ())
          or (section, field.name) == ("train", "seed")):
        continue
      yield section, field.name, getattr(cls(), field.name)


def define_common_flags(default_workdir: str) -> None:
  flags.DEFINE_enum("preset", "default", list(PRESET_NAMES),
                    "Model dimensions, batch sizes and training budget; with no "
                    "--data_dir also the size of the embedded (simulated) dataset.")
  flags.DEFINE_string("workdir", default_workdir,
                      "Checkpoints, TensorBoard summaries and results go here. "
                      "Re-running with the same workdir resumes.")
  flags.DEFINE_string("data_dir", None,
                      "A prepared real-data directory (see docs/real_data.md). "
                      "Default: the embedded dataset, generated on first use.")
  flags.DEFINE_integer("seeds", 3, "Number of seeds (0, 1, ..., seeds-1) to repeat over.",
                       lower_bound=1)
  flags.DEFINE_integer("steps", None, "Override the preset's training steps per run "
                       "(same as --config.train.steps).", lower_bound=1)
  flags.DEFINE_list("experiments", None, "Run only these rows (experiment names, "
                    "e.g. vqa_only,joint_svlr); default: all rows.")
  flags.DEFINE_enum("mixed_precision", None, list(config_lib.MIXED_PRECISION_POLICIES),
                    "Keras dtype policy for training (train.mixed_precision).")
  flags.DEFINE_bool("jit_compile", None, "Compile the train step with XLA "
                    "(train.jit_compile).")
  flags.DEFINE_enum("input_mode", None, list(config_lib.INPUT_MODES),
                    "How training batches reach the device (train.input_mode): host "
                    "= features gathered on the host each step, resident = loaded "
                    "once into device memory, auto = resident when they fit. Both "
                    "train identically.")
  flags.DEFINE_bool("retrain_stale", False, "Retrain finished runs whose results were "
                    "made by other code (package versions or git commit) instead of "
                    "reusing them with a warning.")
  flags.DEFINE_enum("strategy", "auto", ["auto", "default", "mirrored", "multiworker"],
                    "tf.distribute strategy: auto = MirroredStrategy when several GPUs "
                    "are visible.")
  flags.DEFINE_float("collective_timeout", 1800.0,
                     "--strategy multiworker: seconds a collective may wait for the other "
                     "workers before failing (they wait for the chief's held-out "
                     "evaluation: keep it longer than that); 0: no limit. A killed "
                     "worker is found sooner (TensorFlow's heartbeats, about 20 s).",
                     lower_bound=0)
  flags.DEFINE_bool("deterministic", False,
                    "Enable TensorFlow op determinism (bit-exact reruns and resumes; "
                    "slower).")
  flags.DEFINE_integer("cpu_devices", 0,
                       "Split the CPU into this many logical devices (testing "
                       "MirroredStrategy without GPUs).", lower_bound=0)
  for section, field, default in _overridable():
    _DEFINE[type(default)](f"config.{section}.{field}", None,
                           f"Override {section}.{field} of every run (preset: "
                           f"varies; paper: {default}).")


def overrides() -> Dict[str, Dict[str, Any]]:
  """The config overrides given on the command line: {section: {field: value}}."""
  out = collections.defaultdict(dict)
  for section, field, _ in _overridable():
    flag = FLAGS[f"config.{section}.{field}"]
    if flag.present:
      out[section][field] = flag.value
  for name in ("mixed_precision", "jit_compile", "input_mode"):
    if FLAGS[name].value is not None:
      out["train"][name] = FLAGS[name].value
  if FLAGS.steps is not None:
    out["train"]["steps"] = FLAGS.steps
  return dict(out)


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


def start(title: str) -> Setup:
  """Devices, data and strategy from the flags; prints the run's header line.

  Exits with a one-line error on a bad flag, --data_dir or malformed prepared data.
  """
  from svlr_tf.presets import preset_config
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


def select_rows(rows: Sequence, names: Optional[Sequence[str]]) -> list:
  """The rows named by --experiments (experiment or directory names), in order."""
  if not names:
    return list(rows)
  known = {r.dirname for r in rows} | {r.experiment for r in rows}
  unknown = [n for n in names if n not in known]
  if unknown:
    fail(f"--experiments: unknown {unknown}; this module's rows are "
         f"{sorted({r.dirname for r in rows})}")
  return [r for r in rows if r.dirname in names or r.experiment in names]


def run_grid(rows: Sequence, setup: Setup, workdir: Optional[str] = None,
             select: bool = True, last: bool = True):
  """``svlr_tf.training.grid.run_grid`` over the rows selected by --experiments (all of
  ``rows`` with ``select=False``) and the seeds, preset, overrides and workdir
  (unless ``workdir`` is given) of the flags.

  A multi-worker run's workers other than the chief exit 0 after the ``last``
  grid of the module: the chief evaluates and writes the tables."""
  from svlr_tf.training.grid import run_grid as grid
  try:
    result = grid(select_rows(rows, FLAGS.experiments) if select else list(rows),
                  range(FLAGS.seeds), data=setup.data,
                  workdir=workdir or FLAGS.workdir, preset=FLAGS.preset,
                  overrides=overrides(), strategy=setup.strategy,
                  log=lambda line: print(line, flush=True),
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


def reuse_note(grid) -> str:
  """One line: which rows' trained runs were reused from the grid's workdir."""
  reused = [row.label for row in grid.rows
            if all(grid.by_run[(row.label, s)].get("reused") for s in grid.seeds)]
  trained = [row.label for row in grid.rows if row.label not in reused]
  return (f"Trained runs in {grid.workdir}: reusing {', '.join(reused) or 'none'}"
          + (f"; trained now: {', '.join(trained)}" if trained else ""))


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
