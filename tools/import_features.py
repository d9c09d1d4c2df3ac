r"""Imports bottom-up-attention region features (Anderson et al. 2018) into a feature store.

    python -m tools.import_features --tsv 'raw/trainval/*.tsv*' --out prepared/features/vqa
    python -m tools.import_features --hdf5 raw/trainval36.hdf5 --out prepared/features/vqa

Most VQA researchers hold these features already (Faster R-CNN on Visual Genome,
10-100 boxes x 2048 per image). Inputs:

- ``--tsv``: the release's tab-separated files, no header, one image per row:
  ``image_id, image_w, image_h, num_boxes, boxes, features``; ``boxes`` and
  ``features`` are base64 of float32 arrays [num_boxes, 4] (x1, y1, x2, y2,
  pixels) and [num_boxes, D]. Rows are far longer than Python csv's default
  field limit (lines are split on tabs here, no csv quoting). Extra trailing columns (some releases add class
  / attribute ids) are ignored; ``--tsv_fields`` renames the columns.
- ``--hdf5``: the usual conversions of those files: ``image_features`` and
  ``image_bb`` either [N, K, D] / [N, K, 4] (fixed K) or flat [rows, D] /
  [rows, 4] with ``pos_boxes`` [N, 2] (start, end rows of each image; adaptive
  K). Image ids come from an ``image_ids`` / ``image_id`` dataset in the file,
  else from the ``{image_id: index}`` pickle written beside it
  (``<name>_imgid2idx.pkl``, or ``--imgid2idx``; read with an unpickler that
  accepts plain ints and dicts only). ``image_w`` / ``image_h`` datasets are
  used when present.

Output: a feature store (docs/architecture.md) with the boxes, converted to
``[x, y, w, h]``, and the picture sizes; and the boxes file the rest of the
code reads boxes from (``svlr_tf.data.boxes``): ``--boxes_out``, by default
``<data_dir>/boxes/<name>.jsonl`` when ``--out`` is ``<data_dir>/features/<name>``
(``file`` is null: the release does not name the pictures; an HDF5 without
``image_w`` / ``image_h`` gets the boxes' extent as the size). ``--rows_per_image K`` pads every
image to K rows (the padded rows are masked out by the store's count; K defaults
to the largest ``num_boxes`` in the input, found by a first pass over the
input); ``--rows_per_image 0`` keeps a variable number of rows per image. Run
``tools.prepare_vocab`` afterwards: it writes meta.json's feature_dim and
regions_per_image from the stores.

These are not the paper's features (ResNet-50 on Edge Boxes, Sec. 4), and
for the recognition task the Genome store must hold features of the
*annotated* boxes (``tools.extract_features``): with imported VQA features and
ResNet Genome features the two stores are different feature spaces, which
breaks the transfer SVLR is about unless both come from the same extractor
(docs/real_data.md).
"""

from __future__ import annotations

import base64
import binascii
import glob
import io
import json
import os
import pickle
import shutil
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from absl import flags, logging

from svlr_tf.data.feature_store import FeatureStoreWriter
from svlr_tf.runtime.errors import DataError
from tools._common import Progress, run_main

FLAGS = flags.FLAGS
TSV_FIELDS = ("image_id", "image_w", "image_h", "num_boxes", "boxes", "features")
_FLOAT16_MAX = float(np.finfo(np.float16).max)

# One image: (image_id, features float32 [n, D], boxes float32 [n, 4] x, y, w, h,
# (width, height)).
Image = Tuple[int, np.ndarray, np.ndarray, Tuple[int, int]]


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
  """[n, 4] (x1, y1, x2, y2) -> (x, y, w, h)."""
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


# -- TSV -------------------------------------------------------------------------


def _tsv_paths(patterns: Sequence[str]) -> List[str]:
  paths = []
  for pattern in patterns:
    matched = sorted(glob.glob(pattern))
    if not matched:
      raise DataError(pattern, "TSV file not found")
    paths.extend(matched)
  return paths


