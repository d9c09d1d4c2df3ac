"""Which training input to use: ``host`` or ``resident`` (docs/architecture.md,
"Input modes").

* ``host``: the feature stores stay on disk; every step the host gathers the
  batch's region features from the memory-mapped shards (``svlr_tf.data.pipeline``)
  and ships them to the device (20.5 MB of float16 per paper-scale step).
* ``resident``: the training splits' features are loaded once into each replica
  device's memory (``svlr_tf.data.resident``); every step ships only indices and
  the small text and label arrays, and the compiled step gathers the features on
  the device.
* ``auto`` (``train.input_mode``'s default): ``resident`` when the features fit,
  for every replica, in a share of the memory of the device that holds them
  (``RESIDENT_SHARE``), else ``host``.

A device's memory: a GPU's is what TensorFlow may allocate on it
(``device_lib.list_local_devices()``'s ``memory_limit``; ``nvidia-smi``'s total as
a fallback); CPU replicas share the host's RAM, whose free part is ``MemAvailable``
of /proc/meminfo.  Both modes train identically (same batches, same values).
"""

from __future__ import annotations

import re
import subprocess
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from svlr_tf.config import INPUT_MODES

# Why there is no resident input under MultiWorkerMirroredStrategy.
MULTIWORKER_UNSUPPORTED = ("not implemented under MultiWorkerMirroredStrategy (its "
                           "variables start as a broadcast from the chief: the whole "
                           "store over the network)")

# Share of a device's memory the resident features may take: the rest is for the
# model, its activations and (on the CPU) the host's own work and page cache.
RESIDENT_SHARE = {"CPU": 0.5, "GPU": 0.75}


def _meminfo_available(path: str = "/proc/meminfo") -> Optional[int]:
  """Bytes of MemAvailable (None where /proc/meminfo is unreadable)."""
  try:
    with open(path) as f:
      for line in f:
        if line.startswith("MemAvailable:"):
          return int(line.split()[1]) * 1024
  except (OSError, ValueError, IndexError):
    pass
  return None


def _gpu_index(device: str) -> int:
  match = re.search(r"GPU:(\d+)$", device)
  return int(match.group(1)) if match else 0


def _nvidia_smi_total(index: int) -> Optional[int]:
  """Total memory of GPU ``index`` from nvidia-smi, bytes (None without it)."""
  try:
    out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total",
                          "--format=csv,noheader,nounits"], capture_output=True,
                         text=True, timeout=20, check=True).stdout.split()
    return int(float(out[index]) * 2**20)
  except (OSError, subprocess.SubprocessError, ValueError, IndexError):
    return None


def gpu_memory(device: str) -> Optional[int]:
  """Bytes TensorFlow may allocate on GPU ``device`` (e.g. "/device:GPU:0")."""
  try:
    from tensorflow.python.client import device_lib  # pylint: disable=g-direct-tensorflow-import
    for d in device_lib.list_local_devices():
      if d.device_type == "GPU" and _gpu_index(d.name) == _gpu_index(device):
        return int(d.memory_limit)
  except Exception:  # pylint: disable=broad-except
    pass
  return _nvidia_smi_total(_gpu_index(device))


def replica_devices(strategy) -> List[str]:
  """The devices that hold one replica each on this worker."""
  import tensorflow as tf
  try:
    return list(strategy.extended.worker_devices)
  except RuntimeError:  # the default strategy: one replica on the default device
    gpus = tf.config.list_logical_devices("GPU")
    return [gpus[0].name if gpus else "/device:CPU:0"]


def _kind(device: str) -> str:
  return "GPU" if "GPU" in device.upper() else "CPU"


def _gb(n: float) -> str:
  if n >= 1e8:
    return f"{n / 1e9:.3g} GB"
  return f"{n / 1e6:.3g} MB" if n >= 1e5 else f"{n / 1e3:.3g} kB"


def choose(requested: str, resident_bytes: int, devices: Sequence[str],
           memory: Optional[Callable[[str], Optional[int]]] = None
           ) -> Tuple[str, str]:
  """(mode, reason): the input mode for ``requested`` ("auto", "host",
  "resident") and why, in words.

  Args:
    resident_bytes: bytes of one replica's copy of the resident features.
    devices: the replica devices (``replica_devices``).
    memory: device -> its memory in bytes, or None if unknown (default: a GPU's
      ``gpu_memory``, the host's MemAvailable for CPU devices). CPU replicas
      share one memory: it must hold all their copies.
  """
  if requested not in INPUT_MODES:
    raise ValueError(f"train.input_mode must be one of {list(INPUT_MODES)}, "
                     f"got {requested!r}.")
  copies = f"{_gb(resident_bytes)} of training features x {len(devices)} replica(s)"
  if requested != "auto":
    return requested, f"train.input_mode={requested} ({copies})"
  memory = memory or (lambda d: gpu_memory(d) if _kind(d) == "GPU"
                      else _meminfo_available())
  # One pool per GPU; one pool for all the CPU replicas (the host's RAM).
  pools: Dict[str, Tuple[int, Optional[int]]] = {}
  for device in devices:
    key = device if _kind(device) == "GPU" else "CPU"
    need, _ = pools.get(key, (0, None))
    pools[key] = (need + resident_bytes, memory(device))
  fits = []
  for key, (need, have) in pools.items():
    share = RESIDENT_SHARE[_kind(key)]
    where = "the host's available memory" if key == "CPU" else f"{key}'s memory"
    if have is None:
      return "host", f"auto: {copies}; {where} is unknown"
    if need > share * have:
      return "host", (f"auto: {copies} = {_gb(need)} exceed {share:.0%} of "
                      f"{where} ({_gb(have)})")
    fits.append(f"{_gb(need)} <= {share:.0%} of {where} ({_gb(have)})")
  return "resident", f"auto: {copies} fit: {'; '.join(fits)}"
