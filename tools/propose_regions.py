r"""Edge Boxes region proposals for the VQA images (Sec. 3.3: "the image is first
broken down into Edge Box region proposals"; Sec. 4: 100 proposals per image).

    python -m tools.propose_regions --image_dirs raw/train2014,raw/val2014 \
        --out prepared/boxes/vqa.jsonl [--edge_model model.yml.gz]

Edges: with ``--edge_model`` (the structured-edge forest ``model.yml.gz`` of
opencv_extra / Dollar & Zitnick) the paper's Edge Boxes run on structured edges
(``cv2.ximgproc.createStructuredEdgeDetection``, orientation + NMS). Without it a
Sobel gradient magnitude and orientation stand in (the log says which); boxes are
then less good, which is fine for tests and quick trials but not for the paper.

Output: one JSON line per image,
``{"image_id": int, "file": path, "width": W, "height": H, "boxes": [[x, y, w, h], ...]}``
in pixels, clipped to the image, best first. Edge Boxes may return fewer than
``--max_boxes`` boxes. ``--pad_mode mask`` (default) then appends the whole-image
box (once) and leaves the rest to the feature store, whose padded rows are masked
out (``count`` = the valid boxes). ``--pad_mode repeat`` fills the list to exactly
``--max_boxes`` by appending the whole-image box and cycling the found boxes.

Resumable: lines go to ``<out>.partial`` as images finish; a restart skips the
images already there; the finished file is renamed to ``<out>``.
``--shard i --num_shards n`` takes every n-th image (sorted by id) and writes
``<out>-0000i-of-0000n``; ``tools.extract_features --boxes`` accepts all of them.
"""

from __future__ import annotations

import json
import os
from typing import Iterable, List, Optional, Tuple

import cv2
import numpy as np
from absl import flags, logging

from svlr_tf.errors import DataError
from tools._common import Progress, clip_boxes, list_images, read_image, run_main

FLAGS = flags.FLAGS