def _decode(path: str, line: int, field: str, text: str, n: int,
            width: Optional[int]) -> np.ndarray:
  try:
    raw = base64.b64decode(text, validate=True)
  except (binascii.Error, ValueError):
    raise DataError(path, f"line {line}: field {field!r} is not base64 (cut line or "
                    "damaged file?)") from None
  if len(raw) % 4:
    raise DataError(path, f"line {line}: field {field!r} holds {len(raw)} bytes, not "
                    "whole float32 values (cut line?)")
  values = np.frombuffer(raw, np.float32)
  if width is None:  # features: D from the size
    if n == 0 or values.size % n:
      raise DataError(path, f"line {line}: {values.size} feature values do not split "
                      f"into num_boxes={n} rows (cut line or wrong num_boxes?)")
    width = values.size // n
  if values.size != n * width:
    raise DataError(path, f"line {line}: field {field!r} has {values.size} float32 "
                    f"values, expected num_boxes x {width} = {n * width}")
  values = values.reshape(n, width)
  finite = np.isfinite(values)
  if not finite.all():
    raise DataError(path, f"line {line}: field {field!r} holds {int((~finite).sum())} "
                    "NaN or infinite values")
  if field == "features" and np.abs(values).max(initial=0.0) > _FLOAT16_MAX:
    raise DataError(path, f"line {line}: features beyond float16's range "
                    f"(|x| > {_FLOAT16_MAX:g}): the store holds float16")
  return values


def read_tsv(paths: Sequence[str], fields: Sequence[str] = TSV_FIELDS
             ) -> Iterator[Image]:
  """Yields the images of bottom-up-attention TSV files (see module doc).

  Every problem of a line (too few fields, numbers that are not numbers, a
  field cut short or not base64, a wrong box count, NaN or infinite values,
  an image id seen before) is a one-line DataError naming the file and line.
  """
  missing = [f for f in TSV_FIELDS if f not in fields]
  if missing:
    raise DataError(None, f"--tsv_fields lacks {missing}")
  column = {f: fields.index(f) for f in TSV_FIELDS}
  seen: Dict[int, Tuple[str, int]] = {}
  for path in paths:
    with open(path, "r", encoding="ascii", errors="replace", newline="") as f:
      for line, text in enumerate(f, 1):
        values = text.rstrip("\r\n").split("\t")
        if not text.strip():
          continue
        if len(values) < len(fields):
          raise DataError(path, f"line {line}: {len(values)} tab-separated fields, "
                          f"expected {len(fields)} ({', '.join(fields)}; cut line?)")
        get = lambda name: values[column[name]]  # noqa: E731
        try:
          image_id, width, height, n = (int(float(get(k))) for k in (
              "image_id", "image_w", "image_h", "num_boxes"))
        except (ValueError, OverflowError):
          raise DataError(path, f"line {line}: image_id / image_w / image_h / "
                          "num_boxes are not numbers") from None
        if n <= 0:
          raise DataError(path, f"line {line}: image {image_id} has num_boxes={n}")
        if image_id in seen:
          first_path, first_line = seen[image_id]
          where = "" if first_path == path else f"{first_path} "
          raise DataError(path, f"line {line}: image {image_id} again (first at "
                          f"{where}line {first_line})")
        seen[image_id] = (path, line)
        boxes = _decode(path, line, "boxes", get("boxes"), n, 4)
        features = _decode(path, line, "features", get("features"), n, None)
        yield image_id, features, xyxy_to_xywh(boxes), (width, height)


def tsv_max_boxes(paths: Sequence[str], fields: Sequence[str] = TSV_FIELDS) -> int:
  """Largest num_boxes over the TSV files (reads the short leading columns only)."""
  k = fields.index("num_boxes")
  largest = 0
  for path in paths:
    with open(path, "r", encoding="ascii", errors="replace", newline="") as f:
      for line, text in enumerate(f, 1):
        parts = text.split("\t", k + 1)
        if len(parts) <= k:
          continue  # blank or short: read_tsv names the problem
        try:
          largest = max(largest, int(float(parts[k])))
        except (ValueError, OverflowError):
          raise DataError(path, f"line {line}: num_boxes is not a number") from None
  return largest


# -- HDF5 ------------------------------------------------------------------------


class _PlainUnpickler(pickle.Unpickler):
  """Unpickles builtin containers and numbers only (an image id -> index map)."""

  def find_class(self, module, name):
    if module == "builtins" and name in ("dict", "int", "list", "tuple"):
      return getattr(__import__("builtins"), name)
    raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_imgid2idx(path: str) -> Dict[int, int]:
  if not os.path.isfile(path):
    raise DataError(path, "image id -> index pickle not found (the HDF5 has no "
                    "image_ids dataset; pass --imgid2idx)")
  try:
    with open(path, "rb") as f:
      mapping = _PlainUnpickler(io.BytesIO(f.read())).load()
    return {int(k): int(v) for k, v in dict(mapping).items()}
  except Exception as err:  # any unpickling problem of a foreign file
    raise DataError(path, f"not a {{image_id: index}} pickle ({err})") from None


