"""Runs one stage of a rehearsal as a subprocess and measures it.

Each stage is a command line of the real tools. Measured: wall time, CPU time,
peak resident memory of the process tree waited for (``os.wait4``'s
``ru_maxrss``: the largest single process, children included once they are
waited for), the disk it added under the rehearsal directory (allocated
blocks, so sparse files count what they hold), and the load average around
it. For training stages, the output's step lines give the time from the
start of the process to the first step and the steady step time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional

_STEP = re.compile(r"\] step (\d+)/(\d+) ")


def disk_bytes(root: str) -> int:
  """Bytes allocated under ``root`` (st_blocks, as ``du``)."""
  total = 0
  for dirpath, _, files in os.walk(root):
    for name in files:
      try:
        total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
      except FileNotFoundError:
        pass
  return total


def _step_times(marks: List[tuple], start: float) -> Dict[str, Optional[float]]:
  """First-step and steady step times from (time, step) marks of step lines."""
  if not marks:
    return {"first_step_s": None, "steady_step_s": None, "steps_timed": 0}
  first = marks[0][1] == 1 and marks[0][0] - start or None
  # Steady: from the second half's first mark to the last (tracing is over).
  half = marks[len(marks) // 2] if len(marks) > 2 else marks[0]
  last = marks[-1]
  steady = ((last[0] - half[0]) / (last[1] - half[1])) if last[1] > half[1] else None
  return {"first_step_s": first, "steady_step_s": steady,
          "steps_timed": last[1] - half[1], "last_step_s": last[0] - start}


def run(name: str, argv: List[str], root: str, log_path: str, cwd: str,
        nice: int = 0, stop_at_step: Optional[int] = None) -> Dict[str, object]:
  """Runs ``python -m argv...`` in ``cwd``; returns its measurements.

  ``stop_at_step``: a training stage is terminated (SIGTERM) once its step line
  of that step is out: what is measured is the start and the training, not the
  evaluations after it (``"stopped_after_step"`` in the record).

  Raises:
    RuntimeError: the stage failed (its last output lines are in the message).
  """
  before = disk_bytes(root)
  load_before = os.getloadavg()[0]
  command = [sys.executable, "-u", "-m"] + argv
  env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")
  start = time.monotonic()
  marks, tail, stopped, input_line = [], [], False, None
  with open(log_path, "w", encoding="utf-8", buffering=1) as log:
    log.write("$ " + " ".join(command) + "\n")
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace",
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)
    for line in proc.stdout:
      now = time.monotonic()
      log.write(f"{now - start:9.2f} {line}")
      tail = (tail + [line.rstrip()])[-12:]
      if "] input mode " in line and input_line is None:
        input_line = now - start  # data checked, stores open; training builds next
      match = _STEP.search(line)
      if match:
        marks.append((now, int(match.group(1))))
        if stop_at_step is not None and marks[-1][1] >= stop_at_step and not stopped:
          stopped = True
          proc.send_signal(signal.SIGTERM)  # SIGINT waits for TensorFlow
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
  wall = time.monotonic() - start
  if proc.returncode != 0 and not stopped:
    raise RuntimeError(f"stage {name} failed (exit {proc.returncode}; log {log_path}):\n"
                       + "\n".join(tail))
  result = {"stage": name, "command": " ".join(["python", "-m"] + argv),
            "wall_s": round(wall, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "disk_added_mb": round((disk_bytes(root) - before) / 2**20, 1),
            "load_before": round(load_before, 1),
            "load_after": round(os.getloadavg()[0], 1)}
  if input_line is not None:
    result["input_mode_line_s"] = round(input_line, 2)
  if stopped:
    result["stopped_after_step"] = marks[-1][1]
  if marks:
    result.update({k: (round(v, 3) if isinstance(v, float) else v)
                   for k, v in _step_times(marks, start).items()})
    if not stopped:  # held-out + test evaluations, results, after the last step
      result["after_training_s"] = round(wall - result["last_step_s"], 2)
  return result


def run_python(name: str, fn, root: str) -> Dict[str, object]:
  """Runs ``fn()`` in a forked child (writing the inputs) and measures it alike."""
  before = disk_bytes(root)
  load_before = os.getloadavg()[0]
  start = time.monotonic()
  pid = os.fork()
  if pid == 0:  # child
    code = 0
    try:
      fn()
    except BaseException as e:  # pylint: disable=broad-except
      print(f"error: {name}: {e}", file=sys.stderr)
      code = 1
    os._exit(code)  # pylint: disable=protected-access
  _, status, usage = os.wait4(pid, 0)
  if os.waitstatus_to_exitcode(status) != 0:
    raise RuntimeError(f"stage {name} failed")
  return {"stage": name, "command": "(tools.rehearse.inputs)",
          "wall_s": round(time.monotonic() - start, 2),
          "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
          "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
          "disk_added_mb": round((disk_bytes(root) - before) / 2**20, 1),
          "load_before": round(load_before, 1),
          "load_after": round(os.getloadavg()[0], 1)}
