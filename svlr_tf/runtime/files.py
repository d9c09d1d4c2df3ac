"""Reading JSON with one-line errors, and atomic writes.

An atomic write goes to a temporary name in the destination's directory and is
renamed onto it (``os.replace``) only when complete, so a crash never leaves a
half-written file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Any, Dict, Iterator, Optional, Tuple

import numpy as np

from svlr_tf.runtime.errors import DataError


def read_json(path: str) -> Any:
  """Loads a JSON file: the one JSON reader of svlr_tf, tools and reproduce.

  A missing, unreadable, non-UTF-8 or malformed file raises a one-line DataError
  naming the file (and the line and column of a JSON syntax error).
  """
  if not os.path.isfile(path):
    raise DataError(path, "missing file")
  try:
    with open(path, "rb") as f:
      raw = f.read()
  except OSError as err:
    raise DataError(path, f"cannot read: {err.strerror or err}") from None
  try:
    text = raw.decode("utf-8")
  except UnicodeDecodeError as err:
    raise DataError(path, f"not UTF-8 text (byte {err.start})") from None
  try:
    return json.loads(text)
  except json.JSONDecodeError as err:
    raise DataError(path, f"malformed JSON at line {err.lineno} column {err.colno}: "
                    f"{err.msg}") from None


def iter_jsonl(path: str) -> Iterator[Tuple[int, Any]]:
  """(line number, record) of each non-blank line of a JSON-lines file.

  A missing file, a line that is not UTF-8 or not JSON raises a one-line DataError
  naming the file and the line.
  """
  if not os.path.isfile(path):
    raise DataError(path, "missing file")
  with open(path, "rb") as f:
    for lineno, raw in enumerate(f, 1):
      if not raw.strip():
        continue
      try:
        yield lineno, json.loads(raw.decode("utf-8"))
      except UnicodeDecodeError:
        raise DataError(path, f"line {lineno}: not UTF-8 text") from None
      except json.JSONDecodeError as e:
        raise DataError(path, f"line {lineno}: malformed JSON ({e.msg} at column "
                        f"{e.colno})") from None


def current_umask() -> int:
  """The process umask (read from /proc on Linux; else set and restored)."""
  try:
    fd = os.open("/proc/self/status", os.O_RDONLY)
    try:
      status = os.read(fd, 1 << 16).decode("ascii", "replace")
    finally:
      os.close(fd)
    for line in status.splitlines():
      if line.startswith("Umask:"):
        return int(line.split()[1], 8)
  except (OSError, ValueError, IndexError):
    pass
  mask = os.umask(0o022)
  os.umask(mask)
  return mask


@contextlib.contextmanager
def atomic_path(path: str, suffix: str = "") -> Iterator[str]:
  """Yields a temporary path beside ``path``; renamed onto it only on success.

  An OSError (full disk, read-only directory, I/O error) names ``path``, the
  destination, and leaves neither the temporary nor a changed ``path`` behind.
  The file gets the permissions a plain ``open(path, "w")`` would (0666 minus
  the umask), not mkstemp's private 0600: prepared data on shared storage stays
  readable by the people the user's umask lets read it.
  """
  directory = os.path.dirname(os.path.abspath(path))
  tmp = None
  try:
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp" + suffix, dir=directory)
    os.fchmod(fd, 0o666 & ~current_umask())
    os.close(fd)
    yield tmp
    os.replace(tmp, path)
  except OSError as e:
    name = e.filename
    if name is None or name == tmp or (isinstance(name, str) and os.path.dirname(
        os.path.abspath(name)) == directory):
      raise OSError(e.errno, f"{e.strerror or e} while writing", path) from None
    raise
  finally:
    if tmp is not None and os.path.exists(tmp):
      with contextlib.suppress(OSError):
        os.remove(tmp)


def json_default(x):
  """``json.dump(default=...)`` for numpy scalars and arrays."""
  if isinstance(x, np.generic):
    return x.item()
  if isinstance(x, np.ndarray):
    return x.tolist()
  raise TypeError(f"Object of type {type(x).__name__} is not JSON serializable")


def atomic_save_npy(path: str, array: np.ndarray) -> None:
  with atomic_path(path) as tmp:
    with open(tmp, "wb") as f:
      np.save(f, array, allow_pickle=False)


def atomic_savez(path: str, arrays: Dict[str, np.ndarray], fsync: bool = False) -> None:
  """``np.savez`` atomically; ``fsync`` also forces the bytes to disk first."""
  with atomic_path(path) as tmp:
    with open(tmp, "wb") as f:
      np.savez(f, **arrays)
      if fsync:
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(path: str, text: str) -> None:
  with atomic_path(path) as tmp:
    with open(tmp, "w", encoding="utf-8") as f:
      f.write(text)


def atomic_write_json(path: str, obj: Any, indent: Optional[int] = None) -> None:
  with atomic_path(path) as tmp:
    with open(tmp, "w", encoding="utf-8") as f:
      json.dump(obj, f, indent=indent, ensure_ascii=False, default=json_default)
