"""Genome images that are also VQA (COCO) images, by the md5 of their bytes
(``tools.prepare_genome``, step 1), with a digest cache for restarts."""

from __future__ import annotations

import hashlib
import os
from typing import Dict, List, Optional, Sequence

from tools._common import Progress, list_images


# -- md5 overlap -----------------------------------------------------------------


def file_md5s(paths: Sequence[str], cache_path: Optional[str] = None) -> Dict[str, str]:
  """md5 of each file; reuses ``cache_path`` (path, size, mtime -> md5) rows."""
  cache = {}
  if cache_path and os.path.exists(cache_path):
    with open(cache_path, encoding="utf-8") as f:
      for line in f:
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 4:
          cache[(parts[0], parts[1], parts[2])] = parts[3]
  out = {}
  progress = Progress("md5", total=len(paths), unit="images")
  new_rows = []
  for path in paths:
    stat = os.stat(path)
    key = (os.path.abspath(path), str(stat.st_size), str(int(stat.st_mtime)))
    digest = cache.get(key)
    if digest is None:
      with open(path, "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()
      new_rows.append("\t".join(key + (digest,)))
      if cache_path and len(new_rows) >= 5000:
        _append_lines(cache_path, new_rows)
    out[path] = digest
    progress.update()
  if cache_path:
    _append_lines(cache_path, new_rows)
  progress.done()
  return out


def _append_lines(path: str, rows: List[str]) -> None:
  if rows:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
      f.write("".join(row + "\n" for row in rows))
    rows.clear()


def vqa_overlap(genome_paths: Dict[int, str], vqa_image_dirs: Sequence[str],
                cache_path: Optional[str]) -> set:
  """Genome image ids whose bytes (md5) equal those of a VQA image."""
  vqa_paths = sorted(list_images(vqa_image_dirs).values())
  vqa = set(file_md5s(vqa_paths, cache_path).values())
  genome = file_md5s(sorted(genome_paths.values()), cache_path)
  return {i for i, p in genome_paths.items() if genome[p] in vqa}
