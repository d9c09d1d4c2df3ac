r"""The Genome feature store of a rehearsal: what ``tools.extract_features`` would
write for ``boxes/genome.jsonl`` (one float16 row per annotated box, the boxes
and picture sizes kept), with random values instead of ResNet-50 features.

    python -m tools.rehearse.genome_store --boxes prepared/boxes/genome.jsonl \
        --out prepared/features/genome

The CNN cannot run at this size without a GPU (docs/real_data.md "Measured on
this machine": ~2.5 crops/s on the CPU); its cost is in the Budget table. This
stand-in measures the store's disk and the writing, streamed image by image.
"""

from __future__ import annotations

import numpy as np
from absl import flags

from svlr_tf.data.feature_store import FeatureStoreWriter
from tools._common import Progress, read_jsonl, run_main

FLAGS = flags.FLAGS
DIM = 2048


def write_store(boxes_path: str, out: str, seed: int = 0) -> int:
  """Writes the store of every image of ``boxes_path``; returns the images."""
  rng = np.random.default_rng(seed)
  pool = rng.random((256, DIM), dtype=np.float32).astype(np.float16)
  progress = Progress("genome features (stand-in)")
  images = 0
  with FeatureStoreWriter(out, dim=DIM, with_boxes=True) as writer:
    for record in read_jsonl(boxes_path):
      boxes = np.asarray(record["boxes"], np.float32).reshape(-1, 4)
      rows = pool[(np.arange(len(boxes)) + images) % len(pool)]
      writer.add(record["image_id"], rows, boxes,
                 image_size=(record["width"], record["height"]))
      images += 1
      progress.update()
  progress.done()
  return images


def main(argv):
  del argv
  write_store(FLAGS.boxes, FLAGS.out)


if __name__ == "__main__":
  flags.DEFINE_string("boxes", None, "boxes/genome.jsonl of tools.prepare_genome.")
  flags.DEFINE_string("out", None, "Feature store directory to write.")
  flags.mark_flags_as_required(["boxes", "out"])
  run_main(main)
