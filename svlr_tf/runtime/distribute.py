"""Choosing a tf.distribute strategy, and each process's part in a multi-worker run.

``auto``: MirroredStrategy over all GPUs when more than one is visible, the default
(one-device) strategy otherwise.  ``mirrored`` forces MirroredStrategy (over CPU
logical devices too, which is how the tests exercise it), ``multiworker`` selects
MultiWorkerMirroredStrategy (cluster from ``TF_CONFIG``), ``default`` the default
strategy.

Several machines (docs/multiworker.md): every worker runs the same command with
its own ``TF_CONFIG``; :func:`worker_role` says which one is the chief (the task
"chief", or worker 0 when the cluster has none), the only process that writes
results, summaries, configs and the real checkpoints.  :func:`role_from_tf_config`
reads the same from the environment before TensorFlow starts (the entry points lock
their work directory first).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional

from svlr_tf.runtime.errors import DataError

# TensorFlow is imported inside the functions: role_from_tf_config runs before it
# starts (svlr_tf.runtime.startup hides its start-up log).

STRATEGY_NAMES = ("auto", "default", "mirrored", "multiworker")


@dataclasses.dataclass(frozen=True)
class WorkerRole:
  """This process's part in a run.

  Attributes:
    task: "worker 1" / "chief 0" (``task_type task_id``); "" outside a cluster.
    is_chief: writes results, summaries, configs and the real checkpoints.
    num_workers: processes training together (chief and workers).
  """

  task: str = ""
  is_chief: bool = True
  num_workers: int = 1

  @property
  def name(self) -> str:
    """A file-name-safe form of ``task`` ("worker1"); "" outside a cluster."""
    return self.task.replace(" ", "")


SINGLE_PROCESS = WorkerRole()


class WorkerLost(DataError):
  """A collective of a multi-worker run failed: another worker died (SIGKILL,
  preemption) or stopped answering.  Every surviving worker stops with it; restart
  all of them with the same command and training resumes from the last checkpoint.
  """

  def __init__(self, workdir: str, err: Exception):
    lines = [l.strip() for l in str(getattr(err, "message", err)).splitlines()
             if l.strip()]
    telling = [l for l in lines if any(word in l for word in (
        "unhealthy", "aborted", "heartbeat", "coordination service", "timed out",
        "Deadline", "deadline"))]
    reason = (telling or lines or [""])[0][:300]
    super().__init__(workdir, f"training stopped: another worker is gone or stuck "
                     f"({type(err).__name__}: {reason}); restart every worker with the "
                     "same command: training resumes from the last checkpoint")


def _role(cluster: dict, task_type: Optional[str], task_id: int) -> WorkerRole:
  """The rule of ``tf.distribute``'s multi_worker_util: the chief is task "chief"
  when the cluster has one, else worker 0."""
  if task_type not in ("chief", "worker"):
    raise ValueError(f"TF_CONFIG task type {task_type!r}: svlr_tf trains with "
                     "'chief' and 'worker' tasks only (no evaluator or ps)")
  is_chief = (task_type == "chief" if "chief" in cluster
              else task_type == "worker" and task_id == 0)
  workers = sum(len(cluster.get(job) or ()) for job in ("chief", "worker"))
  return WorkerRole(f"{task_type} {task_id}", is_chief, workers)


def role_from_tf_config(environ=os.environ) -> WorkerRole:
  """This process's role from the ``TF_CONFIG`` environment variable, without
  starting TensorFlow.

  Raises:
    ValueError: TF_CONFIG is missing or malformed (one line, for the entry points).
  """
  text = environ.get("TF_CONFIG")
  if not text:
    raise ValueError("--strategy multiworker needs the TF_CONFIG environment variable "
                     "(docs/multiworker.md)")
  try:
    config = json.loads(text)
    cluster, task = config["cluster"], config["task"]
    return _role(cluster, task["type"], int(task["index"]))
  except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
    if isinstance(e, ValueError) and "svlr_tf" in str(e):
      raise
    raise ValueError(f"TF_CONFIG is not a cluster description ({e.__class__.__name__}: "
                     f"{e}); expected {{\"cluster\": {{\"worker\": [\"host:port\", "
                     "...]}, \"task\": {\"type\": \"worker\", \"index\": 0}}") from None


def worker_role(strategy: "tf.distribute.Strategy") -> WorkerRole:
  """This process's role under ``strategy`` (SINGLE_PROCESS unless multi-worker)."""
  if not is_multi_worker(strategy):
    return SINGLE_PROCESS
  resolver = strategy.cluster_resolver
  return _role(resolver.cluster_spec().as_dict(), resolver.task_type,
               int(resolver.task_id))


def is_multi_worker(strategy: "tf.distribute.Strategy") -> bool:
  """True under MultiWorkerMirroredStrategy (whatever the number of workers)."""
  import tensorflow as tf
  return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def split_cpu(num_devices: int) -> None:
  """Splits the CPU into ``num_devices`` logical devices.

  Must run before TensorFlow initializes its devices (first op or device query).
  """
  import tensorflow as tf
  cpus = tf.config.list_physical_devices("CPU")
  tf.config.set_logical_device_configuration(
      cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices)


def get_strategy(name: str = "auto",
                 collective_timeout: Optional[float] = None) -> "tf.distribute.Strategy":
  """Returns the strategy called ``name`` (one of STRATEGY_NAMES).

  ``collective_timeout`` (seconds, multiworker only): a collective (gradient
  all-reduce, variable broadcast) that waits longer fails with DeadlineExceeded
  instead of waiting forever.  A dead worker is found sooner by TensorFlow's
  coordination service (missed heartbeats: the survivors' collectives fail with
  UnavailableError, measured about 20 s after a SIGKILL); the timeout is the
  bound for a worker that is alive but stuck.  It must exceed the chief's
  held-out evaluation, which the other workers wait for.
  """
  import tensorflow as tf
  if name not in STRATEGY_NAMES:
    raise ValueError(f"Unknown strategy {name!r}; expected one of {list(STRATEGY_NAMES)}.")
  if name == "multiworker":
    options = tf.distribute.experimental.CommunicationOptions(
        timeout_seconds=collective_timeout or None)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
  if name == "mirrored":
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=devices)
  if name == "auto" and len(tf.config.list_logical_devices("GPU")) > 1:
    return tf.distribute.MirroredStrategy()
  return tf.distribute.get_strategy()
