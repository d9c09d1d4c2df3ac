"""Sharded, memory-mapped float16 region features addressed by image id.

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
``count`` = valid rows), so a shard is also a ``[n_images, K, dim]`` array and
gathering a batch of images is one fancy index per shard (no per-row loop).
Without it (the Genome store), an image's rows are its annotated regions.

Opening reads only the index and the shard headers (O(index), not O(data)); the
features stay on disk and are paged in on access, so memory does not grow with
the dataset (paper scale: ~250k images x 100 x 2048 float16 ~ 100 GB).

Batch gathers (``gather_images`` / ``gather_rows``) read with ``os.preadv``
straight into the (64-byte-aligned) batch array rather than copying out of the
memory map: pages a process touches in a map count in its resident memory
(file backed and reclaimable, but RSS then grows as training walks the store;
+460 MB after 20 paper-scale steps on a 2 GB store), and re-mapping pages
costs more than the read (measured: 144 batches/s from the map, 111 with
periodic ``madvise(MADV_DONTNEED)``, 228 with ``preadv``).  The read-only maps
serve ``regions`` (views) and ``verify``.
"""

from __future__ import annotations

import errno
import io
import mmap
import os
import re
import zlib
from typing import List, Optional, Tuple

import numpy as np

from svlr_tf.data.aligned import aligned_empty, aligned_zeros
from svlr_tf.errors import DataError
from svlr_tf.files import atomic_path, atomic_savez

INDEX_NAME = "index.npz"
INDEX_VERSION = 1
_SHARD_PATTERN = re.compile(r"^shard-(\d{5,})(\.boxes)?\.npy$")
# Bytes reserved for the .npy header of a shard being streamed to disk: the
# header of a 2-D float16 array is 128 bytes for any realistic shape.
_HEADER_BYTES = 128
_CRC_CHUNK_BYTES = 64 << 20
_HAS_PREADV = hasattr(os, "preadv")


def shard_name(index: int) -> str:
  return f"shard-{index:05d}.npy"


def boxes_name(index: int) -> str:
  return f"shard-{index:05d}.boxes.npy"


def _npy_header(rows: int, dim: int) -> bytes:
  buf = io.BytesIO()
  np.lib.format.write_array_header_1_0(
      buf, {"descr": np.dtype(np.float16).str, "fortran_order": False,
            "shape": (int(rows), int(dim))})
  return buf.getvalue()



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
      old = FeatureStore(self.path)
      if (old.dim, old.rows_per_image, old.has_boxes) != (
          self.dim, self.rows_per_image, self.with_boxes):
        raise DataError(index_path,
                        f"cannot append dim={self.dim}, rows_per_image="
                        f"{self.rows_per_image}, boxes={self.with_boxes} to a store "
                        f"with dim={old.dim}, rows_per_image={old.rows_per_image}, "
                        f"boxes={old.has_boxes}")
      self._image_ids = old.image_ids.tolist()
      self._shard = old._shard.tolist()
      self._start = old._start.tolist()
      self._count = old._count.tolist()
      self._seen = set(self._image_ids)
      self._shard_sizes = old._shard_rows.tolist()
      self._shard_crcs = old._shard_crc.tolist()
      if old.has_boxes:
        self._image_sizes = [tuple(s) for s in old._image_size.tolist()]
      old.close()
      return
    # Replacing: hide the old store first (index gone), then drop its shards.
    if os.path.exists(index_path):
      os.remove(index_path)
    for name in os.listdir(self.path):
      if _SHARD_PATTERN.match(name) or name.startswith(".shard-"):
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
    self._file.write(b"\0" * _HEADER_BYTES)
    self._rows_in_shard = 0
    self._crc = 0
    self._boxes = []

  def _finish_shard(self) -> None:
    header = _npy_header(self._rows_in_shard, self.dim)
    final = os.path.join(self.path, shard_name(len(self._shard_sizes)))
    if len(header) == _HEADER_BYTES:
      self._file.seek(0)
      self._file.write(header)
      self._file.flush()
      os.fsync(self._file.fileno())
      self._file.close()
    else:  # unusual shape: rewrite with the right header length
      self._file.close()
      with open(self._tmp_name, "rb") as src, open(self._tmp_name + "b", "wb") as dst:
        src.seek(_HEADER_BYTES)
        dst.write(header)
        while chunk := src.read(_CRC_CHUNK_BYTES):
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


