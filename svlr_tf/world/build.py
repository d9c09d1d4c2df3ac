"""Generates the embedded (simulated) world in the prepared format.

  python -m svlr_tf.world.build --preset default --out runs/data/world-default

writes meta.json ("simulated": true), vocab.json + word_vectors.npy (real GloVe
6B 50-d vectors), classes.json, recognition/{train,val,test}.jsonl,
vqa/{train,heldout,test}.jsonl (+ official VQA v1 files) and the feature stores
features/genome and features/vqa, through svlr_tf.data.prepared.PreparedWriter,
and the geometry: boxes/{vqa,genome}.jsonl and images/<image_id>.png
(svlr_tf.world.layout, svlr_tf.world.picture).
Generation is deterministic in (preset, seed) and atomic: the world is built in
a temporary directory next to ``out_dir`` and renamed into place.

This module is the generation's life cycle (lock, build in a temporary
directory, rename, reuse a current world) and its command line. The world is
simulated by :mod:`svlr_tf.world.simulate` and written by
:mod:`svlr_tf.world.write` (records: :mod:`svlr_tf.world.records`, geometry:
:mod:`svlr_tf.world.geometry`); their names stay importable from here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from typing import Optional

from svlr_tf import text
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import current_umask, read_json
from svlr_tf.world.config import WORLD_PRESETS, world_config
from svlr_tf.runtime.workdir import exclusive_lock
from svlr_tf.world.geometry import (boxes_line, grounding_records, picture_file,
                                    write_geometry)
from svlr_tf.world.records import recognition_records, vqa_records
from svlr_tf.world.simulate import (VQA_IMAGE_ID_START, World, progress,
                                    simulate_world)
from svlr_tf.world.write import (GENERATOR_VERSION, WORD_VECTORS_NAME, word_table,
                                 world_meta, write_world)

__all__ = [
    "GENERATOR_VERSION", "VQA_IMAGE_ID_START", "WORD_VECTORS_NAME", "World",
    "boxes_line", "default_root", "ensure_world", "generate", "grounding_records",
    "main", "picture_file", "recognition_records", "simulate_world", "vqa_records",
    "word_table", "world_is_current", "world_lock", "write_geometry", "write_world",
]


def generate(preset: str, out_dir, seed: int = 0, overwrite: bool = False,
             verbose: bool = True, pictures: bool = True, **overrides) -> str:
  """Generates the world of ``preset`` into ``out_dir`` atomically; returns out_dir.

  Raises FileExistsError if ``out_dir`` exists and ``overwrite`` is False.
  ``pictures=False`` skips images/*.png (the boxes are always written).
  ``overrides`` replace WorldConfig fields (e.g. ``vqa_images`` for the paper
  preset's benchmarks).
  """
  cfg = world_config(preset, **overrides)
  out_dir = os.path.abspath(os.fspath(out_dir))
  with world_lock(out_dir):
    return _generate_locked(cfg, preset, out_dir, seed, overwrite, verbose, pictures)


def _generate_locked(cfg, preset: str, out_dir: str, seed: int, overwrite: bool,
                     verbose: bool, pictures: bool) -> str:
  if os.path.exists(out_dir) and not overwrite:
    raise FileExistsError(f"{out_dir} exists (use overwrite=True).")
  parent = os.path.dirname(out_dir)
  t0 = time.time()
  progress(f"generating world {preset!r} (seed {seed}) once, in {out_dir}; "
           "later runs reuse it", verbose)
  world = simulate_world(cfg, seed, verbose)
  tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.tmp", dir=parent)
  try:
    # mkdtemp's 0700 would survive the rename: the world gets the umask's mode.
    os.chmod(tmp, 0o777 & ~current_umask())
    write_world(world, tmp, verbose, pictures=pictures)
    if os.path.exists(out_dir):
      old = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.old", dir=parent)
      os.rename(out_dir, os.path.join(old, "w"))
      os.rename(tmp, out_dir)
      shutil.rmtree(old, ignore_errors=True)
    else:
      os.rename(tmp, out_dir)
  finally:
    if os.path.isdir(tmp):
      shutil.rmtree(tmp, ignore_errors=True)
  progress(f"world {preset!r} (seed {seed}) in {out_dir} ({time.time() - t0:.1f}s)",
           verbose)
  return out_dir


# How long a process waits for another that generates the same world (the paper
# preset's world takes the longest; a waiting process then reuses it).
WORLD_WAIT_SECONDS = 3 * 3600.0


@contextlib.contextmanager
def world_lock(out_dir: str, wait: float = 0.0):
  """One process generates a world at a time: an exclusive lock beside ``out_dir``
  (``.<name>.lock``; the directory itself is replaced by a rename).  ``wait``:
  seconds to wait for a process that holds it (progress lines on stderr), then
  DirectoryInUse.  With the lock held, the partial directories of a generation
  that was killed are removed."""
  parent, name = os.path.split(os.path.abspath(out_dir))
  os.makedirs(parent, exist_ok=True)
  with exclusive_lock(os.path.join(parent, f".{name}.lock"), f"world {out_dir}",
                      wait=wait):
    for entry in os.listdir(parent):
      if entry.startswith((f".{name}.tmp", f".{name}.old")):
        shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
    yield


def default_root(preset: str) -> str:
  return os.path.join("runs", "data", f"world-{preset}")


def world_is_current(data_dir: str, preset: str, seed: int = 0, **overrides) -> bool:
  """True if ``data_dir`` holds a complete world generated with this config."""
  try:
    meta = read_json(os.path.join(data_dir, "meta.json"))
  except DataError:
    return False
  if not isinstance(meta, dict):
    return False
  cfg = world_config(preset, **overrides)
  expected = world_meta(cfg, seed)
  return all(meta.get(k) == expected[k] for k in
             ("preset", "seed", "generator_version", "world_config", "feature_dim",
              "regions_per_image", "simulated")) and (
                  meta.get("pos_backend") == text.pos_backend())


def ensure_world(preset: str, root: Optional[str] = None, seed: int = 0,
                 verbose: bool = True, wait: float = WORLD_WAIT_SECONDS,
                 pictures: bool = True, **overrides) -> str:
  """Returns a data dir holding the world of ``preset``, generating it if needed.

  Default ``root``: runs/data/world-<preset>.  An existing complete world with
  matching meta is reused; anything else there is regenerated.  When another
  process is generating it, this one waits for it (up to ``wait`` seconds, a
  progress line every 30 s) and then reuses its world.  ``overrides`` replace
  WorldConfig fields (give such a world its own ``root``); ``pictures=False``
  skips images/*.png when the world is generated.
  """
  data_dir = os.path.abspath(root or default_root(preset))
  if world_is_current(data_dir, preset, seed, **overrides):
    return data_dir
  with world_lock(data_dir, wait=wait):  # another process may have generated it
    if world_is_current(data_dir, preset, seed, **overrides):
      return data_dir
    return _generate_locked(world_config(preset, **overrides), preset, data_dir,
                            seed, True, verbose, pictures)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--preset", default="default", choices=list(WORLD_PRESETS))
  parser.add_argument("--out", default=None, help="output dir (default runs/data/world-<preset>)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--overwrite", action="store_true")
  parser.add_argument("--vqa-images", type=int, nargs=3, default=None,
                      metavar=("TRAIN", "HELDOUT", "TEST"))
  parser.add_argument("--genome-images", type=int, default=None)
  parser.add_argument("--pos-backend", default=None, choices=text.BACKENDS,
                      help="part-of-speech backend (default "
                      f"{text.taggers.DEFAULT_BACKEND}; docs/interpretations.md 15)")
  args = parser.parse_args(argv)
  overrides = {}
  if args.vqa_images:
    overrides["vqa_images"] = tuple(args.vqa_images)
  if args.genome_images:
    overrides["genome_images"] = args.genome_images
  try:
    text.use_backend(args.pos_backend)
    generate(args.preset, args.out or default_root(args.preset), seed=args.seed,
             overwrite=args.overwrite, **overrides)
  except (DataError, FileExistsError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())
