"""The on-disk format of a feature store: file names, the index, checked shard maps.

Layout of a store directory::

  <path>/shard-00000.npy   float16 [rows, dim]  (standard .npy, memory-mapped)
  <path>/shard-00001.npy   ...
  <path>/shard-00000.boxes.npy  float32 [rows, 4], optional: the region box of
                           every row ([x, y, w, h] in pixels of the original
                           picture, zeros on padded rows), row-aligned with the
                           features shard
  <path>/index.npz         image_id -> (shard, start_row, count), per-shard rows
                           and crc32; with boxes also ``boxes`` = True and
                           ``image_size`` int32 [n_images, 2] (width, height of the
                           picture, 0 if unknown); written last (its presence
                           commits the store)

Boxes live in the store (not in a side file of their own) so that row r of an
image's features always has its box at row r, whoever wrote the store
(``tools.extract_features``, ``tools.import_features``, the embedded world).

With ``rows_per_image=K`` every image occupies exactly K rows (zero-padded,
``count`` = valid rows), so a shard is also a ``[n_images, K, dim]`` array.
Without it (the Genome store), an image's rows are its annotated regions.

The reader (:class:`svlr_tf.data.feature_store.FeatureStore`) and the writer
(:class:`svlr_tf.data.store_writer.FeatureStoreWriter`) both read the index and
open shards through :func:`read_index` and :func:`open_shard` here, so both
check a store the same way.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from typing import Optional

import numpy as np

from svlr_tf.runtime.errors import DataError

INDEX_NAME = "index.npz"
INDEX_VERSION = 1
SHARD_PATTERN = re.compile(r"^shard-(\d{5,})(\.boxes)?\.npy$")
# Bytes reserved for the .npy header of a shard being streamed to disk: the
# header of a 2-D float16 array is 128 bytes for any realistic shape.
HEADER_BYTES = 128
CRC_CHUNK_BYTES = 64 << 20


def shard_name(index: int) -> str:
  return f"shard-{index:05d}.npy"


def boxes_name(index: int) -> str:
  return f"shard-{index:05d}.boxes.npy"


def npy_header(rows: int, dim: int) -> bytes:
  """The .npy (1.0) header of a C-order float16 [rows, dim] array."""
  buf = io.BytesIO()
  np.lib.format.write_array_header_1_0(
      buf, {"descr": np.dtype(np.float16).str, "fortran_order": False,
            "shape": (int(rows), int(dim))})
  return buf.getvalue()


@dataclasses.dataclass
class StoreIndex:
  """The checked contents of ``index.npz`` (one entry per image, one per shard)."""
  dim: int
  rows_per_image: Optional[int]  # None: a variable number of rows per image
  image_ids: np.ndarray  # int64 [n], in insertion order
  shard: np.ndarray  # int32 [n]
  start: np.ndarray  # int64 [n], first row of the image in its shard
  count: np.ndarray  # int32 [n], valid rows
  shard_rows: np.ndarray  # int64 [shards]
  shard_crc: np.ndarray  # uint32 [shards]
  has_boxes: bool
  image_size: Optional[np.ndarray]  # int32 [n, 2] with boxes, else None


def read_index(store_path: str) -> StoreIndex:
  """Reads and checks a store's index (not its shards).

  Raises:
    DataError naming the directory or the index: no directory, no index
    (incomplete store), unreadable, missing arrays, another version, arrays of
    different lengths, duplicate ids, rows beyond a shard.
  """
  index_path = os.path.join(store_path, INDEX_NAME)
  if not os.path.isdir(store_path):
    raise DataError(store_path, "feature store directory does not exist")
  if not os.path.exists(index_path):
    raise DataError(index_path, "missing feature store index (store incomplete "
                    "or not written)")
  try:
    with np.load(index_path, allow_pickle=False) as z:
      raw = {k: z[k] for k in z.files}
  except Exception as e:  # zipfile / format errors of many kinds
    raise DataError(index_path, f"cannot read index: {e}") from None
  required = ("version", "dim", "rows_per_image", "image_ids", "shard", "start",
              "count", "shard_rows", "shard_crc32")
  missing = [k for k in required if k not in raw]
  if missing:
    raise DataError(index_path, f"index is missing {missing}")
  if int(raw["version"]) != INDEX_VERSION:
    raise DataError(index_path, f"unsupported index version {int(raw['version'])}")
  k = int(raw["rows_per_image"])
  has_boxes = bool(raw.get("boxes", False))
  index = StoreIndex(
      dim=int(raw["dim"]), rows_per_image=None if k < 0 else k,
      image_ids=raw["image_ids"].astype(np.int64),
      shard=raw["shard"].astype(np.int32), start=raw["start"].astype(np.int64),
      count=raw["count"].astype(np.int32),
      shard_rows=raw["shard_rows"].astype(np.int64),
      shard_crc=raw["shard_crc32"].astype(np.uint32), has_boxes=has_boxes,
      image_size=(np.asarray(raw.get("image_size", np.zeros((0, 2))), np.int32)
                  if has_boxes else None))
  n = len(index.image_ids)
  if has_boxes and index.image_size.shape != (n, 2):
    raise DataError(index_path, f"image_size has shape {index.image_size.shape}, "
                    f"expected [{n}, 2]")
  if not (len(index.shard) == len(index.start) == len(index.count) == n):
    raise DataError(index_path, "index arrays have different lengths")
  if len(index.shard_crc) != len(index.shard_rows):
    raise DataError(index_path, "index shard arrays have different lengths")
  if n > 1 and len(np.unique(index.image_ids)) != n:
    raise DataError(index_path, "duplicate image ids in index")
  if n and (index.shard.min() < 0 or index.shard.max() >= len(index.shard_rows)):
    raise DataError(index_path, "index refers to a missing shard")
  width = index.count if index.rows_per_image is None else index.rows_per_image
  if n and np.any(index.start + width > index.shard_rows[index.shard]):
    raise DataError(index_path, "index rows exceed shard sizes")
  return index


def _load_checked(path: str, dtype, shape, missing: str, corrupt: str,
                  found: str) -> np.ndarray:
  """Memory-maps the .npy at ``path`` (a shard or its boxes), checking that it
  exists, parses and has ``dtype`` and ``shape``; each failure one DataError."""
  if not os.path.exists(path):
    raise DataError(path, missing)
  try:
    array = np.load(path, mmap_mode="r", allow_pickle=False)
  except Exception as e:
    raise DataError(path, f"{corrupt}: {e}") from None
  if array.dtype != dtype or array.shape != shape:
    raise DataError(path, f"{found} {array.dtype} {array.shape}, index expects "
                    f"{np.dtype(dtype).name} {shape}")
  return array


def open_shard(store_path: str, index: StoreIndex, i: int) -> np.memmap:
  """The read-only memory map of features shard ``i``, checked against the index
  (present, parses, float16 [shard_rows, dim], no bytes missing or extra)."""
  path = os.path.join(store_path, shard_name(i))
  mm = _load_checked(path, np.float16, (int(index.shard_rows[i]), index.dim),
                     missing="missing shard file",
                     corrupt="corrupt or truncated shard", found="shard is")
  size = os.path.getsize(path)
  if size != mm.offset + mm.nbytes:
    raise DataError(path, f"shard file has {size} bytes, expected "
                    f"{mm.offset + mm.nbytes} (truncated or corrupt)")
  return mm


def open_boxes(store_path: str, index: StoreIndex, i: int) -> np.memmap:
  """The read-only memory map of shard ``i``'s boxes (float32 [shard_rows, 4])."""
  return _load_checked(os.path.join(store_path, boxes_name(i)), np.float32,
                       (int(index.shard_rows[i]), 4),
                       missing="missing boxes file of a store with boxes",
                       corrupt="corrupt or truncated boxes file", found="boxes are")
