r"""ResNet region features into a feature store (Sec. 3.1, Sec. 4).

Each region is cropped from its image, resized to 224 x 224 and passed through
ResNet-50 pretrained on ImageNet (ResNet-152 with ``--backbone resnet152``,
Table 3); the 2048-d average-pooled output (``include_top=False,
pooling="avg"``, the matching ``preprocess_input``) is the region's feature.

    # VQA: 100 Edge Boxes proposals per image, padded store rows
    python -m tools.extract_features --boxes prepared/boxes/vqa.jsonl \
        --out prepared/features/vqa --rows_per_image 100
    # Genome: the annotated boxes written by tools.prepare_genome
    python -m tools.extract_features --boxes prepared/boxes/genome.jsonl \
        --out prepared/features/genome

``--boxes`` takes boxes files (globs allowed) whose lines are ``{"image_id",
"file", "boxes": [[x, y, w, h], ...]}`` (pixels); a relative or missing ``file``
is looked up in ``--image_dirs``.

Restart: images are written in chunks of ``--chunk_images``; each finished chunk
is committed to the store (``FeatureStoreWriter(append=True)``), and a restart
skips the images the store already holds (the store index is the progress file).

Many machines: ``--shard i --num_shards n`` takes every n-th image (sorted by id)
and writes the store ``<out>.part-0000i-of-0000n``; ``python -m
tools.merge_features --out <out>`` then concatenates the parts into ``<out>``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import glob
import os
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from absl import flags, logging

from svlr_tf.data.feature_store import FeatureStore, FeatureStoreWriter
from svlr_tf.runtime.errors import DataError
from tools._common import (BadImages, Progress, clip_boxes, list_images,
                           read_image, read_jsonl, run_main)

FLAGS = flags.FLAGS

BACKBONES = ("resnet50", "resnet152")


def part_path(out: str, shard: int, num_shards: int) -> str:
  """The store a shard writes: ``out`` itself when there is one shard."""
  return out if num_shards == 1 else f"{out}.part-{shard:05d}-of-{num_shards:05d}"


def build_backbone(backbone: str = "resnet50", weights: Optional[str] = "imagenet",
                   crop_size: int = 224, seed: int = 0):
  """ResNet trunk with global average pooling: [n, s, s, 3] -> [n, 2048].

  ``weights``: "imagenet" (keras.applications downloads them once into
  ``~/.keras/models``; offline that is a one-line DataError saying what to do),
  a local ``.h5`` weights file (e.g. that cached file copied from another
  machine), or "none": random weights drawn with ``seed`` (the same features on
  every run; for tests and trials only).
  """
  import keras  # heavy import kept local: --help stays fast
  if backbone not in BACKBONES:
    raise DataError(None, f"unknown backbone {backbone!r}; expected {BACKBONES}")
  if weights in (None, "none", "None"):
    weights = None
    keras.utils.set_random_seed(seed)
  elif weights != "imagenet" and not os.path.isfile(weights):
    raise DataError(weights, "weights file not found")
  constructor = {"resnet50": keras.applications.ResNet50,
                 "resnet152": keras.applications.ResNet152}[backbone]
  try:
    return constructor(include_top=False, weights=weights, pooling="avg",
                       input_shape=(crop_size, crop_size, 3))
  except Exception as err:  # keras raises a bare Exception on a failed fetch
    message = " ".join(str(err).split())
    if weights == "imagenet" and ("URL fetch failure" in message
                                  or isinstance(err, OSError)):
      raise DataError(f"keras.applications {backbone}", "could not download the "
                      "ImageNet weights (offline?); pass --weights PATH.h5 with the "
                      f"file {backbone}_weights_tf_dim_ordering_tf_kernels_notop.h5 "
                      "(from ~/.keras/models/ of a machine with network), or "
                      "--weights none for random (seeded) features") from None
    if weights not in (None, "imagenet"):
      raise DataError(weights, f"cannot load these weights into {backbone} "
                      f"({message[:200]})") from None
    raise


def crop_regions(image_bgr: np.ndarray, boxes: Sequence[Sequence[float]],
                 crop_size: int = 224) -> np.ndarray:
  """Crops [x, y, w, h] boxes and resizes them: uint8 [n, s, s, 3] RGB.

  Boxes are clipped to the image first; a box with no area left becomes the
  whole image (the box files hold only boxes of positive area, so this guards
  against rounding only).
  """
  height, width = image_bgr.shape[:2]
  rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
  crops = np.empty((len(boxes), crop_size, crop_size, 3), np.uint8)
  for i, box in enumerate(boxes):
    clipped = clip_boxes(np.asarray(box, np.float64), width, height)
    x, y, w, h = clipped[0] if clipped else (0, 0, width, height)
    crops[i] = cv2.resize(rgb[y:y + h, x:x + w], (crop_size, crop_size),
                          interpolation=cv2.INTER_LINEAR)
  return crops


class RegionFeatureExtractor:
  """Batched ResNet features of region crops.

  Args:
    backbone: "resnet50" (paper) or "resnet152" (Table 3).
    weights: "imagenet", None / "none" (random, seeded by ``seed``; for tests)
      or a weights file.
    batch_size: crops per forward pass.
    crop_size: crop side (paper: 224).
  """

  def __init__(self, backbone: str = "resnet50", weights: Optional[str] = "imagenet",
               batch_size: int = 128, crop_size: int = 224, seed: int = 0):
    from svlr_tf.runtime.startup import import_tensorflow
    tf = import_tensorflow()  # its C++ start-up log hidden
    from keras.applications import resnet
    self.batch_size = batch_size
    self.crop_size = crop_size
    self.model = build_backbone(backbone, weights, crop_size, seed)
    self.dim = int(self.model.output.shape[-1])
    self._preprocess = resnet.preprocess_input  # same for ResNet-50 and -152
    model = self.model

    @tf.function(input_signature=[
        tf.TensorSpec([None, crop_size, crop_size, 3], tf.float32)])
    def forward(x):
      return model(x, training=False)

    self._forward = forward

  def __call__(self, crops: np.ndarray) -> np.ndarray:
    """[n, s, s, 3] RGB 0..255 (uint8 or float) -> float32 [n, dim]."""
    out = np.empty((len(crops), self.dim), np.float32)
    for a in range(0, len(crops), self.batch_size):
      batch = self._preprocess(np.array(crops[a:a + self.batch_size], np.float32))
      out[a:a + len(batch)] = self._forward(batch).numpy()
    return out


_EXTRACTORS = {}


def extract(image, boxes: Sequence[Sequence[float]],
            extractor="resnet50", weights: Optional[str] = "imagenet") -> np.ndarray:
  """Region features of one picture: float32 [len(boxes), dim].

  ``image``: a picture file path or a BGR uint8 array [H, W, 3]; ``boxes``:
  [x, y, w, h] pixels; ``extractor``: a :class:`RegionFeatureExtractor` (or
  any callable on crops with ``crop_size`` / ``dim``), or a backbone name
  ("resnet50", "resnet152") whose extractor with ``weights`` is built once
  per process.
  """
  if isinstance(image, (str, os.PathLike)):
    image = read_image(os.fspath(image))
  if isinstance(extractor, str):
    key = (extractor, weights)
    if key not in _EXTRACTORS:
      _EXTRACTORS[key] = RegionFeatureExtractor(extractor, weights)
    extractor = _EXTRACTORS[key]
  if len(boxes) == 0:
    return np.zeros((0, extractor.dim), np.float32)
  return np.asarray(extractor(crop_regions(image, boxes, extractor.crop_size)),
                    np.float32)


def read_boxes(patterns: Iterable[str],
               image_dirs: Sequence[str] = ()) -> List[Tuple[int, str, list]]:
  """Reads boxes files: sorted [(image_id, image path, boxes)], one per image."""
  paths = []
  for pattern in patterns:
    matched = sorted(glob.glob(pattern))
    if not matched:
      raise DataError(pattern, "boxes file not found")
    paths.extend(p for p in matched if not p.endswith(".partial"))
  by_id = None
  records: Dict[int, Tuple[int, str, list]] = {}
  for path in paths:
    for number, row in enumerate(read_jsonl(path), 1):
      if not isinstance(row, dict) or "image_id" not in row or "boxes" not in row:
        raise DataError(path, f"line {number}: needs 'image_id' and 'boxes'")
      image_id = int(row["image_id"])
      boxes = row["boxes"]
      if not isinstance(boxes, list) or any(
          not isinstance(b, list) or len(b) != 4 for b in boxes):
        raise DataError(path, f"line {number}: 'boxes' must be a list of [x, y, w, h]")
      if image_id in records:
        raise DataError(path, f"line {number}: image {image_id} appears twice")
      file = row.get("file")
      if not file or not os.path.isfile(file):
        found = None
        for directory in image_dirs:
          candidate = os.path.join(directory, file) if file else None
          if candidate and os.path.isfile(candidate):
            found = candidate
            break
        if found is None:
          if by_id is None:
            by_id = list_images(image_dirs) if image_dirs else {}
          found = by_id.get(image_id)
        if found is None:
          raise DataError(path, f"line {number}: image {image_id} not found "
                          f"({file!r}; --image_dirs {list(image_dirs)})")
        file = found
      records[image_id] = (image_id, file, boxes)
  return [records[i] for i in sorted(records)]


def _drop_stale_temp_shards(store: str) -> None:
  """Removes temporary shards a killed run left (this worker owns the store)."""
  if os.path.isdir(store):
    for name in os.listdir(store):
      if name.startswith(".shard-") and ".tmp" in name:
        os.remove(os.path.join(store, name))


def extract_features(records: Sequence[Tuple[int, str, list]], out: str,
                     rows_per_image: Optional[int], extractor=None,
                     chunk_images: int = 500, workers: int = 4,
                     skip_bad_images: bool = False, **extractor_kwargs) -> int:
  """Writes region features of (image_id, path, boxes) records into a store.

  Images already in the store are skipped; returns the number of images added.
  A truncated or corrupt picture is a DataError naming it; with
  ``skip_bad_images`` it is left out and listed in ``<out>.bad_images.tsv``.
  """
  done = set()
  with_boxes = True
  if os.path.exists(os.path.join(out, "index.npz")):
    store = FeatureStore(out)
    done = set(int(i) for i in store.image_ids)
    with_boxes = store.has_boxes  # a store from before boxes: keep appending without
    if rows_per_image != store.rows_per_image:
      raise DataError(out, f"existing store has rows_per_image="
                      f"{store.rows_per_image}, asked for {rows_per_image}")
  todo = [r for r in records if r[0] not in done]
  logging.info("%s: %d images, %d already in the store", out, len(records),
               len(records) - len(todo))
  if not todo:
    return 0
  for image_id, _, boxes in todo:
    if rows_per_image is not None and len(boxes) > rows_per_image:
      raise DataError(out, f"image {image_id} has {len(boxes)} boxes > "
                      f"--rows_per_image {rows_per_image}")
  extractor = extractor or RegionFeatureExtractor(**extractor_kwargs)
  crop_size = extractor.crop_size
  progress = Progress("extract_features", total=len(todo), unit="images")

  bad = BadImages(out.rstrip("/") + ".bad_images.tsv", skip_bad_images)

  def load(record):
    image_id, path, boxes = record
    try:
      image = read_image(path)
    except DataError as err:
      return err
    return (image_id, crop_regions(image, boxes, crop_size), boxes,
            (image.shape[1], image.shape[0]))

  _drop_stale_temp_shards(out)
  start = time.perf_counter()
  with concurrent.futures.ThreadPoolExecutor(max(1, workers)) as pool:
    for a in range(0, len(todo), chunk_images):
      chunk = todo[a:a + chunk_images]
      with FeatureStoreWriter(out, extractor.dim, rows_per_image, append=True,
                              with_boxes=with_boxes) as writer:
        pending: List[tuple] = []  # (image_id, number of crops, boxes, size)
        crops: List[np.ndarray] = []
        for loaded in _bounded_map(pool, load, chunk, 2 * workers + 2):
          if isinstance(loaded, DataError):
            bad.handle(loaded)
            progress.update()
            continue
          image_id, image_crops, boxes, size = loaded
          pending.append((image_id, len(image_crops),
                          boxes if with_boxes else None, size))
          crops.append(image_crops)
          if sum(p[1] for p in pending) >= extractor.batch_size:
            _flush(writer, extractor, pending, crops, progress)
        _flush(writer, extractor, pending, crops, progress)
  progress.done()
  seconds = time.perf_counter() - start
  logging.info("%s: %.3f s/image over %d images (%s, decoding + cropping + CNN, "
               "%d workers)", out, seconds / len(todo), len(todo),
               type(extractor).__name__, workers)
  bad.write()
  return len(todo) - len(bad.items)


def _bounded_map(pool, fn, items, ahead: int):
  """Like ``pool.map`` but with at most ``ahead`` results in flight (memory)."""
  pending = collections.deque()
  for item in items:
    pending.append(pool.submit(fn, item))
    if len(pending) >= ahead:
      yield pending.popleft().result()
  while pending:
    yield pending.popleft().result()


def _flush(writer, extractor, pending, crops, progress) -> None:
  """Runs the CNN on the buffered crops and adds each image's rows."""
  if not pending:
    return
  features = extractor(np.concatenate(crops)) if any(p[1] for p in pending) else (
      np.zeros((0, extractor.dim), np.float32))
  start = 0
  for image_id, n, boxes, size in pending:
    if boxes is None:
      writer.add(image_id, features[start:start + n])
    else:
      writer.add(image_id, features[start:start + n], boxes, image_size=size)
    start += n
  progress.update(len(pending))
  pending.clear()
  crops.clear()


