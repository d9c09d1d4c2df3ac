"""One error type for bad input data, with a one-line message naming the file."""

from __future__ import annotations

import errno
import os
import re
from typing import Optional, Union


class DataError(ValueError):
  """A problem with an input file: missing, malformed, missing field, NaN, ...

  ``str(err)`` is one line: ``"<path>: <problem>"``. Entry points print it and exit
  with status 1 instead of a traceback.
  """

  def __init__(self, path: Union[str, os.PathLike, None], problem: str):
    self.path = None if path is None else os.fspath(path)
    self.problem = " ".join(str(problem).split())  # keep it on one line
    super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)


# A Python error raised inside the input pipeline (a ``tf.numpy_function``) reaches
# the caller as a TensorFlow error whose message is a traceback; the pipeline notes
# the original here so that the entry points can report it in one line.
_pipeline_errors: list = []


def note_pipeline_error(err: BaseException) -> None:
  """Keeps ``err`` (raised in the input pipeline) for :func:`one_line`."""
  _pipeline_errors[:] = [err]


def one_line(err: BaseException) -> Optional[str]:
  """The one-line report of an error an entry point should not show as a traceback.

  A DataError as it is; an OSError as ``"<path>: <problem> [ERRNO]"``; a non-finite
  loss; a TensorFlow error (first line of its message, or the Python error behind
  it when it was raised in the input pipeline).  None for anything else (a bug:
  the traceback is worth seeing).
  """
  if isinstance(err, DataError):
    return str(err)
  if isinstance(err, OSError):
    name = errno.errorcode.get(err.errno or 0)
    problem = (err.strerror or str(err)).strip() or type(err).__name__
    problem = problem[0].lower() + problem[1:]
    path = err.filename if err.filename is not None else None
    line = f"{path}: {problem}" if path else problem
    return " ".join(f"{line} [{name}]".split()) if name else " ".join(line.split())
  if isinstance(err, FloatingPointError):
    return " ".join(str(err).split())
  if type(err).__module__.startswith("tensorflow") and hasattr(err, "message"):
    if _pipeline_errors:
      inner = one_line(_pipeline_errors[0])
      if inner:
        return inner
    lines = [l for l in str(err.message).splitlines() if l.strip()]
    if not lines:
      return type(err).__name__
    # "{{function_node __wrapped__SaveV2...}} <path>; File too large [Op:SaveV2]"
    line = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", lines[0].strip())
    line = re.sub(r"\s*\[Op:\w+\]$", "", line)
    return f"{line} ({type(err).__name__})"
  return None
