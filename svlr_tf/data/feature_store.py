"""Reads a feature store: sharded, memory-mapped float16 region features by image id.

The format (file names, index, shards) is in svlr_tf/data/store_format.py; the
writer is :class:`FeatureStoreWriter` (svlr_tf/data/store_writer.py); checking a
store once before training is svlr_tf/data/store_verification.py.  All public
names of the three stay importable from here.

With ``rows_per_image=K`` a shard is also a ``[n_images, K, dim]`` array and an
image's rows are contiguous, so gathering a batch of images is one read per
image (no per-row loop).

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
import mmap
import os
import zlib
from typing import List, Optional, Tuple

import numpy as np

from svlr_tf.data.aligned import aligned_empty, aligned_zeros
from svlr_tf.data.store_format import (CRC_CHUNK_BYTES, INDEX_NAME, INDEX_VERSION,
                                       boxes_name, open_boxes, open_shard,
                                       read_index, shard_name)
from svlr_tf.data.store_writer import FeatureStoreWriter
from svlr_tf.runtime.errors import DataError

__all__ = ["FeatureStore", "FeatureStoreWriter", "INDEX_NAME", "INDEX_VERSION",
           "boxes_name", "shard_name"]

_HAS_PREADV = hasattr(os, "preadv")


def _check_out(out: np.ndarray, shape: Tuple[int, ...]) -> None:
  if out.shape != shape or out.dtype != np.float16 or not out.flags.c_contiguous:
    raise ValueError(f"out is {out.dtype} {out.shape}, expected C-contiguous "
                     f"float16 {shape}.")


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
    index = read_index(self.path)
    self._index = index
    self.dim = index.dim
    self.rows_per_image = index.rows_per_image
    self.image_ids = index.image_ids
    self._shard, self._start, self._count = index.shard, index.start, index.count
    self._shard_rows, self._shard_crc = index.shard_rows, index.shard_crc
    self.has_boxes = index.has_boxes
    self._image_size = index.image_size
    # Sorted ids for vectorized lookup (np.searchsorted): compact, no dict.
    self._order = np.argsort(self.image_ids, kind="stable")
    self._sorted_ids = self.image_ids[self._order]
    try:
      self._shards = [self._open_shard(i) for i in range(len(self._shard_rows))]
      self._box_shards = ([open_boxes(self.path, index, i)
                           for i in range(len(self._shard_rows))]
                          if self.has_boxes else [])
    except BaseException:
      self.close()
      raise
    self.nbytes = int(sum(s.nbytes for s in self._shards))
    self._max_count = int(self._count.max()) if len(self.image_ids) else 0

  def _open_shard(self, i: int) -> np.ndarray:
    mm = open_shard(self.path, self._index, i)
    path = os.path.join(self.path, shard_name(i))
    self._fds.append(os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)))
    self._data_offset.append(int(mm.offset))
    # The mmap object itself, for madvise (np.memmap keeps it as ``_mmap``).
    if isinstance(getattr(mm, "_mmap", None), mmap.mmap):
      self._maps.append(mm._mmap)
    # A plain ndarray view of the map (the memmap subclass is kept alive as its
    # base): results of np.take are then ordinary arrays.
    view = mm.view(np.ndarray)
    if self.rows_per_image:
      view = view.reshape(mm.shape[0] // self.rows_per_image, self.rows_per_image,
                          self.dim)
    return view

  @property
  def image_rows(self) -> int:
    """K of :meth:`gather_images`: ``rows_per_image``, or the largest count of a
    variable-row store."""
    return self.rows_per_image or self._max_count

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
    C-contiguous, e.g. from a :class:`~svlr_tf.data.aligned.BufferPool`)
    receives the features instead of a new array; otherwise the features are a
    new 64-byte-aligned array (``tf.numpy_function`` then takes it without a
    copy, see svlr_tf/data/aligned.py).  The mask is a new aligned array.
    """
    p = self.positions(image_ids)
    counts = self._count[p]
    k = self.image_rows
    shape = (len(p), k, self.dim)
    if out is None:
      out = (aligned_zeros if self.rows_per_image is None else aligned_empty)(
          shape, np.float16)
    else:
      _check_out(out, shape)
      if self.rows_per_image is None:
        out[...] = 0
    # Each image's rows are contiguous in its shard: one read per image.
    width = counts if self.rows_per_image is None else np.full(len(p), k)
    self._read_slots(self._shard[p], self._start[p], width, out, k)
    mask = aligned_empty((len(p), k), bool)
    np.less(np.arange(k)[None, :], counts[:, None], out=mask)
    return out, mask

  def gather_rows(self, image_ids, rows, out: Optional[np.ndarray] = None
                  ) -> np.ndarray:
    """[n, dim] float16: row ``rows[i]`` of image ``image_ids[i]``.

    Into ``out`` (float16 [n, dim], C-contiguous) when given, otherwise a new
    64-byte-aligned array (see :meth:`gather_images`).
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
    shape = (len(p), self.dim)
    if out is None:
      out = aligned_empty(shape, np.float16)
    else:
      _check_out(out, shape)
    self._read_slots(self._shard[p], self._start[p] + rows, np.ones(len(p), np.int64),
                     out, 1)
    return out

  def _read_slots(self, shards: np.ndarray, rows: np.ndarray, widths: np.ndarray,
                  out: np.ndarray, slot_rows: int) -> None:
    """Copies rows [rows[j], rows[j] + widths[j]) of shard ``shards[j]`` to the
    start of slot j of C-contiguous ``out`` (slots of ``slot_rows`` rows).

    One ``os.preadv`` per slot (thread-safe, releases the GIL; maps no pages
    into this process), its offsets computed for the whole batch at once; a copy
    from the map where preadv is unavailable.
    """
    if self._closed:
      raise ValueError(f"FeatureStore {self.path!r} is closed.")
    if not _HAS_PREADV:
      flat = out.reshape(-1, self.dim)
      for j, (s, row, n) in enumerate(zip(shards.tolist(), rows.tolist(),
                                          widths.tolist())):
        flat[j * slot_rows:j * slot_rows + n] = self._flat_shard(s)[row:row + n]
      return
    row_bytes = self.dim * 2
    buffer = memoryview(out.reshape(-1).view(np.uint8))
    offsets = np.asarray(self._data_offset, np.int64)[shards] + rows * row_bytes
    fds, slot, preadv = self._fds, slot_rows * row_bytes, os.preadv
    for j, (s, offset, n) in enumerate(zip(shards.tolist(), offsets.tolist(),
                                           (widths * row_bytes).tolist())):
      view = buffer[j * slot:j * slot + n]
      try:
        got = preadv(fds[s], [view], offset)
      except OSError as e:
        raise self._read_error(s, offset, e) from None
      if got != n:
        self._read_rest(s, view, offset, got)

  def _read_rest(self, shard: int, view: memoryview, offset: int, done: int) -> None:
    """Finishes a short read (a regular file returns short only at its end)."""
    while done < len(view):
      try:
        got = os.preadv(self._fds[shard], [view[done:]], offset + done)
      except OSError as e:
        raise self._read_error(shard, offset + done, e) from None
      if got <= 0:
        raise DataError(os.path.join(self.path, shard_name(shard)),
                        f"shard ends at byte {offset + done} (truncated while open)")
      done += got

  def _read_error(self, shard: int, offset: int, e: OSError) -> DataError:
    """EIO from a failing disk, ESTALE from NFS, ...: one line naming the shard."""
    return DataError(os.path.join(self.path, shard_name(shard)),
                     f"cannot read at byte {offset}: {e.strerror} "
                     f"[{errno.errorcode.get(e.errno, e.errno)}]")

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
      chunk = CRC_CHUNK_BYTES // 2
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
