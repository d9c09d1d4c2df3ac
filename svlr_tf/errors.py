"""One error type for bad input data, with a one-line message naming the file."""

from __future__ import annotations

import os
from typing import Union


class DataError(ValueError):
  """A problem with an input file: missing, malformed, missing field, NaN, ...

  ``str(err)`` is one line: ``"<path>: <problem>"``. Entry points print it and exit
  with status 1 instead of a traceback.
  """

  def __init__(self, path: Union[str, os.PathLike, None], problem: str):
    self.path = None if path is None else os.fspath(path)
    self.problem = " ".join(str(problem).split())  # keep it on one line
    super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)
