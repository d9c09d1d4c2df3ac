"""VQA-HAT human attention maps (Das et al., EMNLP 2016), as used by Table 2.

Released layout: a directory (``vqahat_val`` for VQA v1 val) of grayscale images
named ``<question_id>_<n>.png``, one per annotator n = 1, 2, 3 (brighter = looked
at; the image's size). ``--hat_dir`` may be that directory or its parent.

  hat_files(hat_dir) -> {question_id: [paths, annotator order]}
  load_hat_map(path, grid=14) -> float64 [grid, grid] in [0, 1]
"""

from __future__ import annotations

import os
import re
from typing import Dict, List

import numpy as np

from svlr_tf.runtime.errors import DataError

_NAME = re.compile(r"^(\d+)_(\d+)\.(png|jpg|jpeg)$", re.IGNORECASE)
SUBDIRS = ("vqahat_val", "val")


def hat_files(hat_dir: str) -> Dict[int, List[str]]:
  """The maps of ``hat_dir`` (or of its ``vqahat_val`` / ``val`` subdirectory)."""
  if not os.path.isdir(hat_dir):
    raise DataError(hat_dir, "no such directory (expected VQA-HAT maps "
                    "<question_id>_<n>.png)")
  directory = hat_dir
  for sub in SUBDIRS:
    if os.path.isdir(os.path.join(hat_dir, sub)):
      directory = os.path.join(hat_dir, sub)
      break
  found: Dict[int, List[tuple]] = {}
  for name in os.listdir(directory):
    match = _NAME.match(name)
    if match:
      found.setdefault(int(match.group(1)), []).append(
          (int(match.group(2)), os.path.join(directory, name)))
  if not found:
    raise DataError(directory, "no VQA-HAT maps named <question_id>_<n>.png")
  return {qid: [p for _, p in sorted(maps)] for qid, maps in found.items()}


def load_hat_map(path: str, grid: int = 14) -> np.ndarray:
  """A human attention map resized to ``grid`` x ``grid`` (area average), in [0, 1]."""
  from PIL import Image, UnidentifiedImageError  # pylint: disable=import-outside-toplevel
  try:
    with Image.open(path) as im:
      small = im.convert("L").resize((grid, grid), Image.Resampling.BOX)
  except (OSError, UnidentifiedImageError) as err:
    raise DataError(path, f"cannot read the attention map ({err})") from None
  return np.asarray(small, np.float64) / 255.0
