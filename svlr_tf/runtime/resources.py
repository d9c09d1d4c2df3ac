"""What a run costs the process: peak resident memory, and what a run leaves behind.

The runs of a table share one process (``reproduce.table1`` trains 12), so each
run must leave nothing behind and each run's peak memory is worth a log line.

* ``memory_status`` / ``reset_peak_rss``: VmHWM and VmRSS of /proc/self/status;
  Linux resets VmHWM to the current RSS when "5" is written to
  /proc/self/clear_refs (Linux >= 4.0), which gives a peak per run.
* ``released_gradient_registrations``: ``tf.custom_gradient`` in graph mode
  registers a gradient function under a fresh name (``CustomGradient-<n>``) in
  TensorFlow's process-wide gradient registry and never removes it.  Under
  every tf.distribute strategy the gradient all-reduce of Keras' optimizer goes
  through ``ReplicaContext.all_reduce``, which is such a custom gradient, so each
  traced train step (its FuncGraph, and the variables and tensors the gradient
  closure holds) stays alive for the life of the process: about 20-25 MB per
  default run.  A run's gradient functions are needed only while its own steps
  are traced, so the registrations a run added are removed when it ends.
  TensorFlow has no public API for this; the registry's dict is private
  (``ops._gradient_registry._registry``) and checked here, so a TensorFlow that
  changes it leaves the registrations in place and logs nothing worse than today.
"""

from __future__ import annotations

import contextlib
import gc
import resource
from typing import Dict, Iterator

_CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


def memory_status() -> Dict[str, float]:
  """Peak (``VmHWM``) and current (``VmRSS``, ``RssAnon``, ``RssFile``,
  ``RssShmem``) resident memory of this process, MB."""
  out = {}
  try:
    with open("/proc/self/status") as f:
      for line in f:
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
          out[key] = int(value.split()[0]) / 1024.0
  except OSError:
    pass
  if "VmHWM" not in out:  # ru_maxrss is in KB on Linux
    out["VmHWM"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
  return out


def reset_peak_rss() -> bool:
  """Resets VmHWM to the current RSS; False where that is not possible (then
  ``memory_status()["VmHWM"]`` is the peak of the whole process so far)."""
  try:
    with open("/proc/self/clear_refs", "w") as f:
      f.write("5")
    return True
  except OSError:
    return False


def _gradient_registry() -> dict:
  """TensorFlow's gradient registry (name -> entry), or {} if its layout changed."""
  try:
    from tensorflow.python.framework import ops
    registry = ops._gradient_registry._registry  # pylint: disable=protected-access
  except (ImportError, AttributeError):
    return {}
  return registry if isinstance(registry, dict) else {}


@contextlib.contextmanager
def released_gradient_registrations() -> Iterator[None]:
  """Removes, on exit, the custom-gradient registrations made inside.

  Use it around everything that traces one run's functions and drops them
  afterwards (``svlr_tf.training.experiment.run_experiment``); a function traced inside
  and still called after the exit keeps working (its graph and gradient are
  built), but one differentiated again by a new trace would not find them.
  """
  registry = _gradient_registry()
  before = set(registry)
  try:
    yield
  finally:
    for name in set(registry) - before:
      if name.startswith(_CUSTOM_GRADIENT_PREFIX):
        registry.pop(name, None)
    gc.collect()
