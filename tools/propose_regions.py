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
import time
from typing import Iterable, List, Optional, Tuple

import cv2
import numpy as np
from absl import flags, logging

from svlr_tf.runtime.errors import DataError
from tools._common import (BadImages, Progress, clip_boxes, list_images, read_image,
                           run_main)

FLAGS = flags.FLAGS


class EdgeBoxProposer:
  """Edge Boxes (Zitnick & Dollar, ECCV 2014) via OpenCV contrib.

  Args:
    max_boxes: proposals returned per image.
    edge_model: path of the structured-edge model; None uses Sobel edges.

  Sobel fallback (no model): the gradient magnitude is thinned by non-maximum
  suppression along the gradient (Edge Boxes expects thin edges, as the
  structured detector's ``edgesNms`` gives; thick Sobel edges made it ~25 s
  per 640 x 480 picture), computed on the picture downscaled to
  ``SOBEL_MAX_SIDE`` pixels on its longer side, with a coarser sliding-window
  step (``SOBEL_ALPHA``); boxes are scaled back to the picture.
  ``detector`` names the edge detector in use.
  """

  SOBEL_MAX_SIDE = 320
  SOBEL_ALPHA = 0.6  # Edge Boxes' step IoU (OpenCV default 0.65): fewer candidates

  def __init__(self, max_boxes: int = 100, edge_model: Optional[str] = None):
    self.max_boxes = max_boxes
    self.edge_model = edge_model
    self._detector = None
    if edge_model:
      if not os.path.isfile(edge_model):
        raise DataError(edge_model, "structured-edge model file not found")
      try:
        self._detector = cv2.ximgproc.createStructuredEdgeDetection(edge_model)
      except cv2.error as err:
        problem = " ".join(str(err).split())
        raise DataError(edge_model, f"cannot load the edge model ({problem})") from None
      self.detector = f"structured edges ({edge_model})"
    else:
      self.detector = f"Sobel edges + NMS at <= {self.SOBEL_MAX_SIDE} px"

  def _edge_boxes(self, scale: float):
    edge_boxes = cv2.ximgproc.createEdgeBoxes()
    edge_boxes.setMaxBoxes(self.max_boxes)
    if self._detector is None:
      edge_boxes.setAlpha(self.SOBEL_ALPHA)
      edge_boxes.setMinBoxArea(edge_boxes.getMinBoxArea() * scale * scale)
    return edge_boxes

  def edges(self, image_bgr: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Returns (edge magnitude [H, W] float32 in [0, 1], orientation [H, W])."""
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    if self._detector is not None:
      magnitude = self._detector.detectEdges(rgb)
      orientation = self._detector.computeOrientation(magnitude)
      magnitude = self._detector.edgesNms(magnitude, orientation)
      return magnitude, orientation
    return sobel_edges(rgb)

  def propose(self, image_bgr: np.ndarray) -> List[List[int]]:
    """Returns up to max_boxes [x, y, w, h] boxes, clipped, best first."""
    height, width = image_bgr.shape[:2]
    scale = 1.0
    small = image_bgr
    if self._detector is None and max(height, width) > self.SOBEL_MAX_SIDE:
      scale = self.SOBEL_MAX_SIDE / max(height, width)
      small = cv2.resize(image_bgr, (max(1, round(width * scale)),
                                     max(1, round(height * scale))),
                         interpolation=cv2.INTER_AREA)
    magnitude, orientation = self.edges(small)
    found = self._edge_boxes(scale).getBoundingBoxes(magnitude, orientation)
    boxes = np.asarray(found[0] if isinstance(found, tuple) else found,
                       np.float64).reshape(-1, 4) / scale
    return clip_boxes(boxes, width, height)[:self.max_boxes]


def sobel_edges(rgb: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """Thin Sobel edges of an RGB float image: (magnitude in [0, 1], orientation).

  Orientation is the gradient angle mod pi; the magnitude keeps only the local
  maxima along the gradient (4 directions), like an edge NMS.
  """
  gray = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (3, 3), 0)
  gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
  gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
  magnitude = np.sqrt(gx * gx + gy * gy)
  magnitude /= max(float(magnitude.max()), 1e-6)
  orientation = np.mod(np.arctan2(gy, gx), np.pi).astype(np.float32)
  direction = np.round(orientation / (np.pi / 4)).astype(np.int8) % 4
  height, width = magnitude.shape
  padded = np.pad(magnitude, 1)
  keep = np.zeros(magnitude.shape, bool)
  # Neighbours along the gradient: 0 = horizontal, 1 = diagonal, 2 = vertical, 3 = anti.
  for d, (dy, dx) in enumerate(((0, 1), (1, 1), (1, 0), (1, -1))):
    ahead = padded[1 + dy:1 + dy + height, 1 + dx:1 + dx + width]
    behind = padded[1 - dy:1 - dy + height, 1 - dx:1 - dx + width]
    keep |= (direction == d) & (magnitude >= ahead) & (magnitude >= behind)
  return np.where(keep, magnitude, 0).astype(np.float32), orientation


_PROPOSERS = {}


def propose(image, max_boxes: int = 100, edge_model: Optional[str] = None,
            pad_mode: Optional[str] = None) -> List[List[int]]:
  """Edge Boxes of one picture: [[x, y, w, h], ...] pixels, best first.

  ``image``: a picture file path or a BGR uint8 array [H, W, 3] (a truncated or
  corrupt file raises DataError). ``pad_mode`` "mask" / "repeat" pads as the
  boxes files are (see :func:`pad_boxes`); None returns the proposals only.
  The proposer of each (max_boxes, edge_model) is built once per process.
  """
  if isinstance(image, (str, os.PathLike)):
    image = read_image(os.fspath(image))
  key = (max_boxes, edge_model)
  if key not in _PROPOSERS:
    _PROPOSERS[key] = EdgeBoxProposer(max_boxes, edge_model)
  boxes = _PROPOSERS[key].propose(image)
  if pad_mode:
    boxes = pad_boxes(boxes, image.shape[1], image.shape[0], max_boxes, pad_mode)
  return boxes


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
                    pad_mode: str = "mask", skip_bad_images: bool = False) -> int:
  """Writes the boxes file for (image_id, path) pairs; returns images written.

  A truncated or corrupt picture is a DataError naming it; with
  ``skip_bad_images`` it is left out and listed in ``<out>.bad_images.tsv``.
  Logs the edge detector and the measured seconds per image.
  """
  if os.path.exists(out):
    logging.info("%s exists; nothing to do", out)
    return 0
  image_paths = sorted(image_paths)
  partial = out + ".partial"
  skip = done_ids(partial)
  todo = [(i, p) for i, p in image_paths if i not in skip]
  logging.info("%d images, %d already done", len(image_paths), len(image_paths) - len(todo))
  proposer = EdgeBoxProposer(max_boxes, edge_model)
  logging.info("Edge Boxes on %s%s", proposer.detector, "" if edge_model else (
      " (no --edge_model: not the paper's structured edges; python -m "
      "tools.download --items edge_model fetches model.yml.gz)"))
  progress = Progress("propose_regions", total=len(todo), unit="images")
  bad = BadImages(out + ".bad_images.tsv", skip_bad_images)
  short, seconds, done = 0, 0.0, 0
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  with open(partial, "a", encoding="utf-8") as f:
    for image_id, path in todo:
      try:
        image = read_image(path)
      except DataError as err:
        bad.handle(err)
        continue
      height, width = image.shape[:2]
      start = time.perf_counter()
      boxes = proposer.propose(image)
      seconds += time.perf_counter() - start
      done += 1
      short += len(boxes) < max_boxes
      boxes = pad_boxes(boxes, width, height, max_boxes, pad_mode)
      f.write(json.dumps({"image_id": image_id, "file": path, "width": width,
                          "height": height, "boxes": boxes}) + "\n")
      f.flush()
      progress.update()
      if done in (1, 10, 100) or done % 1000 == 0:
        logging.info("Edge Boxes (%s): %.3f s/image over %d images", proposer.detector,
                     seconds / done, done)
  progress.done()
  if done:
    logging.info("Edge Boxes (%s): %.3f s/image over %d images (decoding excluded)",
                 proposer.detector, seconds / done, done)
  if short:
    logging.info("%d images had fewer than %d proposals (padded: %s)", short,
                 max_boxes, pad_mode)
  bad.write()
  os.replace(partial, out)
  return done


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
                  FLAGS.max_boxes, FLAGS.edge_model, FLAGS.pad_mode,
                  FLAGS.skip_bad_images)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_list("image_dirs", None, "Directories of images (searched recursively).")
  flags.DEFINE_string("out", None, "Output boxes file (JSON lines).")
  flags.DEFINE_integer("max_boxes", 100, "Proposals per image (paper: 100).")
  flags.DEFINE_string("edge_model", None,
                      "Structured-edge model file (model.yml.gz); Sobel edges if unset.")
  flags.DEFINE_enum("pad_mode", "mask", ["mask", "repeat"],
                    "What to do with fewer than --max_boxes proposals (see module doc).")
  flags.DEFINE_boolean("skip_bad_images", False,
                       "Leave truncated / corrupt pictures out (listed in "
                       "<out>.bad_images.tsv) instead of stopping with an error.")
  flags.DEFINE_integer("shard", 0, "This worker's shard index.")
  flags.DEFINE_integer("num_shards", 1, "Number of workers sharing the images.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
