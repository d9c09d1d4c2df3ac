"""Choosing a tf.distribute strategy.

``auto``: MirroredStrategy over all GPUs when more than one is visible, the default
(one-device) strategy otherwise.  ``mirrored`` forces MirroredStrategy (over CPU
logical devices too, which is how the tests exercise it), ``multiworker`` selects
MultiWorkerMirroredStrategy (cluster from TF_CONFIG), ``default`` the default
strategy.
"""

from __future__ import annotations

import tensorflow as tf

STRATEGY_NAMES = ("auto", "default", "mirrored", "multiworker")


def split_cpu(num_devices: int) -> None:
  """Splits the CPU into ``num_devices`` logical devices.

  Must run before TensorFlow initializes its devices (first op or device query).
  """
  cpus = tf.config.list_physical_devices("CPU")
  tf.config.set_logical_device_configuration(
      cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices)


def get_strategy(name: str = "auto") -> tf.distribute.Strategy:
  """Returns the strategy called ``name`` (one of STRATEGY_NAMES)."""
  if name not in STRATEGY_NAMES:
    raise ValueError(f"Unknown strategy {name!r}; expected one of {list(STRATEGY_NAMES)}.")
  if name == "multiworker":
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == "mirrored":
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=devices)
  if name == "auto" and len(tf.config.list_logical_devices("GPU")) > 1:
    return tf.distribute.MirroredStrategy()
  return tf.distribute.get_strategy()
