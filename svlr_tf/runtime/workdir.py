"""One process per directory: exclusive locks, and cleaning up after a killed run.

:func:`exclusive_lock` takes an advisory ``flock`` on a lock file.  The kernel drops
it when the process ends, however it ends (SIGKILL included), so a lock is never
left behind; a second process asking for it gets a one-line :class:`DirectoryInUse`
naming the process that holds it.  Locks are re-entrant within a process (the
entry point locks its ``--workdir`` and each experiment locks its own directory).

:func:`remove_stale_temporaries` deletes what a killed writer can leave in a work
directory: the temporaries of ``svlr_tf.runtime.files.atomic_path`` (``.<name>.<random>.tmp``),
TensorFlow's checkpoint-state temporaries (``checkpoint.tmp<hex>``) and its
unfinished sharded saves (``ckpt-<n>_temp/``).  Call it only with the lock held.

Several workers (MultiWorkerMirroredStrategy) share one work directory: the chief
holds ``.lock`` as a single process does; every other worker holds its own
``.lock-<task>`` (``worker=`` of :func:`lock_workdir`, e.g. "worker1") and cleans only
its own scratch directory ``.<task>/``, never the chief's files.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import os
import re
import shutil
import socket
import sys
import threading
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from svlr_tf.runtime.errors import DataError

LOCK_NAME = ".lock"
# Work directories nest as <workdir>/seed<k>/<experiment>/{checkpoints,best,...}.
_MAX_DEPTH = 4
_STALE_FILE = re.compile(r"^(\..+\.[A-Za-z0-9_]{8}\.tmp.*|checkpoint\.tmp[0-9a-f]{32})$")
_STALE_DIR = re.compile(r"^ckpt-\d+_temp$")

_held: Dict[str, Tuple[int, int]] = {}  # lock file -> (fd, depth)
_held_guard = threading.Lock()


class DirectoryInUse(DataError):
  """Another process holds the lock of a directory."""


def _holder_description(fd: int) -> str:
  try:
    text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
  except OSError:
    text = ""
  return text or "another process"


@contextlib.contextmanager
def exclusive_lock(lock_path: str, what: str) -> Iterator[None]:
  """Holds an exclusive lock on ``lock_path`` (created) for the ``with`` block.

  Args:
    lock_path: the lock file.
    what: the locked thing, for the error ("work directory runs/table1").

  Raises:
    DirectoryInUse: another process holds it (names its pid and command line).
  """
  lock_path = os.path.abspath(lock_path)
  with _held_guard:
    if lock_path in _held:
      fd, depth = _held[lock_path]
      _held[lock_path] = (fd, depth + 1)
    else:
      os.makedirs(os.path.dirname(lock_path), exist_ok=True)
      fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                   0o644)
      try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      except OSError as e:
        holder = _holder_description(fd)
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
          raise DirectoryInUse(lock_path, f"{what} is in use by {holder}; wait for it "
                               "to finish or use another directory") from None
        raise
      os.ftruncate(fd, 0)
      started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
      command = " ".join([os.path.basename(sys.executable)] + sys.argv)[:300]
      os.pwrite(fd, (f"process {os.getpid()} on {socket.gethostname()} "
                     f"({command}, started {started} UTC)\n").encode(), 0)
      _held[lock_path] = (fd, 1)
  try:
    yield
  finally:
    with _held_guard:
      fd, depth = _held[lock_path]
      if depth > 1:
        _held[lock_path] = (fd, depth - 1)
      else:
        del _held[lock_path]
        os.close(fd)  # releases the flock; the file stays (removing it would race)


@contextlib.contextmanager
def lock_workdir(workdir: str, log: Optional[Callable[[str], None]] = None,
                 worker: str = "") -> Iterator[None]:
  """Locks a work directory and removes the stale temporaries of a killed run.

  ``worker``: a multi-worker task other than the chief ("worker1"): it locks
  ``.lock-<worker>`` and removes only its own scratch directory ``.<worker>/``.

  Raises:
    DataError: ``workdir`` exists and is not a directory.
    DirectoryInUse: another process works in it (as the same task).
  """
  workdir = os.fspath(workdir)
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    raise DataError(workdir, "is not a directory (--workdir must be a directory)")
  if worker:
    with exclusive_lock(os.path.join(workdir, f"{LOCK_NAME}-{worker}"),
                        f"work directory {workdir} (as {worker})"):
      shutil.rmtree(os.path.join(workdir, f".{worker}"), ignore_errors=True)
      yield
    return
  with exclusive_lock(os.path.join(workdir, LOCK_NAME), f"work directory {workdir}"):
    removed = remove_stale_temporaries(workdir)
    if removed and log is not None:
      log(f"removed {len(removed)} temporary file(s) left by an interrupted run in "
          f"{workdir}")
    yield


def remove_stale_temporaries(directory: str, max_depth: int = _MAX_DEPTH) -> List[str]:
  """Deletes the temporaries of interrupted writers under ``directory``.

  Walks at most ``max_depth`` levels, follows no symbolic links, and removes only
  names that the project's writers and TensorFlow's checkpoint writer use for
  unfinished files.  Returns the removed paths.
  """
  removed: List[str] = []
  root_depth = os.path.abspath(directory).rstrip(os.sep).count(os.sep)
  for dirpath, dirnames, filenames in os.walk(directory):
    depth = os.path.abspath(dirpath).rstrip(os.sep).count(os.sep) - root_depth
    for name in list(dirnames):
      path = os.path.join(dirpath, name)
      if _STALE_DIR.match(name) and not os.path.islink(path):
        shutil.rmtree(path)
        removed.append(path)
        dirnames.remove(name)
      elif name.startswith(".") or os.path.islink(path) or depth >= max_depth:
        dirnames.remove(name)
    for name in filenames:
      if _STALE_FILE.match(name):
        path = os.path.join(dirpath, name)
        os.remove(path)
        removed.append(path)
  return sorted(removed)
