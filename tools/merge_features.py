r"""Concatenates the feature-store parts written by sharded extraction.

    python -m tools.merge_features --out prepared/features/vqa [--delete_parts]

Reads every ``<out>.part-*-of-*`` store (or ``--parts``), checks that all parts
are present, complete and agree on dim / rows_per_image, and writes one store at
``<out>`` through ``FeatureStoreWriter`` (images in part order; an image id in
two parts is an error). It copies the features: budget the disk for one more
copy until ``--delete_parts`` removes the parts after a successful merge.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from typing import List, Sequence

from absl import flags, logging

from svlr_tf.data.feature_store import FeatureStore, FeatureStoreWriter
from svlr_tf.runtime.errors import DataError
from tools._common import Progress, run_main

FLAGS = flags.FLAGS
_PART = re.compile(r"\.part-(\d+)-of-(\d+)$")


def find_parts(out: str) -> List[str]:
  """The ``<out>.part-i-of-n`` stores, sorted; DataError if some are missing."""
  parts = sorted(glob.glob(glob.escape(out) + ".part-*-of-*"))
  if not parts:
    raise DataError(out, "no '.part-*-of-*' feature stores found beside it")
  totals = {int(_PART.search(p).group(2)) for p in parts if _PART.search(p)}
  if len(totals) != 1 or len(parts) != totals.pop():
    raise DataError(out, f"found {len(parts)} parts that do not make one full set")
  return parts


def merge_features(parts: Sequence[str], out: str,
                   delete_parts: bool = False) -> int:
  """Writes the union of the part stores to ``out``; returns the image count."""
  stores = [FeatureStore(p) for p in parts]
  dims = {(s.dim, s.rows_per_image, s.has_boxes) for s in stores}
  if len(dims) != 1:
    raise DataError(out, "parts disagree on (dim, rows_per_image, boxes): "
                    f"{sorted(dims, key=str)}")
  dim, rows_per_image, with_boxes = dims.pop()
  total = sum(len(s) for s in stores)
  progress = Progress("merge_features", total=total, unit="images")
  tmp = out + ".merging"
  if os.path.exists(tmp):
    shutil.rmtree(tmp)
  try:
    with FeatureStoreWriter(tmp, dim, rows_per_image,
                            with_boxes=with_boxes) as writer:
      for store in stores:
        for image_id in store.image_ids.tolist():
          if with_boxes:
            writer.add(image_id, store.regions(image_id), store.boxes(image_id),
                       store.image_size(image_id))
          else:
            writer.add(image_id, store.regions(image_id))
          progress.update()
  except DataError as err:
    shutil.rmtree(tmp, ignore_errors=True)
    raise DataError(out, f"cannot merge: {err}") from None
  if os.path.exists(out):
    shutil.rmtree(out)
  os.replace(tmp, out)
  progress.done()
  if delete_parts:
    for p in parts:
      shutil.rmtree(p)
  logging.info("%s: %d images from %d parts", out, total, len(parts))
  return total


def main(argv):
  del argv
  if not FLAGS.out:
    raise DataError(None, "--out is required")
  parts = FLAGS.parts or find_parts(FLAGS.out)
  merge_features(parts, FLAGS.out, FLAGS.delete_parts)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_string("out", None, "The merged feature store directory.")
  flags.DEFINE_list("parts", None,
                    "Part stores to merge (default: all <out>.part-*-of-*).")
  flags.DEFINE_boolean("delete_parts", False, "Remove the parts after merging.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
