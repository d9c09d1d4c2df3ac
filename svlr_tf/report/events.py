"""Scalars from TensorBoard event files (the trainer's ``train/`` and ``validation/``).

    steps, values = read_scalars("runs/table1/seed0/joint_svlr/validation",
                                 "vqa_accuracy/overall")

The trainer writes ``tf.summary.scalar`` (TF 2: a tensor summary with the scalars
plugin); TensorBoard's own event reader loads them, without starting TensorFlow's
runtime.  A run resumed after a crash may have written a step twice: the last value
written wins, and steps come back sorted.
"""

from __future__ import annotations

import glob
import os
from typing import Dict, Tuple

import numpy as np


def read_scalars(logdir: str, tag: str) -> Tuple[np.ndarray, np.ndarray]:
  """(steps int64 [n], values float64 [n]) of ``tag`` in ``logdir``'s event files.

  Empty arrays when the directory, its event files or the tag are missing.
  """
  from tensorboard.backend.event_processing import event_file_loader
  from tensorboard.util import tensor_util

  by_step: Dict[int, float] = {}
  for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
    for event in event_file_loader.LegacyEventFileLoader(path).Load():
      for value in event.summary.value:
        if value.tag != tag:
          continue
        if value.HasField("tensor"):
          by_step[int(event.step)] = float(
              np.asarray(tensor_util.make_ndarray(value.tensor)).reshape(-1)[0])
        elif value.HasField("simple_value"):
          by_step[int(event.step)] = float(value.simple_value)
  steps = np.array(sorted(by_step), dtype=np.int64)
  return steps, np.array([by_step[s] for s in steps], dtype=np.float64)
