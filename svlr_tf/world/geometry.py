"""The world's geometry files: boxes/{vqa,genome}.jsonl (docs/architecture.md
"Region boxes"), vqa/<split>_grounding.jsonl (the object each question asks
about) and the pictures images/<image_id>.png."""

from __future__ import annotations

import json
import os
import time
from typing import Dict, List

from svlr_tf.runtime.files import atomic_path
from svlr_tf.world import layout, picture
from svlr_tf.world.classes import Classes
from svlr_tf.world.images import VQAImage
from svlr_tf.world.simulate import World, progress


def picture_file(image_id: int) -> str:
  """Path of an image's picture, relative to the data dir."""
  return f"images/{image_id}.png"


def _region_entry(lay: layout.Layout, r: int, classes: Classes,
                  object_classes: List[int], object_attributes: List[List[int]]) -> Dict:
  own, partner = int(lay.region_objects[r]), int(lay.region_partners[r])
  entry = {"shows": lay.shows(r), "object": own if own >= 0 else None,
           "mixed_with": partner if partner >= 0 else None,
           "mix": round(float(lay.region_mixes[r]), 3)}
  if own >= 0:
    entry["class"] = classes.objects[object_classes[own]]
    entry["attributes"] = [classes.attributes[t] for t in object_attributes[own]]
  return entry


def boxes_line(image_id: int, lay: layout.Layout, classes: Classes,
               object_classes: List[int], object_attributes: List[List[int]]) -> Dict:
  """One line of boxes/{vqa,genome}.jsonl (docs/architecture.md "Region boxes")."""
  return {
      "image_id": int(image_id), "file": picture_file(image_id),
      "width": int(lay.width), "height": int(lay.height),
      "boxes": [[float(v) for v in b] for b in lay.region_boxes],
      "objects": [{"class": classes.objects[c],
                   "attributes": [classes.attributes[t] for t in a],
                   "box": [float(v) for v in b]}
                  for c, a, b in zip(object_classes, object_attributes, lay.object_boxes)],
      "regions": [_region_entry(lay, r, classes, object_classes, object_attributes)
                  for r in range(len(lay.region_boxes))]}


def _image_objects(img) -> tuple:
  """(classes, true attributes) of an image's object instances."""
  if isinstance(img, VQAImage):
    return ([i.cls for i in img.instances], [list(i.attributes) for i in img.instances])
  return list(img.classes), [list(a) for a in img.true_attributes]


def write_geometry(world: World, data_dir: str, pictures: bool = True,
                   verbose: bool = False) -> None:
  """boxes/vqa.jsonl, boxes/genome.jsonl, vqa/<split>_grounding.jsonl and
  images/<image_id>.png."""
  classes = world.classes
  colors = [a for a, g in zip(classes.attributes, classes.attribute_groups) if g == "color"]
  t0 = time.time()
  if pictures:
    os.makedirs(os.path.join(data_dir, "images"), exist_ok=True)
  groups = {"vqa": [img for s in ("train", "heldout", "test") for img in world.vqa[s]],
            "genome": sorted((img for imgs in world.genome.values() for img in imgs),
                             key=lambda g: g.image_id)}
  for split in ("train", "heldout", "test"):
    path = os.path.join(data_dir, "vqa", f"{split}_grounding.jsonl")
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
      for line in grounding_records(world.vqa[split], classes):
        f.write(json.dumps(line) + "\n")
  for name, images in groups.items():
    path = os.path.join(data_dir, "boxes", f"{name}.jsonl")
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
      for img in images:
        object_classes, object_attributes = _image_objects(img)
        line = boxes_line(img.image_id, img.layout, classes, object_classes,
                          object_attributes)
        f.write(json.dumps(line) + "\n")
        if pictures:
          array = picture.draw_layout(
              line["width"], line["height"], img.layout.object_boxes,
              [o["class"] for o in line["objects"]],
              [o["attributes"] for o in line["objects"]], colors, img.image_id)
          picture.save_picture(array, os.path.join(data_dir, picture_file(img.image_id)))
  progress(f"wrote boxes{' and pictures' if pictures else ''} "
           f"({time.time() - t0:.1f}s)", verbose)


def grounding_records(images: List[VQAImage],
                      classes: Classes) -> List[Dict]:
  """vqa/<split>_grounding.jsonl: the object each question asks about.

  One line per question: {"question_id", "image_id", "template", "asks_about":
  class name or null (about no object of the image, e.g. "is there a X" with X
  absent), "objects": indices into the boxes line's "objects" of that class (all
  its instances)}.
  """
  out = []
  for img in images:
    for k, q in enumerate(img.questions):
      name = q["asks_about"]
      objects = [i for i, inst in enumerate(img.instances)
                 if name is not None and classes.objects[inst.cls] == name]
      out.append({"question_id": img.image_id * 10 + k, "image_id": img.image_id,
                  "template": q["template"], "asks_about": name, "objects": objects})
  return out
