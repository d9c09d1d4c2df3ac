"""Small helpers shared by the command-line tools in ``tools/``.

- :func:`run_main` (from :mod:`svlr_tf.runtime.entry_points`): ``app.run`` wrapper that
  turns a :class:`DataError`, an I/O fault or a TensorFlow error into one line on
  stderr and exit status 1.
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
import time
from typing import Any, Iterable, Iterator, List, Optional

import numpy as np
from absl import logging

from svlr_tf.runtime.entry_points import run_main  # noqa: F401  (re-exported)
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import (atomic_path, atomic_write_json, iter_jsonl,  # re-exported
                           read_json)


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
  """Reads a BGR uint8 image [H, W, 3] (EXIF orientation applied).

  A missing, truncated or corrupt file raises DataError: the picture is fully
  decoded by Pillow, which refuses a truncated JPEG (OpenCV's decoder only
  warns and fills the missing part with gray).
  """
  from PIL import Image, ImageOps  # local: tools that read no images skip it
  if not os.path.isfile(path):
    raise DataError(path, "image file not found")
  try:
    with Image.open(path) as image:
      image.load()
      image = ImageOps.exif_transpose(image).convert("RGB")
  except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
    problem = " ".join(str(err).split()) or type(err).__name__
    raise DataError(path, f"truncated or corrupt image ({problem})") from None
  if image.width == 0 or image.height == 0:
    raise DataError(path, "empty image")
  return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


class BadImages:
  """Bad pictures skipped with ``--skip_bad_images``, listed in a report file.

  ``report(path, error)`` logs and remembers one; ``write()`` writes
  ``<report_path>`` (one ``path<TAB>problem`` line each) when there were any.
  """

  def __init__(self, report_path: str, skip: bool):
    self.report_path = report_path
    self.skip = skip
    self.items: List[str] = []

  def handle(self, error: DataError) -> None:
    """Re-raises ``error`` unless skipping; then logs and lists it."""
    if not self.skip:
      raise error
    logging.warning("skipped: %s", error)
    self.items.append(f"{error.path}\t{error.problem}")

  def write(self) -> None:
    if self.items:
      atomic_write_lines_text(self.report_path, self.items)
      logging.warning("%d bad images skipped, listed in %s", len(self.items),
                      self.report_path)


def atomic_write_lines_text(path: str, lines: Iterable[str]) -> None:
  with atomic_path(path) as tmp:
    with open(tmp, "w", encoding="utf-8") as f:
      f.writelines(line + "\n" for line in lines)
