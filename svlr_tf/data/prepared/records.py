"""Reading the JSONL records of a prepared split with errors naming file and line."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import iter_jsonl


def iter_records(path: str) -> Iterator[Tuple[int, Dict[str, Any]]]:
  """(line number, record) of each non-blank line; DataError on bad JSON."""
  if not os.path.exists(path):
    raise DataError(path, "missing file")
  for lineno, rec in iter_jsonl(path):
    if not isinstance(rec, dict):
      raise DataError(path, f"line {lineno}: expected a JSON object")
    yield lineno, rec


def count_records(path: str) -> int:
  if not os.path.exists(path):
    raise DataError(path, "missing file")
  with open(path, "rb") as f:
    return sum(1 for line in f if line.strip())


class Record:
  """Typed field access of one JSONL record with errors naming file and line."""

  def __init__(self, path: str, lineno: int, rec: Dict[str, Any]):
    self.path, self.lineno, self.rec = path, lineno, rec

  def error(self, problem: str) -> DataError:
    return DataError(self.path, f"line {self.lineno}: {problem}")

  def get(self, name: str, kind):
    if name not in self.rec:
      raise self.error(f"missing field {name!r}")
    value = self.rec[name]
    ok = (isinstance(value, kind) and not isinstance(value, bool)
          if kind is int else isinstance(value, kind))
    if not ok:
      raise self.error(f"field {name!r} should be {kind.__name__}, got "
                       f"{type(value).__name__}")
    return value

  def str_list(self, name: str, length: Optional[int] = None) -> List[str]:
    value = self.get(name, list)
    if length is not None and len(value) != length:
      raise self.error(f"field {name!r} has {len(value)} entries, expected {length}")
    if not all(isinstance(v, str) for v in value):
      raise self.error(f"field {name!r} should be a list of strings")
    return value

  def list_of_str_lists(self, name: str, length: int) -> List[List[str]]:
    value = self.get(name, list)
    if len(value) != length:
      raise self.error(f"field {name!r} has {len(value)} entries, expected {length}")
    if not all(isinstance(v, list) and all(isinstance(w, str) for w in v)
               for v in value):
      raise self.error(f"field {name!r} should be a list of lists of strings")
    return value


def class_ids(rec: "Record", field: str, to_id: Dict[str, int], kind: str) -> List[int]:
  """Class ids of a record's names, in order, a name listed twice counted once."""
  ids = {}  # ordered set
  for name in rec.str_list(field):
    i = to_id.get(name)
    if i is None:
      raise rec.error(f"unknown {kind} class {name!r} (not in classes.json)")
    ids[i] = None
  return list(ids)