def read_hdf5(path: str, imgid2idx: Optional[str] = None) -> Tuple[int, Iterator[Image]]:
  """(largest boxes per image, images) of a bottom-up-attention HDF5 file."""
  import h5py
  if not os.path.isfile(path):
    raise DataError(path, "HDF5 file not found")
  try:
    h5 = h5py.File(path, "r")
  except OSError as err:
    raise DataError(path, f"not a readable HDF5 file ({err})") from None
  for name in ("image_features", "image_bb"):
    if name not in h5:
      h5.close()
      raise DataError(path, f"no {name!r} dataset (found {sorted(h5.keys())})")
  features, boxes = h5["image_features"], h5["image_bb"]
  if "pos_boxes" in h5:  # adaptive: flat rows, [start, end) per image
    spans = np.asarray(h5["pos_boxes"], np.int64).reshape(-1, 2)
    if features.ndim != 2 or boxes.shape != (features.shape[0], 4):
      raise DataError(path, f"image_features {features.shape} / image_bb {boxes.shape}"
                      " do not match pos_boxes' flat layout")
  else:  # fixed: [N, K, D]
    if features.ndim != 3 or boxes.shape != features.shape[:2] + (4,):
      raise DataError(path, f"image_features {features.shape} / image_bb {boxes.shape}"
                      ": expected [N, K, D] / [N, K, 4] (or flat rows with pos_boxes)")
    k = features.shape[1]
    spans = np.stack([np.arange(features.shape[0]) * k,
                      np.arange(1, features.shape[0] + 1) * k], axis=1)
  n_images = len(spans)
  for name in ("image_ids", "image_id"):
    if name in h5:
      ids = np.asarray(h5[name], np.int64).reshape(-1)
      break
  else:
    default = os.path.splitext(path)[0] + "_imgid2idx.pkl"
    mapping = read_imgid2idx(imgid2idx or default)
    ids = np.full(n_images, -1, np.int64)
    for image_id, index in mapping.items():
      if not 0 <= index < n_images:
        raise DataError(imgid2idx or default, f"index {index} of image {image_id} is "
                        f"outside the HDF5's {n_images} images")
      ids[index] = image_id
  if len(ids) != n_images or np.any(ids < 0):
    raise DataError(path, f"{int(np.sum(ids < 0))} of {n_images} images have no image "
                    f"id ({len(ids)} ids)")
  sizes = None
  if "image_w" in h5 and "image_h" in h5:
    sizes = np.stack([np.asarray(h5["image_w"]), np.asarray(h5["image_h"])], 1)
  largest = int((spans[:, 1] - spans[:, 0]).max()) if n_images else 0

  def images() -> Iterator[Image]:
    try:
      for i in range(n_images):
        a, b = (int(v) for v in spans[i])
        if features.ndim == 3:
          f, bb = features[i], boxes[i]
        else:
          f, bb = features[a:b], boxes[a:b]
        size = (0, 0) if sizes is None else (int(sizes[i, 0]), int(sizes[i, 1]))
        yield (int(ids[i]), np.asarray(f, np.float32),
               xyxy_to_xywh(np.asarray(bb, np.float32)), size)
    finally:
      h5.close()

  return largest, images()


# -- the tool ----------------------------------------------------------------------


def default_boxes_out(out: str) -> Optional[str]:
  """``<data_dir>/boxes/<name>.jsonl`` for ``out`` = ``<data_dir>/features/<name>``."""
  out = os.path.abspath(out)
  features_dir, name = os.path.split(out)
  if os.path.basename(features_dir) != "features":
    return None
  return os.path.join(os.path.dirname(features_dir), "boxes", f"{name}.jsonl")


def _box_line(image_id: int, boxes: np.ndarray, size: Tuple[int, int]) -> dict:
  width, height = size
  if width <= 0 or height <= 0:  # unknown: the boxes' extent
    width = int(np.ceil(max(1.0, float((boxes[:, 0] + boxes[:, 2]).max()))))
    height = int(np.ceil(max(1.0, float((boxes[:, 1] + boxes[:, 3]).max()))))
  return {"image_id": int(image_id), "file": None, "width": int(width),
          "height": int(height),
          "boxes": [[round(float(v), 2) for v in box] for box in boxes]}


