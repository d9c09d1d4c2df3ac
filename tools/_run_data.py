"""A run's (or an export bundle's) prepared data, found and checked before
TensorFlow and the model are loaded (``tools.ask``, ``tools.serve``).

Loading the model takes 20-60 s; a wrong ``--workdir``, a missing data directory
or an image id that is not in the data are found here first, in well under a
second, as one-line ``DataError``s.

    source = find_source("runs/table1/seed0/joint_svlr", data_dir=None)
    source.kind                        # "run" or "bundle"
    source.data_dir                    # the prepared data (None: a bundle without --data_dir)
    check_image(source, "1000000")     # DataError if the id is in neither feature store
    questions_by_split(source.data_dir)  # {split: [VQA question records]}, for --list_images
"""

from __future__ import annotations

import collections
import dataclasses
import os
from typing import Dict, List, Optional

from svlr_tf.data.prepared.layout import UNANNOTATED_VQA_SPLITS, VQA_SPLITS
from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import iter_jsonl, read_json

# ``svlr_tf.inference.bundle.FORMAT`` (that module imports TensorFlow; a test
# keeps the two equal).
BUNDLE_FORMAT = "svlr_tf.bundle"
LIST_IMAGES_HINT = "--list_images lists the valid ids"
# The fields of a VQA record that browsing needs (the rest are the model's inputs).
QUESTION_FIELDS = ("question_id", "image_id", "question", "question_type", "answer",
                   "answers", "choices")


@dataclasses.dataclass
class Source:
  """Where a model and its data are.

  Attributes:
    kind: "run" (a run's work directory) or "bundle" (``tools.export``).
    workdir: the directory given.
    data_dir: the prepared data: ``--data_dir``, else a run's ``data.json``;
      None for a bundle without ``--data_dir`` (no image ids then).
  """

  kind: str
  workdir: str
  data_dir: Optional[str]


def find_source(workdir: str, data_dir: Optional[str] = None) -> Source:
  """Which kind ``workdir`` is and where its prepared data is; DataError naming
  the directory or file when neither a run nor a bundle, or the data is missing."""
  if not workdir:
    raise DataError(None, "--workdir is required: a run's work directory or a bundle "
                    "of tools.export")
  if not os.path.exists(workdir):
    raise DataError(workdir, "no such directory (give a run's work directory or a "
                    "bundle of tools.export)")
  if not os.path.isdir(workdir):
    raise DataError(workdir, "is a file, not a directory (give a run's work "
                    "directory or a bundle of tools.export)")
  meta = os.path.join(workdir, "meta.json")
  if os.path.isfile(meta) and _format(meta) == BUNDLE_FORMAT:
    kind = "bundle"
  elif os.path.isfile(os.path.join(workdir, "config.json")):
    kind = "run"
  else:
    raise DataError(workdir, "neither a run's work directory (no config.json) nor a "
                    "bundle of tools.export (no meta.json)")
  if data_dir is None and kind == "run":
    record = os.path.join(workdir, "data.json")
    if not os.path.isfile(record):
      raise DataError(record, "missing (a run from before data.json was recorded): "
                      "pass the prepared data directory with --data_dir")
    data_dir = read_json(record).get("data_dir")
    if not isinstance(data_dir, str):
      raise DataError(record, "has no data_dir: pass --data_dir")
  if data_dir is not None:
    if not os.path.isdir(data_dir):
      raise DataError(data_dir, "the prepared data directory does not exist"
                      + ("" if kind == "bundle" else
                         f" (recorded in {os.path.join(workdir, 'data.json')}; "
                         "--data_dir gives another)"))
    if not os.path.isfile(os.path.join(data_dir, "meta.json")):
      raise DataError(data_dir, "not a prepared data directory (no meta.json)")
  return Source(kind, workdir, data_dir)


def _format(meta_path: str):
  try:
    meta = read_json(meta_path)
  except DataError:
    return None
  return meta.get("format") if isinstance(meta, dict) else None


def check_image(source: Source, image: str) -> None:
  """DataError (before the model loads) when ``image`` is an id that is in
  neither of the data's feature stores, or a picture file that does not exist."""
  image = str(image).strip()
  if not image:
    raise DataError(None, "--image is empty: give an image id of the run's data "
                    f"({LIST_IMAGES_HINT}) or a picture file")
  if not image.isdigit():
    if not os.path.isfile(image):
      raise DataError(image, f"no such picture file (or give an image id: "
                      f"{LIST_IMAGES_HINT})")
    return
  if source.data_dir is None:
    raise DataError(source.workdir, f"image {image}: a bundle has no data of its "
                    "own; give the prepared data with --data_dir")
  if not image_in_data(source.data_dir, int(image)):
    raise DataError(source.data_dir, f"image {image} is in neither feature store "
                    f"(vqa, genome) of this data; {LIST_IMAGES_HINT}")


def image_in_data(data_dir: str, image_id: int) -> bool:
  """Whether ``image_id`` has regions in the VQA or the Genome feature store."""
  from svlr_tf.data.feature_store import FeatureStore  # pylint: disable=import-outside-toplevel
  from svlr_tf.data.prepared.layout import feature_store_path  # pylint: disable=import-outside-toplevel
  for kind in ("vqa", "genome"):
    path = feature_store_path(data_dir, kind)
    if os.path.isdir(path) and image_id in FeatureStore(path):
      return True
  return False


def vqa_splits(data_dir: str) -> List[str]:
  """The VQA splits present in the data (``vqa/<split>.jsonl``), in order."""
  return [s for s in VQA_SPLITS + UNANNOTATED_VQA_SPLITS
          if os.path.isfile(os.path.join(data_dir, "vqa", f"{s}.jsonl"))]


def read_questions(data_dir: str, split: str) -> List[dict]:
  """The questions of one VQA split: dicts of ``QUESTION_FIELDS`` (those present)."""
  path = os.path.join(data_dir, "vqa", f"{split}.jsonl")
  out = []
  for lineno, record in iter_jsonl(path):
    if not isinstance(record, dict) or "image_id" not in record:
      raise DataError(path, f"line {lineno}: not a question record (no image_id)")
    out.append({k: record[k] for k in QUESTION_FIELDS if k in record})
  return out


def list_images(data_dir: str) -> List[str]:
  """The lines of ``--list_images``: per VQA split, each image id and its number
  of questions; the Genome store's image count (recognition only)."""
  lines = []
  for split in vqa_splits(data_dir):
    counts = collections.Counter(q["image_id"] for q in read_questions(data_dir, split))
    lines.append(f"vqa {split}: {len(counts)} images, {sum(counts.values())} questions "
                 f"({os.path.join(data_dir, 'vqa', split + '.jsonl')})")
    lines.extend(f"  {image_id}  {n} question{'s' if n != 1 else ''}"
                 for image_id, n in sorted(counts.items()))
  from svlr_tf.data.feature_store import FeatureStore  # pylint: disable=import-outside-toplevel
  from svlr_tf.data.prepared.layout import feature_store_path  # pylint: disable=import-outside-toplevel
  genome = feature_store_path(data_dir, "genome")
  if os.path.isdir(genome):
    ids = FeatureStore(genome).image_ids
    if len(ids):
      lines.append(f"genome: {len(ids)} images without questions (ids {int(ids.min())}"
                   f"-{int(ids.max())}; for --words)")
  return lines


def group_by_image(questions: List[dict]) -> Dict[int, List[dict]]:
  """{image id: its questions, in file order}, images in file order."""
  out: Dict[int, List[dict]] = {}
  for q in questions:
    out.setdefault(int(q["image_id"]), []).append(q)
  return out
