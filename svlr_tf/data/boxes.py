"""Region boxes of a prepared directory: ``<data_dir>/boxes/{vqa,genome}.jsonl``.

Written by ``tools.propose_regions`` (VQA Edge Boxes, possibly in shards
``vqa.jsonl-0000i-of-0000n``), ``tools.prepare_genome`` (Genome annotated boxes)
and the embedded world. One JSON line per image (docs/architecture.md "Region
boxes"); the boxes are in the order of the image's feature-store rows.

  load_boxes(data_dir, "vqa", image_ids=None) -> {image_id: ImageBoxes}
"""

from __future__ import annotations

import dataclasses
import glob
import os
from typing import Dict, Iterable, List, Optional

import numpy as np

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import iter_jsonl


@dataclasses.dataclass
class ImageBoxes:
  """The regions of one image.

  Attributes:
    image_id: the image.
    file: path of the picture (resolved; None when it cannot be found).
    width, height: image size in pixels.
    boxes: [n, 4] float [x, y, w, h] pixels, in feature-row order.
    regions: per region, what it shows (embedded world only; else None):
      {"shows": "object" | "background" | "mix", "object": instance index or
      None, "class", "attributes", "mixed_with", "mix"}.
    objects: the image's object instances (embedded world only; else None):
      [{"class", "attributes", "box"}].
  """

  image_id: int
  file: Optional[str]
  width: int
  height: int
  boxes: np.ndarray
  regions: Optional[List[Dict]] = None
  objects: Optional[List[Dict]] = None


def boxes_paths(data_dir: str, name: str) -> List[str]:
  """The boxes file of ``name`` ("vqa" or "genome"), or its shards."""
  whole = os.path.join(data_dir, "boxes", f"{name}.jsonl")
  if os.path.isfile(whole):
    return [whole]
  shards = sorted(glob.glob(whole + "-*-of-*"))
  return [p for p in shards if not p.endswith(".partial")]


def _resolve(file: Optional[str], data_dir: str) -> Optional[str]:
  if not file:
    return None
  for candidate in (file, os.path.join(data_dir, file)):
    if os.path.isfile(candidate):
      return candidate
  return None


def _parse(row, path: str, lineno: int, data_dir: str) -> ImageBoxes:
  if not isinstance(row, dict) or "image_id" not in row or "boxes" not in row:
    raise DataError(path, f"line {lineno}: needs 'image_id' and 'boxes'")
  try:
    boxes = np.asarray(row["boxes"], np.float64).reshape(-1, 4)
  except (TypeError, ValueError):
    raise DataError(path, f"line {lineno}: 'boxes' must be a list of [x, y, w, h]") from None
  if len(boxes) != len(row["boxes"]) or not np.isfinite(boxes).all():
    raise DataError(path, f"line {lineno}: 'boxes' must be a list of finite [x, y, w, h]")
  if len(boxes) and (boxes[:, 2:] <= 0).any():
    raise DataError(path, f"line {lineno}: a box has no area (w or h <= 0)")
  width, height = row.get("width"), row.get("height")
  if not (isinstance(width, (int, float)) and isinstance(height, (int, float))
          and width > 0 and height > 0):
    raise DataError(path, f"line {lineno}: needs a positive 'width' and 'height'")
  regions = row.get("regions")
  if regions is not None and len(regions) != len(boxes):
    raise DataError(path, f"line {lineno}: {len(regions)} 'regions' for "
                    f"{len(boxes)} boxes")
  return ImageBoxes(int(row["image_id"]), _resolve(row.get("file"), data_dir),
                    int(width), int(height), boxes, regions, row.get("objects"))


def load_boxes(data_dir: str, name: str = "vqa",
               image_ids: Optional[Iterable[int]] = None) -> Dict[int, ImageBoxes]:
  """Reads the boxes of ``name`` ("vqa" or "genome"); only ``image_ids`` if given.

  Raises DataError (one line) for a missing file, a malformed line, an image
  listed twice or a requested image that has no line.
  """
  paths = boxes_paths(data_dir, name)
  if not paths:
    raise DataError(os.path.join(data_dir, "boxes", f"{name}.jsonl"),
                    "boxes file not found (tools.propose_regions / prepare_genome, "
                    "or the embedded world, write it)")
  wanted = None if image_ids is None else {int(i) for i in image_ids}
  out: Dict[int, ImageBoxes] = {}
  for path in paths:
    for lineno, row in iter_jsonl(path):
      image_id = row.get("image_id") if isinstance(row, dict) else None
      if wanted is not None and image_id is not None and int(image_id) not in wanted:
        continue
      entry = _parse(row, path, lineno, data_dir)
      if entry.image_id in out:
        raise DataError(path, f"line {lineno}: image {entry.image_id} appears twice")
      out[entry.image_id] = entry
  if wanted is not None:
    missing = sorted(wanted - set(out))
    if missing:
      raise DataError(paths[0], f"no boxes for {len(missing)} image(s), e.g. "
                      f"{missing[:3]}")
  return out