def main(argv):
  del argv
  if not FLAGS.boxes or not FLAGS.out:
    raise DataError(None, "--boxes and --out are required")
  if not 0 <= FLAGS.shard < FLAGS.num_shards:
    raise DataError(None, f"--shard {FLAGS.shard} not in [0, {FLAGS.num_shards})")
  records = read_boxes(FLAGS.boxes, FLAGS.image_dirs)
  mine = records[FLAGS.shard::FLAGS.num_shards]
  extract_features(mine, part_path(FLAGS.out, FLAGS.shard, FLAGS.num_shards),
                   FLAGS.rows_per_image, chunk_images=FLAGS.chunk_images,
                   workers=FLAGS.workers, skip_bad_images=FLAGS.skip_bad_images, backbone=FLAGS.backbone,
                   weights=FLAGS.weights, batch_size=FLAGS.batch_size,
                   crop_size=FLAGS.crop_size)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_list("boxes", None, "Boxes files (JSON lines; globs allowed).")
  flags.DEFINE_list("image_dirs", [], "Where to look up images by file name / id.")
  flags.DEFINE_string("out", None, "Feature store directory to write.")
  flags.DEFINE_integer("rows_per_image", None,
                       "Pad every image to K rows (100 for VQA proposals); unset "
                       "for the Genome store (one row per annotated region).")
  flags.DEFINE_enum("backbone", "resnet50", ["resnet50", "resnet152"], "CNN.")
  flags.DEFINE_string("weights", "imagenet",
                      "keras.applications weights: 'imagenet' (downloaded once "
                      "into ~/.keras/models), a local .h5 file, or 'none' (random, "
                      "seeded: tests and trials only).")
  flags.DEFINE_boolean("skip_bad_images", False,
                       "Leave truncated / corrupt pictures out (listed in "
                       "<out>.bad_images.tsv) instead of stopping with an error.")
  flags.DEFINE_integer("batch_size", 128, "Crops per forward pass.")
  flags.DEFINE_integer("crop_size", 224, "Side of the resized crops (paper: 224).")
  flags.DEFINE_integer("chunk_images", 500, "Images per committed chunk.")
  flags.DEFINE_integer("workers", 4, "Threads decoding and cropping images.")
  flags.DEFINE_integer("shard", 0, "This worker's shard index.")
  flags.DEFINE_integer("num_shards", 1, "Number of workers sharing the images.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
