"""Verify a feature store once before it is used, and remember that it was.

Reading a full-scale store to check it (``FeatureStore.verify``: every shard's
crc32 and that every feature is finite) takes minutes (~100 GB), so it is done once
and recorded: the record holds the store's identity (sha256 of the index, and the
size, mtime, ctime and inode of the index and of every shard).  A later start
compares identities only (a stat per file and a hash of the small index).  Any
change to a file of the store (rewritten, appended, edited in place, copied, even
with the size and the mtime restored: the ctime changes) invalidates the record and
the store is read again.

The record is ``verified.json`` in the store; when the store is read-only it goes
to the user's cache (``$XDG_CACHE_HOME`` or ``~/.cache``,
``svlr_tf/verified/<hash of the store path>.json``); when neither is writable the
store is verified on every start.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Callable, List, Optional

from svlr_tf.data.feature_store import FeatureStore
from svlr_tf.data.store_format import INDEX_NAME, shard_name
from svlr_tf.runtime.files import atomic_write_json

VERIFIED_NAME = "verified.json"
_RECORD_VERSION = 1


def record_paths(store_path: str) -> List[str]:
  """Where the verification record of a store may be, in order of preference."""
  cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(
      os.path.expanduser("~"), ".cache")
  key = hashlib.sha256(os.path.abspath(store_path).encode()).hexdigest()[:32]
  return [os.path.join(store_path, VERIFIED_NAME),
          os.path.join(cache, "svlr_tf", "verified", f"{key}.json")]


def store_identity(store: FeatureStore) -> dict:
  """The files a verification is valid for, as a JSON-able dict."""
  names = [INDEX_NAME] + [shard_name(i) for i in range(len(store._shards))]
  files = {}
  for name in names:
    st = os.stat(os.path.join(store.path, name))
    files[name] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
  digest = hashlib.sha256()
  with open(os.path.join(store.path, INDEX_NAME), "rb") as f:
    while block := f.read(1 << 20):
      digest.update(block)
  return {"version": _RECORD_VERSION, "index_sha256": digest.hexdigest(),
          "files": files}


def is_recorded(store: FeatureStore, identity: Optional[dict] = None) -> bool:
  """True if a record says this very store was verified."""
  identity = identity or store_identity(store)
  for path in record_paths(store.path):
    try:
      with open(path, encoding="utf-8") as f:
        if json.load(f) == identity:
          return True
    except (OSError, ValueError):
      continue
  return False


def verify_once(store: FeatureStore,
                log: Optional[Callable[[str], None]] = None) -> bool:
  """``store.verify()`` unless recorded as verified; records a success.

  Returns True if the store was read (False: the record matched).

  Raises:
    DataError naming the shard (and, for a non-finite feature, the image and row).
  """
  identity = store_identity(store)
  if is_recorded(store, identity):
    return False
  if log is not None:
    log(f"verifying feature store {store.path} ({store.nbytes / 2**30:.2f} GB), "
        "once: checksums and finite values")
  store.verify()
  for path in record_paths(store.path):
    try:
      atomic_write_json(path, identity)
      break
    except OSError:  # read-only store: try the user cache
      continue
  return True


def open_verified(path: str, log: Optional[Callable[[str], None]] = None
                  ) -> FeatureStore:
  """Opens a store and :func:`verify_once`; the store is closed on a failure."""
  store = FeatureStore(path)
  try:
    verify_once(store, log)
  except BaseException:
    store.close()
    raise
  return store