class _BoxesFile:
  """The boxes file, written line by line as the images are read (not held in
  memory: ~9 KB an image) to ``.<name>.importing`` beside ``path``; ``commit``
  renames it onto ``path``, ``abort`` removes it and the directory it made."""

  def __init__(self, path: str):
    self.path = os.path.abspath(path)
    directory = os.path.dirname(self.path)
    self.made = None
    if not os.path.isdir(directory):
      self.made = directory
      while not os.path.isdir(os.path.dirname(self.made)):
        self.made = os.path.dirname(self.made)
      os.makedirs(directory)
    self.tmp = os.path.join(directory, "." + os.path.basename(path) + ".importing")
    self.file = open(self.tmp, "w", encoding="utf-8")

  def write(self, record: dict) -> None:
    self.file.write(json.dumps(record, ensure_ascii=False) + "\n")

  def commit(self) -> None:
    self.file.close()
    os.replace(self.tmp, self.path)

  def abort(self) -> None:
    self.file.close()
    if os.path.exists(self.tmp):
      os.remove(self.tmp)
    if self.made:
      shutil.rmtree(self.made, ignore_errors=True)


def import_features(images: Iterator[Image], out: str, rows_per_image: Optional[int],
                    total: Optional[int] = None,
                    boxes_out: Optional[str] = None) -> int:
  """Writes the images into a new store at ``out``; returns the count.

  The store is written beside ``out`` (``<out>.importing``) and renamed onto it
  when complete, so a failed import leaves an existing store as it was; the
  boxes file ``boxes_out`` (JSON lines, svlr_tf.data.boxes) is written to a
  temporary file as the images are read and renamed onto ``boxes_out`` after
  the store (nothing is half-written on failure).
  """
  progress = Progress("import_features", total=total, unit="images")
  tmp = out.rstrip("/") + ".importing"
  if os.path.exists(tmp):
    shutil.rmtree(tmp)
  writer = None
  count = 0
  box_file = None
  try:
    if boxes_out:
      box_file = _BoxesFile(boxes_out)
    for image_id, features, boxes, size in images:
      if writer is None:
        writer = FeatureStoreWriter(tmp, features.shape[1], rows_per_image,
                                    with_boxes=True)
      if rows_per_image and len(features) > rows_per_image:
        raise DataError(out, f"image {image_id} has {len(features)} boxes > "
                        f"--rows_per_image {rows_per_image}")
      writer.add(image_id, features, boxes, image_size=size)
      if box_file:
        box_file.write(_box_line(image_id, boxes, size))
      count += 1
      progress.update()
    if writer is None:
      raise DataError(out, "no images in the input")
    writer.close()
    if os.path.exists(out):
      shutil.rmtree(out)
    os.replace(tmp, out)
  except BaseException:
    if writer is not None:
      writer.abort()
    shutil.rmtree(tmp, ignore_errors=True)
    if box_file:
      box_file.abort()
    raise
  if box_file:
    box_file.commit()
    logging.info("boxes: %s", boxes_out)
  progress.done()
  logging.info("%s: %d images, dim %d, rows_per_image %s, with boxes", out, count,
               writer.dim, rows_per_image)
  return count


def main(argv):
  del argv
  if not FLAGS.out or bool(FLAGS.tsv) == bool(FLAGS.hdf5):
    raise DataError(None, "--out and one of --tsv / --hdf5 are required")
  k = FLAGS.rows_per_image
  if FLAGS.tsv:
    paths = _tsv_paths(FLAGS.tsv)
    fields = tuple(FLAGS.tsv_fields)
    if k is None:
      k = tsv_max_boxes(paths, fields)
      logging.info("largest num_boxes: %d (rows per image)", k)
    images = read_tsv(paths, fields)
  else:
    largest, images = read_hdf5(FLAGS.hdf5, FLAGS.imgid2idx)
    k = largest if k is None else k
  import_features(images, FLAGS.out, k or None,
                  boxes_out=FLAGS.boxes_out or default_boxes_out(FLAGS.out))


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_list("tsv", None, "Bottom-up-attention TSV files (globs allowed).")
  flags.DEFINE_list("tsv_fields", list(TSV_FIELDS),
                    "Column names of the TSV files, in order (extra columns are "
                    "ignored).")
  flags.DEFINE_string("hdf5", None, "An HDF5 conversion of those files.")
  flags.DEFINE_string("imgid2idx", None,
                      "{image_id: index} pickle of the HDF5 (default: "
                      "<hdf5 name>_imgid2idx.pkl), when it has no image_ids dataset.")
  flags.DEFINE_string("out", None, "Feature store directory to write "
                      "(e.g. prepared/features/vqa).")
  flags.DEFINE_string("boxes_out", None,
                      "Boxes file to write (default: <data_dir>/boxes/<name>.jsonl "
                      "when --out is <data_dir>/features/<name>).")
  flags.DEFINE_integer("rows_per_image", None,
                       "Pad every image to K rows (default: the largest number of "
                       "boxes in the input); 0 keeps a variable number of rows.",
                       lower_bound=0)


if __name__ == "__main__":
  define_flags()
  run_main(main)
