"""Cleaning Genome objects: boxes clipped to the image, empty and repeated
objects dropped (``tools.prepare_genome``, step 2)."""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

from svlr_tf.runtime.errors import DataError
from tools._common import clip_boxes
from tools.genome.annotations import Counts, normalize_name


# -- cleaning --------------------------------------------------------------------


def _positive_int(value) -> Optional[int]:
  return int(value) if isinstance(value, (int, float)) and value > 0 else None


def image_size(image_id: int, image_data: Dict[int, dict],
               image_paths: Dict[int, str]) -> Optional[Tuple[int, int]]:
  """(width, height) from image_data, else from the image file's header."""
  entry = image_data.get(image_id, {})
  width, height = _positive_int(entry.get("width")), _positive_int(entry.get("height"))
  if width and height:
    return width, height
  path = image_paths.get(image_id)
  if path:
    from PIL import Image
    try:
      with Image.open(path) as image:
        return image.size
    except OSError:
      raise DataError(path, "cannot read the image size") from None
  return None


def clean_objects(objects: List[dict], size: Optional[Tuple[int, int]],
                  counts: Counts) -> List[dict]:
  """Clipped boxes, normalized names / attributes; drops unusable objects.

  Objects with the same (clipped) box and the same names are one region
  (Visual Genome v1.0 repeats a box as several objects, often with different
  attribute lists): they are merged, their attributes united.
  """
  out, seen, by_region = [], set(), {}
  for obj in objects:
    if obj["id"] is not None:
      if obj["id"] in seen:
        counts["duplicate object ids"] += 1
        continue
      seen.add(obj["id"])
    if obj["box"] is None:
      counts["objects without a box"] += 1
      continue
    x, y, w, h = obj["box"]
    width, height = size if size else (x + max(w, 0), y + max(h, 0))
    boxes = clip_boxes([[x, y, w, h]], width, height)
    if not boxes:
      counts["zero-area boxes (after clipping)"] += 1
      continue
    names = _unique(normalize_name(n, "n") for n in obj["names"])
    if not names:
      counts["objects without a name"] += 1
      continue
    attributes = _unique(normalize_name(a, "a") for a in obj["attributes"])
    key = (tuple(boxes[0]), tuple(sorted(names)))
    region = by_region.get(key)
    if region is not None:
      counts["objects merged into a region with the same box and names"] += 1
      region["attributes"] = _unique(region["attributes"] + attributes)
      region["raw_attributes"] = region["raw_attributes"] + list(obj["attributes"])
      continue
    region = {"box": boxes[0], "names": names,
              "raw_names": obj["names"], "synsets": obj["synsets"],
              "attributes": attributes, "raw_attributes": list(obj["attributes"])}
    by_region[key] = region
    out.append(region)
  return out


def _unique(items: Iterable[str]) -> List[str]:
  out = []
  for item in items:
    if item and item not in out:
      out.append(item)
  return out