class EdgeBoxProposer:
  """Edge Boxes (Zitnick & Dollar, ECCV 2014) via OpenCV contrib.

  Args:
    max_boxes: proposals returned per image.
    edge_model: path of the structured-edge model; None uses Sobel edges.
  """

  def __init__(self, max_boxes: int = 100, edge_model: Optional[str] = None):
    self.max_boxes = max_boxes
    self.edge_model = edge_model
    self._edge_boxes = cv2.ximgproc.createEdgeBoxes()
    self._edge_boxes.setMaxBoxes(max_boxes)
    self._detector = None
    if edge_model:
      if not os.path.isfile(edge_model):
        raise DataError(edge_model, "structured-edge model file not found")
      try:
        self._detector = cv2.ximgproc.createStructuredEdgeDetection(edge_model)
      except cv2.error as err:
        raise DataError(edge_model, f"cannot load the edge model ({err})") from None
      logging.info("Edge Boxes on structured edges from %s", edge_model)
    else:
      logging.info("Edge Boxes on Sobel edges (no --edge_model given; not the "
                   "paper's structured edges)")

  def edges(self, image_bgr: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Returns (edge magnitude [H, W] float32 in [0, 1], orientation [H, W])."""
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    if self._detector is not None:
      magnitude = self._detector.detectEdges(rgb)
      orientation = self._detector.computeOrientation(magnitude)
      magnitude = self._detector.edgesNms(magnitude, orientation)
      return magnitude, orientation
    gray = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (3, 3), 0)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.sqrt(gx * gx + gy * gy)
    magnitude /= max(float(magnitude.max()), 1e-6)
    orientation = np.mod(np.arctan2(gy, gx), np.pi).astype(np.float32)
    return magnitude.astype(np.float32), orientation

  def propose(self, image_bgr: np.ndarray) -> List[List[int]]:
    """Returns up to max_boxes [x, y, w, h] boxes, clipped, best first."""
    height, width = image_bgr.shape[:2]
    magnitude, orientation = self.edges(image_bgr)
    found = self._edge_boxes.getBoundingBoxes(magnitude, orientation)
    boxes = found[0] if isinstance(found, tuple) else found
    return clip_boxes(np.asarray(boxes).reshape(-1, 4), width, height)[:self.max_boxes]


def pad_boxes(boxes: List[List[int]], width: int, height: int, max_boxes: int,
              pad_mode: str) -> List[List[int]]:
  """Adds the whole-image box when short; ``repeat`` cycles to max_boxes."""
  boxes = list(boxes[:max_boxes])
  whole = [0, 0, int(width), int(height)]
  if len(boxes) < max_boxes and whole not in boxes:
    boxes.append(whole)
  if pad_mode == "repeat":
    found = list(boxes)
    while len(boxes) < max_boxes:
      boxes.append(found[len(boxes) % len(found)])
  return boxes


def done_ids(partial: str) -> set:
  """Image ids already in a partial boxes file; drops a torn last line."""
  ids = set()
  if not os.path.exists(partial):
    return ids
  good_bytes = 0
  with open(partial, "rb") as f:
    for line in f:
      try:
        ids.add(int(json.loads(line)["image_id"]))
      except (ValueError, KeyError, TypeError):
        break
      good_bytes += len(line)
  with open(partial, "r+b") as f:
    f.truncate(good_bytes)
  return ids


def shard_path(out: str, shard: int, num_shards: int) -> str:
  return out if num_shards == 1 else f"{out}-{shard:05d}-of-{num_shards:05d}"


def propose_regions(image_paths: Iterable[Tuple[int, str]], out: str,
                    max_boxes: int = 100, edge_model: Optional[str] = None,
                    pad_mode: str = "mask") -> int:
  """Writes the boxes file for (image_id, path) pairs; returns images written."""
  if os.path.exists(out):
    logging.info("%s exists; nothing to do", out)
    return 0
  image_paths = sorted(image_paths)
  partial = out + ".partial"
  skip = done_ids(partial)
  todo = [(i, p) for i, p in image_paths if i not in skip]
  logging.info("%d images, %d already done", len(image_paths), len(image_paths) - len(todo))
  proposer = EdgeBoxProposer(max_boxes, edge_model)
  progress = Progress("propose_regions", total=len(todo), unit="images")
  short = 0
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  with open(partial, "a", encoding="utf-8") as f:
    for image_id, path in todo:
      image = read_image(path)
      height, width = image.shape[:2]
      boxes = proposer.propose(image)
      short += len(boxes) < max_boxes
      boxes = pad_boxes(boxes, width, height, max_boxes, pad_mode)
      f.write(json.dumps({"image_id": image_id, "file": path, "width": width,
                          "height": height, "boxes": boxes}) + "\n")
      f.flush()
      progress.update()
  progress.done()
  if short:
    logging.info("%d images had fewer than %d proposals (padded: %s)", short,
                 max_boxes, pad_mode)
  os.replace(partial, out)
  return len(todo)


def main(argv):
  del argv
  if not FLAGS.image_dirs or not FLAGS.out:
    raise DataError(None, "--image_dirs and --out are required")
  if not 0 <= FLAGS.shard < FLAGS.num_shards:
    raise DataError(None, f"--shard {FLAGS.shard} not in [0, {FLAGS.num_shards})")
  images = sorted(list_images(FLAGS.image_dirs).items())
  if not images:
    raise DataError(",".join(FLAGS.image_dirs), "no images found")
  mine = images[FLAGS.shard::FLAGS.num_shards]
  propose_regions(mine, shard_path(FLAGS.out, FLAGS.shard, FLAGS.num_shards),
                  FLAGS.max_boxes, FLAGS.edge_model, FLAGS.pad_mode)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_list("image_dirs", None, "Directories of images (searched recursively).")
  flags.DEFINE_string("out", None, "Output boxes file (JSON lines).")
  flags.DEFINE_integer("max_boxes", 100, "Proposals per image (paper: 100).")
  flags.DEFINE_string("edge_model", None,
                      "Structured-edge model file (model.yml.gz); Sobel edges if unset.")
  flags.DEFINE_enum("pad_mode", "mask", ["mask", "repeat"],
                    "What to do with fewer than --max_boxes proposals (see module doc).")
  flags.DEFINE_integer("shard", 0, "This worker's shard index.")
  flags.DEFINE_integer("num_shards", 1, "Number of workers sharing the images.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
