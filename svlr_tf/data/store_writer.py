"""Writes a feature store (the format: svlr_tf/data/store_format.py).

Shards are streamed to a temporary name and renamed into place when full; the
index is written last and atomically, so a store is either complete or not
visible at all.
"""

from __future__ import annotations

import os
import zlib
from typing import List, Optional, Tuple

import numpy as np

from svlr_tf.data.store_format import (CRC_CHUNK_BYTES, HEADER_BYTES, INDEX_NAME,
                                       INDEX_VERSION, SHARD_PATTERN, boxes_name,
                                       npy_header, open_boxes, open_shard,
                                       read_index, shard_name)
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_path, atomic_savez


class FeatureStoreWriter:
  """Writes a feature store; a context manager.

  Shards are streamed to a temporary name and renamed into place when full;
  the index is written last, atomically, on a clean exit.  If the ``with``
  block raises, no index is written, so the partial store is never visible
  (opening it raises a ``DataError``).

  Args:
    path: the store directory (created).
    dim: feature width D.
    rows_per_image: K to pad every image to exactly K rows, or None for a
      variable number of rows per image.
    shard_rows: rows per shard (rounded down to a multiple of K, at least K).
      The default is ~512 MB shards at D = 2048.
    append: add images to an existing store instead of replacing it.
    with_boxes: the store keeps a box per row (``add(..., boxes=...)`` then
      requires them).

  Example:
    with FeatureStoreWriter(path, dim=2048, rows_per_image=100,
                            with_boxes=True) as w:
      w.add(image_id, features, boxes, image_size=(640, 480))  # [n, 2048], [n, 4]
  """

  def __init__(self, path: str, dim: int, rows_per_image: Optional[int] = None,
               shard_rows: int = 131072, append: bool = False,
               with_boxes: bool = False):
    if dim <= 0:
      raise ValueError(f"dim must be positive, got {dim}.")
    if rows_per_image is not None and rows_per_image <= 0:
      raise ValueError(f"rows_per_image must be positive or None, got {rows_per_image}.")
    if shard_rows <= 0:
      raise ValueError(f"shard_rows must be positive, got {shard_rows}.")
    self.path = os.fspath(path)
    self.dim = int(dim)
    self.rows_per_image = None if rows_per_image is None else int(rows_per_image)
    if self.rows_per_image:
      shard_rows = max(self.rows_per_image,
                       shard_rows // self.rows_per_image * self.rows_per_image)
    self.shard_rows = int(shard_rows)
    self.append = append
    self.with_boxes = bool(with_boxes)

    self._image_ids: List[int] = []
    self._shard: List[int] = []
    self._start: List[int] = []
    self._count: List[int] = []
    self._seen = set()
    self._shard_sizes: List[int] = []
    self._shard_crcs: List[int] = []
    self._image_sizes: List[Tuple[int, int]] = []
    self._boxes: List[np.ndarray] = []  # the current shard's boxes
    self._file = None
    self._tmp_name = None
    self._rows_in_shard = 0
    self._crc = 0
    self._closed = False
    self._open_dir()

  # -- setup -----------------------------------------------------------------

  def _open_dir(self) -> None:
    os.makedirs(self.path, exist_ok=True)
    index_path = os.path.join(self.path, INDEX_NAME)
    if self.append and os.path.exists(index_path):
      old = read_index(self.path)
      for i in range(len(old.shard_rows)):  # the shards kept are there, whole
        open_shard(self.path, old, i)
        if old.has_boxes:
          open_boxes(self.path, old, i)
      if (old.dim, old.rows_per_image, old.has_boxes) != (
          self.dim, self.rows_per_image, self.with_boxes):
        raise DataError(index_path,
                        f"cannot append dim={self.dim}, rows_per_image="
                        f"{self.rows_per_image}, boxes={self.with_boxes} to a store "
                        f"with dim={old.dim}, rows_per_image={old.rows_per_image}, "
                        f"boxes={old.has_boxes}")
      self._image_ids = old.image_ids.tolist()
      self._shard = old.shard.tolist()
      self._start = old.start.tolist()
      self._count = old.count.tolist()
      self._seen = set(self._image_ids)
      self._shard_sizes = old.shard_rows.tolist()
      self._shard_crcs = old.shard_crc.tolist()
      if old.has_boxes:
        self._image_sizes = [tuple(s) for s in old.image_size.tolist()]
      return
    # Replacing: hide the old store first (index gone), then drop its shards.
    if os.path.exists(index_path):
      os.remove(index_path)
    for name in os.listdir(self.path):
      if SHARD_PATTERN.match(name) or name.startswith(".shard-"):
        os.remove(os.path.join(self.path, name))

  # -- writing ---------------------------------------------------------------

  def __enter__(self) -> "FeatureStoreWriter":
    return self

  def __exit__(self, exc_type, exc, tb) -> None:
    if exc_type is None:
      self.close()
    else:
      self.abort()

  def add(self, image_id: int, features: np.ndarray,
          boxes: Optional[np.ndarray] = None,
          image_size: Optional[Tuple[int, int]] = None) -> None:
    """Adds the [n, dim] region features of one image.

    With ``with_boxes``: ``boxes`` [n, 4] ([x, y, w, h], pixels) and optionally
    ``image_size`` (width, height) of the picture.

    Raises:
      DataError: duplicate image id, wrong shape, more than K rows, NaN / inf,
        boxes missing or of the wrong shape.
    """
    if self._closed:
      raise ValueError("FeatureStoreWriter is closed.")
    image_id = int(image_id)
    if image_id in self._seen:
      raise DataError(self.path, f"duplicate image id {image_id}")
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[1] != self.dim:
      raise DataError(self.path, f"image {image_id}: features have shape "
                      f"{features.shape}, expected [n, {self.dim}]")
    n = features.shape[0]
    if self.rows_per_image is not None and n > self.rows_per_image:
      raise DataError(self.path, f"image {image_id}: {n} rows > rows_per_image="
                      f"{self.rows_per_image}")
    rows = features.astype(np.float16)
    if not (np.all(np.isfinite(features)) and np.all(np.isfinite(rows))):
      raise DataError(self.path, f"image {image_id}: features contain NaN or inf "
                      "(or overflow float16)")
    if self.with_boxes:
      if boxes is None:
        raise DataError(self.path, f"image {image_id}: no boxes for a store with boxes")
      boxes = np.asarray(boxes, np.float32).reshape(-1, 4) if np.size(boxes) else (
          np.zeros((0, 4), np.float32))
      if boxes.shape[0] != n or not np.all(np.isfinite(boxes)):
        raise DataError(self.path, f"image {image_id}: boxes have shape "
                        f"{boxes.shape} (or NaN), expected [{n}, 4]")
    elif boxes is not None:
      raise ValueError("boxes given to a FeatureStoreWriter without with_boxes=True.")
    if self.rows_per_image is not None and n < self.rows_per_image:
      rows = np.concatenate(
          [rows, np.zeros((self.rows_per_image - n, self.dim), np.float16)])
    width = rows.shape[0]
    if self._file is not None and self._rows_in_shard + width > self.shard_rows:
      self._finish_shard()
    if self._file is None:
      self._start_shard()
    if self.with_boxes:
      self._boxes.append(boxes)
      if width > n:
        self._boxes.append(np.zeros((width - n, 4), np.float32))
      w_h = (0, 0) if image_size is None else tuple(int(v) for v in image_size)
      self._image_sizes.append(w_h)
    data = np.ascontiguousarray(rows).tobytes()
    self._file.write(data)
    self._crc = zlib.crc32(data, self._crc)
    self._seen.add(image_id)
    self._image_ids.append(image_id)
    self._shard.append(len(self._shard_sizes))
    self._start.append(self._rows_in_shard)
    self._count.append(n)
    self._rows_in_shard += width

  def _start_shard(self) -> None:
    name = shard_name(len(self._shard_sizes))
    self._tmp_name = os.path.join(self.path, f".{name}.tmp{os.getpid()}")
    self._file = open(self._tmp_name, "wb")
    self._file.write(b"\0" * HEADER_BYTES)
    self._rows_in_shard = 0
    self._crc = 0
    self._boxes = []

  def _finish_shard(self) -> None:
    header = npy_header(self._rows_in_shard, self.dim)
    final = os.path.join(self.path, shard_name(len(self._shard_sizes)))
    if len(header) == HEADER_BYTES:
      self._file.seek(0)
      self._file.write(header)
      self._file.flush()
      os.fsync(self._file.fileno())
      self._file.close()
    else:  # unusual shape: rewrite with the right header length
      self._file.close()
      with open(self._tmp_name, "rb") as src, open(self._tmp_name + "b", "wb") as dst:
        src.seek(HEADER_BYTES)
        dst.write(header)
        while chunk := src.read(CRC_CHUNK_BYTES):
          dst.write(chunk)
      os.replace(self._tmp_name + "b", self._tmp_name)
    if self.with_boxes:  # before the features shard: a shard is never boxless
      boxes = (np.concatenate(self._boxes) if self._boxes
               else np.zeros((0, 4), np.float32))
      assert boxes.shape[0] == self._rows_in_shard, (boxes.shape, self._rows_in_shard)
      with atomic_path(os.path.join(self.path, boxes_name(len(self._shard_sizes)))
                       ) as tmp:
        with open(tmp, "wb") as f:
          np.save(f, boxes, allow_pickle=False)
      self._boxes = []
    os.replace(self._tmp_name, final)
    self._shard_sizes.append(self._rows_in_shard)
    self._shard_crcs.append(self._crc)
    self._file = None
    self._tmp_name = None

  def close(self) -> None:
    """Finishes the last shard and writes the index (commits the store)."""
    if self._closed:
      return
    if self._file is not None:
      self._finish_shard()
    atomic_savez(os.path.join(self.path, INDEX_NAME), dict(
        version=np.int64(INDEX_VERSION),
        dim=np.int64(self.dim),
        rows_per_image=np.int64(-1 if self.rows_per_image is None else self.rows_per_image),
        image_ids=np.asarray(self._image_ids, np.int64),
        shard=np.asarray(self._shard, np.int32),
        start=np.asarray(self._start, np.int64),
        count=np.asarray(self._count, np.int32),
        shard_rows=np.asarray(self._shard_sizes, np.int64),
        shard_crc32=np.asarray(self._shard_crcs, np.uint32),
        **({"boxes": np.bool_(True),
            "image_size": np.asarray(self._image_sizes, np.int32).reshape(-1, 2)}
           if self.with_boxes else {})), fsync=True)
    self._closed = True

  def abort(self) -> None:
    """Drops the shard being written; writes no index."""
    if self._file is not None:
      self._file.close()
      if self._tmp_name and os.path.exists(self._tmp_name):
        os.remove(self._tmp_name)
      self._file = None
    self._closed = True

  def __len__(self) -> int:
    return len(self._image_ids)
