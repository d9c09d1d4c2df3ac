"""Reading one element at a time of a JSON file's big list (no whole-file load).

The raw files of VQA and Visual Genome are single JSON documents of several GB
(a list of images, or an object holding a list of questions); ``json.load``
needs several times their size in memory. ``iter_json_array`` yields the list's
elements one by one with ``json.JSONDecoder.raw_decode`` over a buffer of about
``chunk`` characters, so memory follows the largest element, not the file. The
elements are the values ``json.load`` would give; the whole file is still
checked (a syntax error anywhere, trailing text, text that is not UTF-8), with
one-line errors naming the file and the byte offset.

``JsonListWriter`` is the other direction: ``atomic_write_json`` of an object
whose last member is a big list, written one element at a time.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import tempfile
from typing import Any, Dict, Iterator, Optional, Tuple

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import current_umask, json_default, require_file

_WHITESPACE = " \t\n\r"
# An error this far (characters) before the buffer's end is not from the buffer
# ending mid-element: the longest single JSON string that may be read.
_MARGIN = 1 << 24
# What may follow a number's prefix when the number goes on in the next chunk.
_NUMBER_TAIL = re.compile(r"[0-9.eE+-]*\Z")


class _Buffer:
  """The file's text from ``base`` (a byte offset) on; ``pos`` indexes ``text``."""

  def __init__(self, path: str, f, chunk: int):
    self.path, self.f, self.chunk = path, f, chunk
    self.decoder = codecs.getincrementaldecoder("utf-8")()
    self.text, self.pos, self.base, self.read_bytes, self.eof = "", 0, 0, 0, False
    self.json = json.JSONDecoder()

  def offset(self, pos: Optional[int] = None) -> int:
    """Byte offset in the file of ``text[pos]``."""
    pos = self.pos if pos is None else pos
    return self.base + len(self.text[:pos].encode("utf-8"))

  def fail(self, problem: str, pos: Optional[int] = None):
    raise DataError(self.path, f"malformed JSON at byte {self.offset(pos)}: {problem}")

  def fill(self) -> bool:
    """Appends the next chunk (dropping what was read); False at the end of file."""
    if self.eof:
      return False
    if self.pos > self.chunk:
      self.base = self.offset()
      self.text, self.pos = self.text[self.pos:], 0
    raw = self.f.read(self.chunk)
    try:
      self.text += self.decoder.decode(raw, final=not raw)
    except UnicodeDecodeError as err:
      raise DataError(self.path, f"not UTF-8 text (byte {self.read_bytes + err.start})"
                      ) from None
    self.read_bytes += len(raw)
    self.eof = not raw
    return True

  def peek(self) -> str:
    """The next character that is not whitespace ("" at the end of file)."""
    while True:
      while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
        self.pos += 1
      if self.pos < len(self.text) or not self.fill():
        return self.text[self.pos:self.pos + 1]

  def expect(self, chars: str, what: str) -> str:
    c = self.peek()
    if not c or c not in chars:
      self.fail(f"expected {what}, found {c!r}" if c else f"expected {what}, found "
                "the end of the file")
    self.pos += 1
    return c

  def value(self) -> Any:
    """The JSON value at ``pos`` (reading more of the file as needed)."""
    self.peek()
    while not self.eof and len(self.text) - self.pos < self.chunk // 2:
      self.fill()
    while True:
      try:
        value, end = self.json.raw_decode(self.text, self.pos)
      except json.JSONDecodeError as err:
        if not self.eof and len(self.text) - err.pos < _MARGIN and self.fill():
          continue
        self.fail(err.msg, err.pos)
      if (isinstance(value, (int, float)) and _NUMBER_TAIL.match(self.text, end)
          and self.fill()):
        continue  # the number may go on in the next chunk
      self.pos = end
      return value


def iter_json_array(path: str, key: Optional[str] = None, chunk: int = 1 << 20,
                    what: str = "") -> Iterator[Tuple[int, Any]]:
  """(index, element) of the file's top-level list, or, with ``key``, of the list
  under ``key`` in its top-level object (the object's other members are read
  and dropped). The rest of the file is checked after the last element.
  ``what`` names the list's elements in the error for a file that is not a list
  ("expected a JSON list of images").

  Raises a one-line DataError naming the file: missing, not UTF-8, malformed
  JSON (with the byte offset), not a list / not an object with a ``key`` list.
  """
  require_file(path)
  try:
    f = open(path, "rb")
  except OSError as err:
    raise DataError(path, f"cannot read: {err.strerror or err}") from None
  with f:
    buf = _Buffer(path, f, chunk)
    if key is None:
      if buf.peek() != "[":
        raise DataError(path, "expected a JSON list" + (f" of {what}" if what else ""))
      yield from _elements(buf)
    else:
      if buf.peek() != "{":
        raise DataError(path, f"expected a JSON object with a {key!r} list")
      buf.pos += 1
      found = False
      if buf.peek() == "}":
        buf.pos += 1
      else:
        while True:
          if buf.peek() != '"':
            buf.fail("expected a member name")
          name = buf.value()
          buf.expect(":", "':'")
          if name == key and not found:
            found = True
            if buf.peek() != "[":
              raise DataError(path, f"expected a JSON object with a {key!r} list")
            yield from _elements(buf)
          else:
            buf.value()
          if buf.expect(",}", "',' or '}'") == "}":
            break
      if not found:
        raise DataError(path, f"expected a JSON object with a {key!r} list")
    if buf.peek():
      buf.fail("extra data after the JSON value")


def _elements(buf: _Buffer) -> Iterator[Tuple[int, Any]]:
  """The elements of the list starting at ``buf.pos`` ("["); ends after "]"."""
  buf.pos += 1
  if buf.peek() == "]":
    buf.pos += 1
    return
  index = 0
  while True:
    yield index, buf.value()
    index += 1
    if buf.expect(",]", "',' or ']'") == "]":
      return


class JsonListWriter:
  """Writes the bytes of ``atomic_write_json(path, {**header, key: elements})``
  one element at a time (the elements are not held in memory).

  The text goes to a temporary file beside ``path``; ``close`` renames it onto
  ``path``, ``abort`` removes it (``path`` is untouched). ``header`` (the
  object's other members, in order) may be set until the first ``add``.
  """

  def __init__(self, path: str, key: str, header: Optional[Dict[str, Any]] = None):
    self.path, self.key, self.header, self.count = path, key, header, 0
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, self.tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                    suffix=".tmp", dir=directory)
    os.fchmod(fd, 0o666 & ~current_umask())
    self.file = os.fdopen(fd, "w", encoding="utf-8")

  def _start(self) -> None:
    text = json.dumps({**(self.header or {}), self.key: []}, ensure_ascii=False,
                      default=json_default)
    self.file.write(text[:-2])  # ... "key": [   (text ends with "[]}")

  def add(self, element: Any) -> None:
    if self.count == 0:
      self._start()
    else:
      self.file.write(", ")
    self.file.write(json.dumps(element, ensure_ascii=False, default=json_default))
    self.count += 1

  def close(self) -> None:
    if self.count == 0:
      self._start()
    self.file.write("]}")
    self.file.close()
    os.replace(self.tmp, self.path)

  def abort(self) -> None:
    self.file.close()
    if os.path.exists(self.tmp):
      os.remove(self.tmp)