class FeatureStore:
  """Reads a feature store written by :class:`FeatureStoreWriter`.

  Holds one read-only file descriptor per shard (for ``preadv``) until
  :meth:`close` (or garbage collection); usable as a context manager.

  Attributes:
    dim: feature width D.
    rows_per_image: K, or None for a variable number of rows per image.
    has_boxes: whether the store keeps a box per row (:meth:`boxes`).
    image_ids: int64 [n_images], in insertion order.
    nbytes: bytes of feature data on disk.

  Raises (on open):
    DataError naming the file: no index (incomplete store), malformed index,
    missing / truncated / wrong-shape shard.
  """

  def __init__(self, path: str):
    self.path = os.fspath(path)
    self._maps: List[mmap.mmap] = []
    self._fds: List[int] = []
    self._data_offset: List[int] = []  # bytes of .npy header before the rows
    self._closed = False
    index_path = os.path.join(self.path, INDEX_NAME)
    if not os.path.isdir(self.path):
      raise DataError(self.path, "feature store directory does not exist")
    if not os.path.exists(index_path):
      raise DataError(index_path, "missing feature store index (store incomplete "
                      "or not written)")
    try:
      with np.load(index_path, allow_pickle=False) as z:
        index = {k: z[k] for k in z.files}
    except Exception as e:  # zipfile / format errors of many kinds
      raise DataError(index_path, f"cannot read index: {e}") from None
    required = ("version", "dim", "rows_per_image", "image_ids", "shard", "start",
                "count", "shard_rows", "shard_crc32")
    missing = [k for k in required if k not in index]
    if missing:
      raise DataError(index_path, f"index is missing {missing}")
    if int(index["version"]) != INDEX_VERSION:
      raise DataError(index_path, f"unsupported index version {int(index['version'])}")
    self.dim = int(index["dim"])
    k = int(index["rows_per_image"])
    self.rows_per_image = None if k < 0 else k
    self.image_ids = index["image_ids"].astype(np.int64)
    self._shard = index["shard"].astype(np.int32)
    self._start = index["start"].astype(np.int64)
    self._count = index["count"].astype(np.int32)
    self._shard_rows = index["shard_rows"].astype(np.int64)
    self._shard_crc = index["shard_crc32"].astype(np.uint32)
    self.has_boxes = bool(index.get("boxes", False))
    n = len(self.image_ids)
    if self.has_boxes:
      self._image_size = np.asarray(index.get("image_size", np.zeros((0, 2))),
                                    np.int32)
      if self._image_size.shape != (n, 2):
        raise DataError(index_path, f"image_size has shape {self._image_size.shape}, "
                        f"expected [{n}, 2]")
    if not (len(self._shard) == len(self._start) == len(self._count) == n):
      raise DataError(index_path, "index arrays have different lengths")
    if len(self._shard_crc) != len(self._shard_rows):
      raise DataError(index_path, "index shard arrays have different lengths")
    # Sorted ids for vectorized lookup (np.searchsorted): compact, no dict.
    self._order = np.argsort(self.image_ids, kind="stable")
    self._sorted_ids = self.image_ids[self._order]
    if n > 1 and np.any(self._sorted_ids[1:] == self._sorted_ids[:-1]):
      raise DataError(index_path, "duplicate image ids in index")
    if n and (self._shard.min() < 0 or self._shard.max() >= len(self._shard_rows)):
      raise DataError(index_path, "index refers to a missing shard")
    width = self._count if self.rows_per_image is None else self.rows_per_image
    if n and np.any(self._start + width > self._shard_rows[self._shard]):
      raise DataError(index_path, "index rows exceed shard sizes")
    try:
      self._shards = [self._open_shard(i) for i in range(len(self._shard_rows))]
      self._box_shards = ([self._open_boxes(i) for i in range(len(self._shard_rows))]
                          if self.has_boxes else [])
    except BaseException:
      self.close()
      raise
    self.nbytes = int(sum(s.nbytes for s in self._shards))
    self._max_count = int(self._count.max()) if n else 0

  def _open_shard(self, i: int) -> np.ndarray:
    path = os.path.join(self.path, shard_name(i))
    expected = (int(self._shard_rows[i]), self.dim)
    mm = _load_checked(path, np.float16, expected, missing="missing shard file",
                       corrupt="corrupt or truncated shard", found="shard is")
    size = os.path.getsize(path)
    if size != mm.offset + mm.nbytes:
      raise DataError(path, f"shard file has {size} bytes, expected "
                      f"{mm.offset + mm.nbytes} (truncated or corrupt)")
    self._fds.append(os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)))
    self._data_offset.append(int(mm.offset))
    # The mmap object itself, for madvise (np.memmap keeps it as ``_mmap``).
    if isinstance(getattr(mm, "_mmap", None), mmap.mmap):
      self._maps.append(mm._mmap)
    # A plain ndarray view of the map (the memmap subclass is kept alive as its
    # base): results of np.take are then ordinary arrays.
    view = mm.view(np.ndarray)
    if self.rows_per_image:
      view = view.reshape(expected[0] // self.rows_per_image, self.rows_per_image,
                          self.dim)
    return view

  def _open_boxes(self, i: int) -> np.ndarray:
    return _load_checked(os.path.join(self.path, boxes_name(i)), np.float32,
                         (int(self._shard_rows[i]), 4),
                         missing="missing boxes file of a store with boxes",
                         corrupt="corrupt or truncated boxes file", found="boxes are")

  # -- lookup ----------------------------------------------------------------

  def __len__(self) -> int:
    return len(self.image_ids)

  def __contains__(self, image_id: int) -> bool:
    i = np.searchsorted(self._sorted_ids, image_id)
    return bool(i < len(self._sorted_ids) and self._sorted_ids[i] == image_id)

  def positions(self, image_ids) -> np.ndarray:
    """Index positions of image ids (int64 [n]); DataError for unknown ids."""
    ids = np.asarray(image_ids, np.int64)
    found = self.has_images(ids)
    if not np.all(found):
      raise DataError(self.path, f"image id {int(ids[~found].ravel()[0])} is not in "
                      "the feature store")
    return self._order[np.searchsorted(self._sorted_ids, ids)]

  def has_images(self, image_ids) -> np.ndarray:
    """bool [n]: whether each image id is in the store."""
    ids = np.asarray(image_ids, np.int64)
    if len(self._sorted_ids) == 0:
      return np.zeros(ids.shape, bool)
    i = np.minimum(np.searchsorted(self._sorted_ids, ids), len(self._sorted_ids) - 1)
    return self._sorted_ids[i] == ids

  def count(self, image_id: int) -> int:
    """Number of valid rows of an image."""
    return int(self._count[self.positions([image_id])[0]])

  def counts(self, image_ids) -> np.ndarray:
    """int32 [n] valid rows of each image."""
    return self._count[self.positions(image_ids)]

  def regions(self, image_id: int) -> np.ndarray:
    """[count, dim] float16 view of an image's valid rows."""
    p = self.positions([image_id])[0]
    shard, start, n = self._shard[p], self._start[p], self._count[p]
    if self.rows_per_image:
      return self._shards[shard][start // self.rows_per_image, :n]
    return self._shards[shard][start:start + n]

  def boxes(self, image_id: int) -> np.ndarray:
    """float32 [count, 4]: the [x, y, w, h] box (pixels) of each valid row."""
    if not self.has_boxes:
      raise DataError(self.path, "the feature store has no boxes")
    p = self.positions([image_id])[0]
    start, n = int(self._start[p]), int(self._count[p])
    return np.array(self._box_shards[self._shard[p]][start:start + n])

  def image_size(self, image_id: int) -> Tuple[int, int]:
    """(width, height) of the picture; (0, 0) when the writer did not know it."""
    if not self.has_boxes:
      raise DataError(self.path, "the feature store has no boxes (nor image sizes)")
    w, h = self._image_size[self.positions([image_id])[0]]
    return int(w), int(h)

  def gather_images(self, image_ids, out: Optional[np.ndarray] = None
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Features of whole images: ([n, K, dim] float16, mask [n, K] bool).

    K is ``rows_per_image`` (or, for a variable-row store, the largest count in
    the store).  Padded rows are zeros.  ``out`` (float16 [n, K, dim],
    C-contiguous) receives the features instead of a new array; otherwise the
    features and the mask are new 64-byte-aligned arrays (``tf.numpy_function``
    then takes them without a copy, see svlr_tf/data/aligned.py).
    """
    p = self.positions(image_ids)
    counts = self._count[p]
    k = self.rows_per_image or self._max_count
    shape = (len(p), k, self.dim)
    if out is None:
      out = (aligned_zeros if self.rows_per_image is None else aligned_empty)(
          shape, np.float16)
    elif out.shape != shape or out.dtype != np.float16 or not out.flags.c_contiguous:
      raise ValueError(f"out is {out.dtype} {out.shape}, expected C-contiguous "
                       f"float16 {shape}.")
    elif self.rows_per_image is None:
      out[...] = 0
    # Each image's rows are contiguous in its shard: one read per image.
    width = counts if self.rows_per_image is None else np.full(len(p), k)
    for j, (s, start, n) in enumerate(zip(self._shard[p].tolist(),
                                          self._start[p].tolist(), width.tolist())):
      self._read(s, start, out[j, :n])
    mask = aligned_empty((len(p), k), bool)
    np.less(np.arange(k)[None, :], counts[:, None], out=mask)
    return out, mask

  def gather_rows(self, image_ids, rows) -> np.ndarray:
    """[n, dim] float16: row ``rows[i]`` of image ``image_ids[i]``.

    The result is a new 64-byte-aligned array (see :meth:`gather_images`).
    """
    p = self.positions(image_ids)
    rows = np.asarray(rows, np.int64)
    if rows.shape != p.shape:
      raise ValueError(f"image_ids and rows differ in shape: {p.shape} vs {rows.shape}")
    counts = self._count[p]
    bad = (rows < 0) | (rows >= counts)
    if np.any(bad):
      j = int(np.nonzero(bad)[0][0])
      raise DataError(self.path, f"image {int(self.image_ids[p[j]])} has "
                      f"{int(counts[j])} rows, row {int(rows[j])} requested")
    out = aligned_empty((len(p), self.dim), np.float16)
    for j, (s, row) in enumerate(zip(self._shard[p].tolist(),
                                     (self._start[p] + rows).tolist())):
      self._read(s, row, out[j:j + 1])
    return out

  def _read(self, shard: int, row: int, buffer: np.ndarray) -> None:
    """Copies rows [row, row + len(buffer)) of a shard into C-contiguous ``buffer``.

    ``os.preadv`` (thread-safe, releases the GIL; maps no pages into this
    process); a copy from the map where preadv is unavailable.
    """
    if self._closed:
      raise ValueError(f"FeatureStore {self.path!r} is closed.")
    if not _HAS_PREADV:
      buffer[...] = self._flat_shard(shard)[row:row + buffer.shape[0]]
      return
    view = memoryview(buffer.reshape(-1).view(np.uint8))
    offset = self._data_offset[shard] + row * self.dim * 2
    done = 0
    while done < len(view):  # a regular file returns short only at its end
      try:
        got = os.preadv(self._fds[shard], [view[done:]], offset + done)
      except OSError as e:  # EIO from a failing disk, ESTALE from NFS, ...
        raise DataError(os.path.join(self.path, shard_name(shard)),
                        f"cannot read at byte {offset + done}: {e.strerror} "
                        f"[{errno.errorcode.get(e.errno, e.errno)}]") from None
      if got <= 0:
        raise DataError(os.path.join(self.path, shard_name(shard)),
                        f"shard ends at byte {offset + done} (truncated while open)")
      done += got

  def _flat_shard(self, shard: int) -> np.ndarray:
    view = self._shards[shard]
    return view.reshape(-1, self.dim) if self.rows_per_image else view

  # -- resources ---------------------------------------------------------------

  def release_pages(self) -> None:
    """Unmaps the shard pages this process touched through the maps.

    Only :meth:`regions` views and :meth:`verify` read through the maps
    (gathers do not).  ``madvise(MADV_DONTNEED)`` on a read-only shared file
    map drops this process's page-table entries only: RSS falls, the pages
    stay in the page cache and any later read (even a concurrent one) maps
    them again.  A no-op where madvise is unavailable.
    """
    if not hasattr(mmap, "MADV_DONTNEED"):
      return
    for m in self._maps:
      try:
        m.madvise(mmap.MADV_DONTNEED)
      except (OSError, ValueError):  # closed map or an unsupported platform
        pass

  def close(self) -> None:
    """Closes the shard file descriptors; gathers then raise ValueError."""
    if self._closed:
      return
    self._closed = True
    fds, self._fds = self._fds, []
    for fd in fds:
      try:
        os.close(fd)
      except OSError:
        pass

  def __enter__(self) -> "FeatureStore":
    return self

  def __exit__(self, exc_type, exc, tb) -> None:
    self.close()

  def __del__(self):
    try:
      if getattr(self, "_fds", None) is not None and not getattr(self, "_closed", True):
        self.close()
    except (AttributeError, TypeError):  # at interpreter exit ``os`` may be gone
      pass

  # -- integrity -------------------------------------------------------------

  def verify(self) -> None:
    """Reads every shard: its crc32 and that every feature is finite.

    Raises:
      DataError naming the shard: a non-finite feature (with its image and row),
      or a checksum mismatch (corrupt shard).
    """
    for i, mm in enumerate(self._shards):
      path = os.path.join(self.path, shard_name(i))
      flat = np.asarray(mm).reshape(-1)
      crc, bad = 0, None
      chunk = _CRC_CHUNK_BYTES // 2
      for a in range(0, flat.size, chunk):
        part = flat[a:a + chunk]
        crc = zlib.crc32(part.view(np.uint8), crc)
        if bad is None:
          finite = np.isfinite(part)
          if not finite.all():
            bad = a + int(np.argmin(finite))
      self.release_pages()  # reading every shard must not keep it resident
      crc_ok = crc == int(self._shard_crc[i])
      problems = [] if crc_ok else ["checksum mismatch (corrupt shard)"]
      if bad is not None:
        problems.append(f"{self._describe_row(i, bad // self.dim)} has a non-finite "
                        "(NaN or inf) feature")
      if problems:
        raise DataError(path, "; ".join(problems))

  def _describe_row(self, shard: int, row: int) -> str:
    """``"image <id> row <r>"`` of row ``row`` of a shard (for error messages)."""
    width = self._count if self.rows_per_image is None else np.full(
        len(self._count), self.rows_per_image)
    hit = np.flatnonzero((self._shard == shard) & (self._start <= row) &
                         (row < self._start + width))
    if not len(hit):
      return f"row {row} (no image)"
    p = int(hit[0])
    r = row - int(self._start[p])
    padding = " (padding)" if r >= int(self._count[p]) else ""
    return f"image {int(self.image_ids[p])} row {r}{padding}"

  def __repr__(self) -> str:
    return (f"FeatureStore({self.path!r}, images={len(self)}, dim={self.dim}, "
            f"rows_per_image={self.rows_per_image}, shards={len(self._shards)})")
