"""The ``.npz`` cache of a parsed split, kept next to its JSONL file.

The cache key holds the parse parameters and the size, mtime, ctime and inode of
the JSONL, vocab.json and classes.json; a stale or broken cache is parsed again, never an
error.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, Optional, Tuple

import numpy as np

from svlr_tf.runtime.files import atomic_savez

# Per split kind; bumping one rebuilds that kind's caches (2: recognition CSR).
CACHE_VERSIONS = {"recognition": 2, "vqa": 1}


def cache_path(data_dir: str, jsonl: str, params: Dict[str, Any]) -> Tuple[str, str]:
  """(cache file of ``jsonl`` parsed with ``params``, its key)."""
  deps = [jsonl, os.path.join(data_dir, "vocab.json"),
          os.path.join(data_dir, "classes.json")]
  # Size and mtime alone miss an edit that restores both (touch -r); any write
  # changes the ctime, and a replaced file has another inode.
  stats = [(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
           for st in map(os.stat, deps)]
  key = json.dumps({"v": CACHE_VERSIONS[params["kind"]], "params": params,
                    "stats": stats},
                   sort_keys=True)
  tag = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8]
  base = os.path.basename(jsonl)
  return os.path.join(os.path.dirname(jsonl), f".{base}.{tag}.cache.npz"), key


def load(path: str, key: str, keys=None) -> Optional[Dict[str, np.ndarray]]:
  """The cached arrays (only ``keys`` if given), or None when the cache is
  missing, stale or broken."""
  if not os.path.exists(path):
    return None
  try:
    with np.load(path, allow_pickle=False) as z:
      if str(z["cache_key"]) != key:
        return None
      return {k: z[k] for k in (keys or z.files) if k != "cache_key"}
  except Exception:  # a stale or broken cache is rebuilt, never an error
    return None


def save(path: str, key: str, arrays: Dict[str, np.ndarray]) -> None:
  """Writes the cache atomically; a read-only data directory means no cache."""
  try:
    atomic_savez(path, dict(arrays, cache_key=np.array(key)))
  except OSError:  # read-only data dir: no cache
    pass
