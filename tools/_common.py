"""Small helpers shared by the command-line tools in ``tools/``.

- :func:`run_main`: ``app.run`` wrapper that turns a :class:`DataError`, an I/O
  fault or a TensorFlow error into one line on stderr and exit status 1.
- :class:`Progress`: periodic ``name: done/total (rate/s)`` lines.
- :func:`read_json`, :func:`atomic_write_json`, :func:`atomic_write_lines`,
  :func:`atomic_path`: reading with one-line errors and atomic writing (a
  temporary name in the same directory, then ``os.replace``).
- :func:`image_id_from_path`, :func:`list_images`: COCO / Visual Genome file
  names -> image ids.
- :func:`clip_boxes`, :func:`read_image`: box clipping, image decoding.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any, Callable, Iterable, Iterator, List, Optional

import numpy as np
from absl import app, logging

from svlr_tf.errors import DataError, one_line
from svlr_tf.files import (atomic_path, atomic_write_json, iter_jsonl,  # re-exported
                           read_json)


def run_main(main: Callable[[list], Any]) -> None:
  """Runs an absl ``main``; a DataError becomes ``"<path>: <problem>"`` + exit 1."""

  def wrapped(argv):
    if len(argv) > 1:
      print(f"error: unexpected argument(s) {' '.join(argv[1:])!r} (every option is "
            "a flag: --name=value; see --help)", file=sys.stderr, flush=True)
      sys.exit(1)
    try:
      return main(argv)
    except Exception as err:  # pylint: disable=broad-except
      message = one_line(err)
      if message is None:
        raise
      sys.stdout.flush()
      print(f"error: {message}", file=sys.stderr, flush=True)
      sys.exit(1)

  app.run(wrapped)


class Progress:
  """Prints ``name: done/total items (rate/s)`` at most every ``every_s`` seconds.

  Example::

    progress = Progress("images", total=len(paths))
    for path in paths:
      ...
      progress.update()
    progress.done()
  """

  def __init__(self, name: str, total: Optional[int] = None,
               every_s: float = 10.0, unit: str = "items"):
    self.name = name
    self.total = total
    self.every_s = every_s
    self.unit = unit
    self.count = 0
    self._start = time.monotonic()
    self._last = self._start

  def line(self) -> str:
    elapsed = max(time.monotonic() - self._start, 1e-9)
    total = f"/{self.total}" if self.total is not None else ""
    return (f"{self.name}: {self.count}{total} {self.unit} "
            f"({self.count / elapsed:.1f}/s, {elapsed:.0f} s)")

  def update(self, n: int = 1) -> None:
    self.count += n
    now = time.monotonic()
    if now - self._last >= self.every_s:
      self._last = now
      logging.info(self.line())

  def done(self) -> None:
    logging.info(self.line() + " done")


def read_jsonl(path: str) -> Iterator[Any]:
  """Yields the records of a JSON-lines file (blank lines skipped)."""
  for _, record in iter_jsonl(path):
    yield record


def atomic_write_lines(path: str, records: Iterable[Any]) -> int:
  """Writes one JSON record per line atomically; returns the number written."""
  n = 0
  with atomic_path(path) as tmp:
    with open(tmp, "w", encoding="utf-8") as f:
      for record in records:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
        n += 1
  return n


_DIGITS = re.compile(r"(\d+)")


def image_id_from_path(path: str) -> int:
  """``COCO_train2014_000000123456.jpg`` -> 123456; ``VG_100K/42.jpg`` -> 42."""
  stem = os.path.splitext(os.path.basename(path))[0]
  runs = _DIGITS.findall(stem)
  if not runs:
    raise DataError(path, "no image id (digits) in the file name")
  return int(runs[-1])


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def list_images(directories: Iterable[str]) -> dict:
  """Maps image id -> path for every image file in the directories (recursive).

  A duplicate id (the same image in two directories) keeps the first path.
  """
  found = {}
  for directory in directories:
    if not os.path.isdir(directory):
      raise DataError(directory, "image directory not found")
    for root, _, files in sorted(os.walk(directory)):
      for name in sorted(files):
        if name.lower().endswith(IMAGE_EXTENSIONS):
          path = os.path.join(root, name)
          found.setdefault(image_id_from_path(path), path)
  return found


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> List[List[int]]:
  """Clips [x, y, w, h] boxes to the image; drops those of zero area."""
  out = []
  for x, y, w, h in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(float(width), x + w), min(float(height), y + h)
    if x2 - x1 >= 1 and y2 - y1 >= 1:
      out.append([int(round(x1)), int(round(y1)),
                  int(round(x2 - x1)), int(round(y2 - y1))])
  return out


def read_image(path: str) -> np.ndarray:
  """Reads a BGR uint8 image; an unreadable file raises DataError."""
  import cv2  # local: tools that do not read images need not load OpenCV
  image = cv2.imread(path, cv2.IMREAD_COLOR)
  if image is None or image.size == 0:
    raise DataError(path, "cannot decode the image")
  return image
