"""Damaged checkpoints and the held-out evaluation history of a work directory.

* :func:`restore_newest_readable` restores the newest checkpoint of a directory that
  can be read, saying which ones it skipped and why (a deleted or truncated file,
  a lost ``checkpoint`` state file: the directory is scanned for ``ckpt-<n>.index``
  instead of trusting the state file).
* :class:`EvaluationHistory` keeps every held-out evaluation of a run in
  ``<workdir>/evaluations.json``, so the selected step can be recomputed (and a
  missing best checkpoint is never replaced silently by another step).
"""

from __future__ import annotations

import os
import re
from typing import Callable, Dict, List, Optional, Tuple

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_write_json, read_json

HISTORY_NAME = "evaluations.json"
_INDEX = re.compile(r"^ckpt-(\d+)\.index$")


def checkpoint_steps(directory: str) -> List[int]:
  """Steps of the ``ckpt-<n>`` checkpoints in ``directory``, newest first."""
  if not os.path.isdir(directory):
    return []
  steps = [int(m.group(1)) for m in map(_INDEX.match, os.listdir(directory)) if m]
  return sorted(steps, reverse=True)


def _reason(err: BaseException) -> str:
  text = getattr(err, "message", None) or str(err) or type(err).__name__
  lines = [line.strip() for line in str(text).splitlines() if line.strip()]
  return lines[0][:300] if lines else type(err).__name__


def restore_newest_readable(checkpoint, directory: str,
                            log: Callable[[str], None],
                            partial: bool = False) -> Optional[int]:
  """Restores the newest readable ``ckpt-<n>`` of ``directory`` into ``checkpoint``.

  Args:
    checkpoint: a ``tf.train.Checkpoint``.
    directory: the checkpoint directory.
    log: told about each unreadable checkpoint that is skipped.
    partial: the checkpoint may hold more objects than ``checkpoint`` tracks
      (``expect_partial``); otherwise every tracked object must be in it.

  Returns:
    The restored step, or None when the directory holds no checkpoint.

  Raises:
    DataError: checkpoints exist but none can be read.
  """
  steps = checkpoint_steps(directory)
  problems = []
  for step in steps:
    path = os.path.join(directory, f"ckpt-{step}")
    try:
      status = checkpoint.restore(path)
      if partial:
        status.expect_partial()
      else:
        status.assert_existing_objects_matched()
    except Exception as err:  # pylint: disable=broad-except
      # A damaged file fails in many ways: NotFoundError, DataLossError,
      # IndexError ("Read less bytes than requested"), AssertionError, ...
      problems.append(f"ckpt-{step}: {_reason(err)}")
      log(f"checkpoint {path} is unreadable ({_reason(err)}); trying the previous one")
      continue
    if problems:
      log(f"restored {path} instead")
    return step
  if problems:
    raise DataError(directory, "no readable checkpoint (" + "; ".join(problems) +
                    "); delete the work directory to train again")
  return None


class EvaluationHistory:
  """Held-out evaluations of one run: ``[{"step": s, <metric>: value, ...}, ...]``.

  Written atomically to ``<workdir>/evaluations.json`` after every evaluation.
  """

  def __init__(self, workdir: str):
    self.path = os.path.join(workdir, HISTORY_NAME)
    self.entries: List[Dict[str, float]] = []
    if os.path.exists(self.path):
      entries = read_json(self.path)
      if not isinstance(entries, list) or not all(
          isinstance(e, dict) and isinstance(e.get("step"), int) for e in entries):
        raise DataError(self.path, "expected a list of {\"step\": int, ...} records")
      self.entries = sorted(entries, key=lambda e: e["step"])

  def __len__(self) -> int:
    return len(self.entries)

  def record(self, step: int, metrics: Dict[str, float]) -> None:
    """Adds (or replaces) the evaluation of ``step`` and writes the file."""
    self.entries = [e for e in self.entries if e["step"] != step]
    self.entries.append(dict(metrics, step=int(step)))
    self.entries.sort(key=lambda e: e["step"])
    atomic_write_json(self.path, self.entries, indent=1)

  def forget_after(self, step: int) -> None:
    """Drops evaluations after ``step`` (training resumes from ``step``)."""
    kept = [e for e in self.entries if e["step"] <= step]
    if len(kept) != len(self.entries):
      self.entries = kept
      atomic_write_json(self.path, self.entries, indent=1)

  def best(self, metric: str, up_to: Optional[int] = None) -> Optional[Tuple[int, float]]:
    """(step, value) of the first best ``metric`` (the selection rule of training:
    a later evaluation replaces the best only when strictly better)."""
    best = None
    for e in self.entries:
      if metric not in e or (up_to is not None and e["step"] > up_to):
        continue
      if best is None or e[metric] > best[1]:
        best = (e["step"], e[metric])
    return best
