"""Reading the Visual Genome files (v1.0 and v1.2 / v1.4 field names) and
normalizing names (``tools.prepare_genome``, steps 2-4)."""

from __future__ import annotations

import collections
from typing import Any, Dict, Iterator, List, Optional, Tuple

from absl import logging

from svlr_tf import text
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.json_stream import iter_json_array
from tools._common import read_json


# -- names -----------------------------------------------------------------------


def normalize_name(name: Any, pos: str = "n") -> str:
  """Tokenized, lowercased name with its last word lemmatized ("" if none)."""
  if not isinstance(name, str):
    return ""
  tokens = text.tokenize(name)
  if not tokens:
    return ""
  tokens[-1] = text.lemmatize(tokens[-1], pos)
  return " ".join(tokens)


# -- reading the Genome files ----------------------------------------------------


class Counts(collections.Counter):
  """Named counters of what was dropped, logged at the end."""

  def log(self) -> None:
    for key in sorted(self):
      logging.info("  %s: %d", key, self[key])


def _image_id(entry: Dict[str, Any]) -> Optional[int]:
  for key in ("image_id", "id"):
    value = entry.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
      return int(value)
    if isinstance(value, str) and value.strip().isdigit():
      return int(value)
  return None


def _str_list(value: Any) -> List[str]:
  """A name / attribute field: a string, list of strings, or dicts with names."""
  if value is None:
    return []
  if isinstance(value, str):
    return [value]
  out = []
  if isinstance(value, list):
    for item in value:
      if isinstance(item, str):
        out.append(item)
      elif isinstance(item, dict):  # e.g. {"attribute": "red"} / {"name": ...}
        for key in ("attribute", "attributes", "name", "names"):
          out.extend(_str_list(item.get(key)))
  return out


def _parse_object(item: Any) -> Optional[Dict[str, Any]]:
  """One annotation (v1.0 or v1.2 fields) -> {id, box, names, synsets, attributes}."""
  if not isinstance(item, dict):
    return None
  attributes = _str_list(item.get("attributes"))
  if isinstance(item.get("object"), dict):  # v1.0 attributes.json entry
    attributes += _str_list(item.get("attribute"))
    item = dict(item["object"], attributes=attributes)
  else:
    attributes += _str_list(item.get("attribute"))
  object_id = item.get("object_id", item.get("id"))
  if not isinstance(object_id, (int, float)) or isinstance(object_id, bool):
    object_id = None
  names = (_str_list(item.get("names")) or _str_list(item.get("object_names"))
           or _str_list(item.get("name")))
  box = None
  try:
    box = tuple(float(item[k]) for k in ("x", "y", "w", "h"))
  except (KeyError, TypeError, ValueError):
    pass
  return {"id": None if object_id is None else int(object_id), "box": box,
          "names": names, "synsets": _str_list(item.get("synsets")),
          "attributes": attributes}


def iter_annotations(path: str, counts: Counts) -> Iterator[Tuple[int, List[dict]]]:
  """(image_id, [parsed objects]) of each image entry of objects.json /
  attributes.json, read one at a time (svlr_tf.runtime.json_stream: the files are
  several GB at full size); entries without an image id are counted, skipped."""
  for i, entry in iter_json_array(path, what="images"):
    if not isinstance(entry, dict):
      raise DataError(path, f"entry {i} is not a JSON object")
    image_id = _image_id(entry)
    if image_id is None:
      counts["images without id"] += 1
      continue
    items = entry.get("objects")
    if items is None:
      items = entry.get("attributes")
    if items is None:
      items = []
    if not isinstance(items, list):
      raise DataError(path, f"image {image_id}: 'objects' is not a list")
    yield image_id, [p for p in (_parse_object(item) for item in items) if p is not None]


def read_annotations(path: str, counts: Counts) -> Dict[int, List[Dict[str, Any]]]:
  """objects.json / attributes.json -> {image_id: [parsed objects]}; only the
  parsed fields are kept."""
  images: Dict[int, List[Dict[str, Any]]] = {}
  for image_id, parsed in iter_annotations(path, counts):
    images.setdefault(image_id, []).extend(parsed)
  return images


def merge_attributes(objects: Dict[int, List[dict]],
                     attributes: Dict[int, List[dict]],
                     counts: Optional[Counts] = None) -> Dict[int, List[dict]]:
  """Adds attributes.json's attributes to objects.json's objects (a new dict;
  ``objects`` is left as it was).

  An attribute entry goes to the object with its id; when its id matches no
  object (most unmatched v1.0 entries), to the object with the same box and
  names; attribute-file objects matching neither are added as objects.
  """
  counts = counts if counts is not None else Counts()
  merged = {i: [dict(o) for o in objs] for i, objs in objects.items()}
  for image_id, items in attributes.items():
    _merge_image(merged.setdefault(image_id, []), items, counts)
  return merged


def merge_attributes_file(objects: Dict[int, List[dict]], path: str,
                          counts: Counts) -> Dict[int, List[dict]]:
  """``merge_attributes`` of attributes.json at ``path``, read one image at a time
  and merged into ``objects`` in place (no second copy of the objects; issue 25).
  Returns ``objects``."""
  for image_id, items in iter_annotations(path, counts):
    _merge_image(objects.setdefault(image_id, []), items, counts)
  return objects


def _merge_image(targets: List[dict], items: List[dict], counts: Counts) -> None:
  """Merges one image's attribute-file objects ``items`` into its ``targets``.

  Merging an image's entries one after the other gives what merging them at
  once does (the id / box maps are rebuilt from ``targets``, which hold the
  objects added before).
  """
  by_id, by_box = {}, {}
  for obj in targets:
    if obj["id"] is not None:
      by_id.setdefault(obj["id"], obj)
    by_box.setdefault(_box_names_key(obj), obj)
  for item in items:
    target = by_id.get(item["id"]) if item["id"] is not None else None
    if target is None:
      target = by_box.get(_box_names_key(item))
      if target is not None and item["id"] is not None:
        counts["attribute entries matched by box and names (id matched no object)"] += 1
    if target is None:
      target = dict(item, attributes=[])
      targets.append(target)
      if item["id"] is not None:
        by_id[item["id"]] = target
      by_box.setdefault(_box_names_key(item), target)
    target["attributes"] = list(target["attributes"]) + list(item["attributes"])
    if not target["synsets"]:
      target["synsets"] = item["synsets"]


def _box_names_key(obj: dict):
  return (obj["box"], tuple(sorted(str(n).strip().lower() for n in obj["names"])))


def read_image_data(path: Optional[str], counts: Counts) -> Dict[int, dict]:
  """image_data.json -> {image_id: entry} (first entry wins)."""
  if not path:
    return {}
  out = {}
  for i, entry in iter_json_array(path, what="images"):
    if not isinstance(entry, dict):
      raise DataError(path, f"entry {i} is not a JSON object")
    image_id = _image_id(entry)
    if image_id is None:
      counts["image_data entries without id"] += 1
    elif image_id in out:
      counts["duplicate image_data ids"] += 1
    else:
      out[image_id] = entry
  return out


def read_synset_map(path: Optional[str]) -> Dict[str, str]:
  """attribute_synsets.json / object_synsets.json: {string: synset}."""
  if not path:
    return {}
  data = read_json(path)
  if not isinstance(data, dict):
    raise DataError(path, "expected a JSON object mapping strings to synsets")
  return {str(k).strip().lower(): v for k, v in data.items() if isinstance(v, str)}
