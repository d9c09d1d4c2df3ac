"""The training loop: joint loss (Eq. 10), tf.distribute, checkpoints, summaries.

One generic loop serves every experiment of the paper; an experiment differs only in
its config (alphas of Eq. 10, multitask baseline or SVLR).

* The model, optimizer, inputs, train step and evaluation scores come from the
  experiment's :class:`svlr_tf.training.task.SVLRTask`; everything with variables is
  created under ``strategy.scope()``.
* Training runs in segments of ``checkpoint_every`` steps.  Each segment reads a
  fresh input stream seeded by (seed, first step of the segment) and ends with a
  checkpoint (``tf.train.CheckpointManager`` in ``<workdir>/checkpoints``).  A run
  killed at any point (even SIGKILL) resumes from the last checkpoint and, because
  the data of a segment depends only on its first step, follows exactly the same
  trajectory as an uninterrupted run (bit-exact with op determinism enabled).
* Model selection (:mod:`svlr_tf.training.selection`, mixed in): after every ``eval_every``
  steps the held-out split is evaluated; every evaluation is kept in
  ``<workdir>/evaluations.json`` and the best weights in ``<workdir>/best``.
* Damage (docs/guarantees.md): an unreadable latest checkpoint is skipped for the
  previous one (said); a missing or unreadable best checkpoint is taken again from
  the training checkpoint of the step the evaluations select, or is an error.
* Several workers (MultiWorkerMirroredStrategy, docs/multiworker.md): every worker
  runs this loop on the same shared ``workdir``, reads only its own part of each
  global batch (``pipeline.Shard``) and restores from the same checkpoints (checked:
  all start from the same step).  Every worker takes part in each checkpoint save;
  the chief writes the real one, the others write theirs to ``<workdir>/.<task>``
  and delete it.  Only the chief evaluates and writes the config, evaluations,
  best checkpoints and summaries; the others wait for it at the next collective.
* TensorBoard (layout in :mod:`svlr_tf.training.summaries`): ``<workdir>`` (HParams),
  ``<workdir>/train`` (the trained tasks' losses, learning rate, steps/s over the
  logging window, the config as text) and ``<workdir>/validation`` (held-out VQA
  accuracy overall and per question type, zero-shot VQA accuracy of a run without
  VQA training, recognition accuracy, pictures of the attention a(R)
  over the first held-out questions' images: ``svlr_tf.viz.attention_figure``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from typing import Callable, Optional

import numpy as np
import tensorflow as tf
import keras

from svlr_tf.training.checkpoints import (EvaluationHistory, checkpoint_steps,
                                 restore_newest_readable)
from svlr_tf.config import (ExperimentConfig, with_legacy_defaults,
                            without_run_only_fields)
from svlr_tf.data.pipeline import Shard
from svlr_tf.data.store_verification import open_verified
from svlr_tf.data.prepared import PreparedData, feature_store_path
from svlr_tf.runtime.distribute import WorkerLost, is_multi_worker, worker_role
from svlr_tf.training import summaries
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_write_json, read_json
from svlr_tf.training.selection import HeldOutSelection, attention_image  # noqa: F401 (public)
from svlr_tf.training.task import SVLRTask


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
    config = without_run_only_fields(json.loads(json.dumps(config)))  # a deep copy
    config["train"].pop("steps", None)
    config["train"].pop("log_every", None)
    return config
  if comparable(saved) != comparable(current):
    raise DataError(path, "this workdir holds checkpoints of a different config; "
                    "use another --workdir or delete this one")


_DIGIT, _STEP_DIGITS = 1024, 3


def start_signature(step: int, run: int) -> np.ndarray:
  """float32 [5]: ``step`` (< 2^30) and ``run`` (< 2^20) in base-1024 digits, most
  significant first.  A float32 sum of one digit over R replicas stays below
  1023 R, exact up to 16,400 replicas, so the all-reduced signature equals R
  times a worker's own exactly when every replica holds the same (a float32 sum
  of the numbers themselves is not exact beyond 16 replicas, 2^24 / 2^20)."""
  digits = [(step >> (10 * i)) & 1023 for i in reversed(range(_STEP_DIGITS))]
  digits += [(run >> 10) & 1023, run & 1023]
  return np.asarray(digits, np.float32)


class Trainer(HeldOutSelection):
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
    self.role = worker_role(self.strategy)
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
    if is_multi_worker(self.strategy):
      self._check_mirrored_only()
    self._train_step = self.task.distributed_train_step(
        self.model, self.optimizer, self.strategy)
    self._eval_fns = self.task.eval_functions(self.model)

  # ---------------------------------------------------------------- training
  def _train_dataset(self, step: int, num_steps: int, resident=None):
    """The input of the segment of ``num_steps`` steps that starts at ``step``.

    Under MultiWorkerMirroredStrategy each worker builds only its own part of each
    global batch (``distribute_datasets_from_function``: the index stream is
    sliced before the feature gather); otherwise the global batches are split
    across the local replicas.
    """
    seed = segment_seed(self.config.train.seed, step)
    if is_multi_worker(self.strategy):
      def worker_input(context: tf.distribute.InputContext):
        return self.task.build_inputs(self.data, self.stores, seed=seed,
                                      num_batches=num_steps,
                                      shard=Shard.from_input_context(context))
      return self.strategy.distribute_datasets_from_function(worker_input)
    ds = self.task.build_inputs(self.data, self.stores, seed=seed,
                                num_batches=num_steps, resident=resident)
    return self.strategy.experimental_distribute_dataset(ds)

  def fit(self) -> dict:
    """Trains to ``config.train.steps`` (resuming if a checkpoint exists).

    Returns:
      {"best_step", "best_metric", "selection_metric", "steps"} (a worker other
      than the chief: best_step and best_metric None).

    Raises:
      WorkerLost: under MultiWorkerMirroredStrategy, a collective failed because
        another worker died or stopped answering.
    """
    try:
      return self._fit()
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError) as e:
      if not is_multi_worker(self.strategy):
        raise
      raise WorkerLost(self.workdir, e) from e

  def _fit(self) -> dict:
    cfg = self.config
    config_path = os.path.join(self.workdir, "config.json")
    if checkpoint_steps(self.manager.directory) and os.path.exists(config_path):
      _check_same_run(read_json(config_path), cfg.to_dict(), config_path)
    total_steps = cfg.train.steps
    # The newest readable checkpoint (an unreadable latest one is skipped, said).
    chief = self.role.is_chief  # the only writer (one process: always)
    restored = restore_newest_readable(self.checkpoint, self.manager.directory,
                                       self._say)
    if restored is not None:
      if restored > total_steps:
        raise DataError(self.workdir, f"holds a model trained for {restored} steps, "
                        f"more than the {total_steps} asked for: a shorter run is "
                        "trained in a new --workdir, never taken from a longer one")
      if chief:
        self.history.forget_after(restored)  # evaluations after it are redone
      self._restore_best_recognition(restored)
      self.log(f"[{cfg.name}] resumed from {self.manager.directory}/ckpt-{restored} "
               f"at step {restored}")
    else:  # a start from scratch: evaluations of an earlier, deleted run are void
      if chief:
        self.history.forget_after(0)
      if cfg.train.init_from:
        self.initialise_from_run(cfg.train.init_from)
    if is_multi_worker(self.strategy):
      self._check_same_start(int(self.step.numpy()))
    if chief:
      atomic_write_json(config_path, cfg.to_dict(), indent=2)
      # Where the data is, so svlr_tf.inference.Predictor.from_workdir finds it.
      atomic_write_json(os.path.join(self.workdir, DATA_RECORD),
                        {"data_dir": os.path.abspath(self.data.data_dir)}, indent=2)
      if int(self.step.numpy()) == 0:
        summaries.write_run_header(self.workdir, cfg)
      train_writer = tf.summary.create_file_writer(os.path.join(self.workdir, "train"))
    else:
      train_writer = tf.summary.create_noop_writer()
    logged = summaries.trained_losses(cfg)
    window = summaries.StepRate()
    step = int(self.step.numpy())
    every = max(1, cfg.train.checkpoint_every)
    t0, steps_done = time.time(), 0
    # Input mode (train.input_mode): resident features live while training only.
    resident = (self.task.build_resident(self.data, self.stores, self.strategy,
                                         self.log) if step < total_steps else None)
    train_step = self._train_step if resident is None else (
        self.task.distributed_train_step(self.model, self.optimizer, self.strategy,
                                         resident))
    iterator = None
    while step < total_steps:
      end = min(total_steps, (step // every + 1) * every)
      iterator = iter(self._train_dataset(step, end - step, resident))
      while step < end:
        losses = train_step(iterator)
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
      if chief and (step % cfg.train.eval_every == 0 or step == total_steps):
        self._select(step)
      self._save_checkpoint(step)
    del iterator, train_step, resident  # frees the resident features
    train_writer.flush()
    if not chief:  # the chief selects; its evaluations.json says what it chose
      return {"best_step": None, "best_metric": None,
              "selection_metric": self.selection_metric, "steps": step}
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

  # ------------------------------------------------------- several workers
  @property
  def _scratch_dir(self) -> str:
    """Where a worker other than the chief writes (and deletes) its checkpoints."""
    return os.path.join(self.workdir, f".{self.role.name}")

  def _save_checkpoint(self, step: int) -> None:
    """The training checkpoint of ``step``.  Under MultiWorkerMirroredStrategy
    every worker saves (TensorFlow's rule: a save may read variables with a
    collective); only the chief's is kept."""
    if self.role.is_chief:
      self.manager.save(checkpoint_number=step)
      return
    scratch = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(self._scratch_dir, "checkpoints"), max_to_keep=1)
    scratch.save(checkpoint_number=step)
    shutil.rmtree(self._scratch_dir, ignore_errors=True)

  def _check_mirrored_only(self) -> None:
    """The best checkpoints are written by the chief alone, after its evaluation:
    right only while no checkpointed variable is synchronized on read (reading
    one is an all-reduce every worker must join).  Checked, not assumed."""
    def synchronization(v):  # a Keras variable wraps the (distributed) tf.Variable
      return getattr(v.value if isinstance(v, keras.Variable) else v,
                     "synchronization", None)
    on_read = [v.name for v in list(self.model.variables) + list(self.optimizer.variables)
               if synchronization(v) == tf.VariableSynchronization.ON_READ]
    if on_read:
      raise NotImplementedError(
          f"variables synchronized on read ({on_read[:3]}) cannot be checkpointed by "
          "the chief alone under MultiWorkerMirroredStrategy")

  def _check_same_start(self, step: int) -> None:
    """Every worker trains the same run (config) from the same step: they decide
    from the same files (finished runs, checkpoints), so the work directory must
    be one directory shared by all workers.  One all-reduce (a sum over every
    replica of the cluster) of :func:`start_signature`."""
    strategy = self.strategy
    run = zlib.crc32(json.dumps(self.config.to_dict(), sort_keys=True).encode()) % (1 << 20)
    own = start_signature(step, run)
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda _: tf.constant(own))
    total = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy()
    replicas = strategy.num_replicas_in_sync
    if np.any(total != own * np.float32(replicas)):
      steps, runs = total[:_STEP_DIGITS], total[_STEP_DIGITS:]
      mean_step = float(np.dot(steps, _DIGIT ** np.arange(_STEP_DIGITS)[::-1])) / replicas
      same_run = bool(np.all(runs == own[_STEP_DIGITS:] * np.float32(replicas)))
      raise DataError(self.manager.directory, "the workers do not start the same run "
                      f"from the same step ({self.role.task}: step {step}, mean step "
                      f"over the workers {mean_step:g}{'' if same_run else '; other configs'}"
                      "); give every worker the same command and the same --workdir "
                      "on a filesystem they share (docs/multiworker.md)")


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
