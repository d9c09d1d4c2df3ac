r"""Downloads the raw data of the paper's real-data experiments.

    python -m tools.download --out raw --items vqa,coco,genome,word2vec,edge_model,resnet50

Items (``--items``, comma separated; the table is :data:`SOURCES`):

- ``vqa``: VQA v1 multiple-choice questions and annotations (train, val 2014).
- ``coco``: MS COCO train2014 / val2014 images (~19 GB; the VQA v1 images).
- ``genome``: Visual Genome images (parts 1 and 2, ~15 GB), image_data, objects,
  attributes, object / attribute synsets.
- ``word2vec``: the GoogleNews 300-d word2vec vectors (~1.6 GB, .bin.gz; gensim
  reads it directly).
- ``edge_model``: the structured-edge forest ``model.yml.gz`` of Dollar & Zitnick
  as OpenCV ships it (opencv_extra ``testdata/cv/ximgproc/model.yml.gz``), for
  ``tools.propose_regions --edge_model raw/model.yml.gz``.
- ``resnet50`` / ``resnet152``: the ImageNet weights keras.applications would
  fetch itself (no-top ``.h5``, keras' published md5), for machines without
  network: ``tools.extract_features --weights raw/<file>.h5``.

Every download is resumable: an interrupted file stays as ``<name>.part`` and the
next run continues it with an HTTP ``Range`` request. A finished file is checked
against the size the server announced and, where the table has them, the published
size / md5; a mismatch removes the file and fails with a one-line error. Archives
(``.zip``) are extracted into ``out_dir`` once (a ``<name>.extracted`` marker
records it). ``--mirror URL`` fetches every file as ``URL/<file name>`` instead
(e.g. a local copy on a cluster file server).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from typing import Dict, List, Optional, Sequence

from absl import flags, logging

from svlr_tf.runtime.errors import DataError
from tools._common import Progress, run_main


@dataclasses.dataclass(frozen=True)
class Source:
  """One remote file: where it is, what it is called, how to check it."""

  url: str
  filename: str
  size: Optional[int] = None  # published size in bytes, when known
  md5: Optional[str] = None  # published md5, when known
  extract: bool = False  # unzip into out_dir after download


_VQA = "https://s3.amazonaws.com/cvmlp/vqa/mscoco/vqa/"
_KERAS = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
_VG = "https://homes.cs.washington.edu/~ranjay/visualgenome/data/dataset/"

# Sizes and checksums are left None where the publisher gives none; the
# server's Content-Length is always checked.
SOURCES: Dict[str, List[Source]] = {
    "vqa": [
        Source(_VQA + "Questions_Train_mscoco.zip", "Questions_Train_mscoco.zip",
               extract=True),
        Source(_VQA + "Questions_Val_mscoco.zip", "Questions_Val_mscoco.zip",
               extract=True),
        Source(_VQA + "Annotations_Train_mscoco.zip",
               "Annotations_Train_mscoco.zip", extract=True),
        Source(_VQA + "Annotations_Val_mscoco.zip", "Annotations_Val_mscoco.zip",
               extract=True),
    ],
    "coco": [
        Source("http://images.cocodataset.org/zips/train2014.zip", "train2014.zip",
               extract=True),
        Source("http://images.cocodataset.org/zips/val2014.zip", "val2014.zip",
               extract=True),
    ],
    "genome": [
        Source("https://cs.stanford.edu/people/rak248/VG_100K_2/images.zip",
               "images.zip", extract=True),
        Source("https://cs.stanford.edu/people/rak248/VG_100K_2/images2.zip",
               "images2.zip", extract=True),
        Source(_VG + "image_data.json.zip", "image_data.json.zip", extract=True),
        Source(_VG + "objects.json.zip", "objects.json.zip", extract=True),
        Source(_VG + "attributes.json.zip", "attributes.json.zip", extract=True),
        Source(_VG + "object_synsets.json.zip", "object_synsets.json.zip",
               extract=True),
        Source(_VG + "attribute_synsets.json.zip", "attribute_synsets.json.zip",
               extract=True),
    ],
    "word2vec": [
        Source("https://s3.amazonaws.com/dl4j-distribution/"
               "GoogleNews-vectors-negative300.bin.gz",
               "GoogleNews-vectors-negative300.bin.gz"),
    ],
    "edge_model": [
        Source("https://github.com/opencv/opencv_extra/raw/4.x/testdata/cv/"
               "ximgproc/model.yml.gz", "model.yml.gz"),
    ],
    "resnet50": [
        Source(_KERAS + "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
               "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
               md5="4d473c1dd8becc155b73f8504c6f6626"),
    ],
    "resnet152": [
        Source(_KERAS + "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5",
               "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5",
               md5="ee4c566cf9a93f14d82f913c2dc6dd0c"),
    ],
}
DEFAULT_ITEMS = ["vqa", "coco", "genome", "word2vec", "edge_model", "resnet50"]

FLAGS = flags.FLAGS


def _md5(path: str) -> str:
  digest = hashlib.md5()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 22), b""):
      digest.update(block)
  return digest.hexdigest()


def _check(source: Source, path: str, announced: Optional[int]) -> None:
  """Size / md5 checks of a finished download; removes the file on failure."""
  size = os.path.getsize(path)
  problem = None
  if announced is not None and size != announced:
    problem = f"size {size} bytes, server announced {announced}"
  elif source.size is not None and size != source.size:
    problem = f"size {size} bytes, published {source.size}"
  elif source.md5 is not None and _md5(path) != source.md5.lower():
    problem = f"md5 differs from the published {source.md5}"
  if problem:
    os.remove(path)
    raise DataError(path, f"download corrupt ({problem}); removed, run again")


def download_file(source: Source, out_dir: str, mirror: Optional[str] = None,
                  chunk_bytes: int = 4 << 20) -> str:
  """Downloads one file into out_dir, resuming a ``.part`` file; returns its path.

  A file that already exists complete (per the published size / md5, when known)
  is not fetched again.
  """
  url = f"{mirror.rstrip('/')}/{source.filename}" if mirror else source.url
  path = os.path.join(out_dir, source.filename)
  part = path + ".part"
  if os.path.exists(path):
    _check(source, path, None)
    logging.info("%s: already downloaded", path)
    return path
  start = os.path.getsize(part) if os.path.exists(part) else 0
  request = urllib.request.Request(url)
  if start:
    request.add_header("Range", f"bytes={start}-")
  try:
    response = urllib.request.urlopen(request, timeout=60)
  except urllib.error.HTTPError as err:
    if err.code == 416 and start:  # the .part is already complete
      os.replace(part, path)
      _check(source, path, None)
      return path
    raise DataError(url, f"HTTP {err.code} {err.reason}") from None
  except (urllib.error.URLError, OSError) as err:
    raise DataError(url, f"cannot connect ({err})") from None
  with response:
    length = response.headers.get("Content-Length")
    length = int(length) if length is not None else None
    if start and response.status == 206:
      total = start + length if length is not None else None
      mode = "ab"
      logging.info("%s: resuming at %d bytes", source.filename, start)
    else:  # no Range support (200): start over
      total, mode, start = length, "wb", 0
    progress = Progress(source.filename, total=total and total >> 20, unit="MiB")
    progress.count = start >> 20
    done = start
    with open(part, mode) as f:
      while True:
        try:
          block = response.read(chunk_bytes)
        except OSError as err:
          raise DataError(url, f"connection lost at {done} bytes ({err}); "
                          "run again to resume") from None
        if not block:
          break
        f.write(block)
        before = done >> 20
        done += len(block)
        progress.update((done >> 20) - before)
    progress.done()
  if total is not None and done < total:
    raise DataError(url, f"connection closed at {done} of {total} bytes; "
                    "run again to resume")
  os.replace(part, path)
  _check(source, path, total)
  return path


def extract(path: str, out_dir: str) -> None:
  """Unzips an archive into out_dir once (a ``.extracted`` marker records it)."""
  marker = path + ".extracted"
  if os.path.exists(marker):
    return
  try:
    with zipfile.ZipFile(path) as archive:
      names = archive.namelist()
      progress = Progress(os.path.basename(path), total=len(names), unit="files")
      root = os.path.realpath(out_dir)
      for name in names:
        target = os.path.realpath(os.path.join(out_dir, name))
        if not target.startswith(root + os.sep):
          raise DataError(path, f"archive member {name!r} points outside out_dir")
        archive.extract(name, out_dir)
        progress.update()
      progress.done()
  except zipfile.BadZipFile as err:
    raise DataError(path, f"not a valid zip archive ({err})") from None
  with open(marker, "w") as f:
    f.write("\n".join(names) + "\n")


def download(items: Sequence[str], out_dir: str, mirror: Optional[str] = None,
             unzip: bool = True, chunk_bytes: int = 4 << 20) -> List[str]:
  """Downloads (and extracts) every file of the items; returns the file paths."""
  unknown = sorted(set(items) - set(SOURCES))
  if unknown:
    raise DataError(None, f"unknown item(s) {unknown}; expected {sorted(SOURCES)}")
  os.makedirs(out_dir, exist_ok=True)
  if shutil.disk_usage(out_dir).free < (1 << 30):
    logging.warning("less than 1 GiB free in %s", out_dir)
  paths = []
  for item in items:
    for source in SOURCES[item]:
      path = download_file(source, out_dir, mirror, chunk_bytes)
      if unzip and source.extract:
        extract(path, out_dir)
      paths.append(path)
  return paths


def main(argv):
  del argv
  if not FLAGS.out:
    raise DataError(None, "--out is required")
  download(FLAGS.items, FLAGS.out, FLAGS.mirror, FLAGS.extract,
           FLAGS.chunk_mb << 20)


def define_flags() -> None:
  """Defines the command-line flags (only when run as a program)."""
  flags.DEFINE_string("out", None, "Directory the files are written into.")
  flags.DEFINE_alias("out_dir", "out")  # the name before the --out convention
  flags.DEFINE_list("items", DEFAULT_ITEMS,
                    f"What to download; any of {sorted(SOURCES)}.")
  flags.DEFINE_string("mirror", None,
                      "Fetch every file as MIRROR/<file name> instead of its URL.")
  flags.DEFINE_boolean("extract", True, "Unzip archives after downloading.")
  flags.DEFINE_integer("chunk_mb", 4, "Read size per request chunk, MiB.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
