"""Recognition accuracy on Visual Genome regions (Sec. 5.3, Fig. 5).

The paper reports "overall object recognition accuracy" (43.3% Genome only) and
"average attribute accuracy" (36.9%) without defining them.  Our reading (also in
docs/interpretations.md):

* object accuracy: the fraction of regions whose top-1 object score over all |O|
  classes is one of the region's *annotated* object names (a hypernym that was only
  added for the loss of Eq. 1 does not count, so predicting "entity" is not free);
* per-class object accuracy (Fig. 5): the same, restricted to the regions annotated
  with that class;
* attribute accuracy: for a region with k annotated attributes, the fraction of them
  among its k top-scoring attributes, averaged over regions with k >= 1.
"""

from __future__ import annotations

from typing import Dict

import numpy as np


def object_hits(object_scores: np.ndarray, object_labels: np.ndarray) -> np.ndarray:
  """Whether each region's top-1 object is annotated.

  Args:
    object_scores: [M, O] scores f_o(R)^T g(w).
    object_labels: [M, O] multi-hot annotated names (no hypernyms).

  Returns:
    [M] bool.
  """
  top = np.argmax(object_scores, axis=-1)
  labels = np.asarray(object_labels) > 0
  return np.take_along_axis(labels, top[:, None], axis=1)[:, 0]


def attribute_hits(attribute_scores: np.ndarray,
                   attribute_targets: np.ndarray) -> np.ndarray:
  """Per-region fraction of its k annotated attributes found in its top-k.

  Args:
    attribute_scores: [M, T].
    attribute_targets: [M, T] multi-hot.

  Returns:
    [M] float, NaN for regions without attributes.
  """
  targets = np.asarray(attribute_targets) > 0
  k = targets.sum(axis=1)
  order = np.argsort(-np.asarray(attribute_scores), axis=1, kind="stable")
  ranks = np.empty_like(order)
  rows = np.arange(order.shape[0])[:, None]
  ranks[rows, order] = np.arange(order.shape[1])[None, :]
  in_top_k = ranks < k[:, None]
  hits = (in_top_k & targets).sum(axis=1).astype(np.float64)
  return np.where(k > 0, hits / np.maximum(k, 1), np.nan)


def per_class_object_accuracy(hits: np.ndarray,
                              object_labels: np.ndarray) -> np.ndarray:
  """[O] object accuracy per annotated class (NaN where a class has no region).

  Args:
    hits: [M] bool from `object_hits`.
    object_labels: [M, O] multi-hot annotated names.
  """
  labels = np.asarray(object_labels) > 0
  counts = labels.sum(axis=0)
  correct = (labels & np.asarray(hits)[:, None]).sum(axis=0)
  return np.where(counts > 0, correct / np.maximum(counts, 1), np.nan)


def recognition_metrics(object_scores, object_labels, attribute_scores,
                        attribute_targets) -> Dict[str, float]:
  """Object and attribute accuracy in percent (2 decimals)."""
  hits = object_hits(object_scores, object_labels)
  attr = attribute_hits(attribute_scores, attribute_targets)
  attr = attr[~np.isnan(attr)]
  nan = float("nan")
  return {
      "object_accuracy": round(100.0 * float(np.mean(hits)), 2) if hits.size else nan,
      "attribute_accuracy": round(100.0 * float(np.mean(attr)), 2) if attr.size else nan,
      "num_regions": int(hits.size),
  }


# VQA-mention bins of Fig. 5 (inclusive ranges; None = no upper bound).
VQA_BINS = ((0, 0), (1, 19), (20, None))


def transfer_grid(genome_freq, vqa_freq, base, change):
  """Fig. 5 cells: per-class accuracy change binned by two class frequencies.

  Args:
    genome_freq: [O] Genome train regions per class.
    vqa_freq: [O] VQA train questions mentioning the class.
    base: [O] accuracy of the recognition-only model (NaN: no test region).
    change: [O] accuracy change with VQA training.

  Returns:
    ({(vqa_bin, genome_bin): (mean base, mean change, number of classes)},
     the two Genome-frequency tercile edges). VQA bins are ``VQA_BINS``.
  """
  valid = ~(np.isnan(base) | np.isnan(change))
  edges = np.quantile(genome_freq[valid], [1 / 3, 2 / 3]) if valid.any() else [0, 0]
  genome_bin = np.digitize(genome_freq, edges, right=True)
  cells = {}
  for vi, (lo, hi) in enumerate(VQA_BINS):
    in_v = (vqa_freq >= lo) & (True if hi is None else vqa_freq <= hi)
    for gi in range(3):
      sel = valid & in_v & (genome_bin == gi)
      if sel.any():
        cells[(vi, gi)] = (round(float(base[sel].mean()), 2),
                           round(float(change[sel].mean()), 2), int(sel.sum()))
  return cells, [float(e) for e in edges]


def class_frequencies(data, data_config):
  """Per object class: Genome train regions, and VQA train questions mentioning it.

  A question mentions a class when the class's (single-word) name is among its
  question nouns or the nouns of its correct answer.

  Args:
    data: a ``PreparedData``; data_config: its ``DataConfig`` (padded lengths).

  Returns:
    (genome [O] int64, vqa [O] int64).
  """
  rec = data.load_recognition("train")
  genome = np.bincount(rec.object_ids, minlength=rec.num_objects).astype(np.int64)
  d = data_config
  vqa = data.load_vqa("train", d.max_question_words, d.max_answer_words, d.num_choices)
  answer_nouns = vqa.choice_nouns[np.arange(len(vqa.label)), vqa.label]
  mentioned = np.concatenate([vqa.question_nouns, answer_nouns], axis=1)
  class_ids = data.class_word_ids("objects", 1)[:, 0]
  counts = np.zeros(len(data.objects), np.int64)
  for c, wid in enumerate(class_ids):
    if wid > 1 and len(data.objects[c].split()) == 1:  # not <pad>/<unk>, one word
      counts[c] = int(np.any(mentioned == wid, axis=1).sum())
  return genome, counts


def transfer_grid_markdown(cells: Dict, edges) -> str:
  """Fig. 5's grid as Markdown: "base +change (classes)" per cell, rows = VQA
  bins (most mentioned first), columns = Genome-frequency terciles."""
  e = edges
  cols = [f"Genome <= {e[0]:.0f}", f"{e[0]:.0f} < Genome <= {e[1]:.0f}",
          f"Genome > {e[1]:.0f}"]
  lines = ["| VQA mentions | " + " | ".join(cols) + " |", "|---|" + "---:|" * 3]
  for vi in reversed(range(len(VQA_BINS))):
    lo, hi = VQA_BINS[vi]
    label = f">= {lo}" if hi is None else (f"{lo}" if lo == hi else f"{lo}-{hi}")
    row = []
    for gi in range(3):
      c = cells.get(f"vqa{vi}_genome{gi}")
      row.append("" if c is None else
                 f"{c['genome_only_accuracy']:.1f} {c['change']:+.1f} ({c['classes']})")
    lines.append(f"| {label} | " + " | ".join(row) + " |")
  return "\n".join(lines) + "\n"


def paired_recognition_changes(scores_a, scores_b) -> Dict[str, dict]:
  """Object and attribute accuracy of row B minus row A, paired by seed and
  region, with intervals over seeds and test regions clustered by class.

  Args:
    scores_a, scores_b: per seed (same seeds, same order), the
      ``Trainer.recognition_scores`` tuple (object_scores [M, O], object_labels
      [M, O], attribute_scores [M, T], attribute_targets [M, T]) of the same
      Genome test regions.
  Returns: {"objects": {...}, "attributes": {...}}, each the fields of
    ``intervals.seed_question_interval`` in points (difference, low, high,
    half_width, seed_std, question_se, num_seeds, num_questions = regions,
    warning) plus "method"; the sampling part treats the regions as drawn in
    clusters of their (first annotated) object class, the analytical form of a
    bootstrap over classes and the regions within them.
  """
  from svlr_tf.evaluation import intervals
  if len(scores_a) != len(scores_b) or not scores_a:
    raise ValueError("paired recognition changes need the same seeds for both rows")
  labels = np.asarray(scores_a[0][1]) > 0
  classes = np.argmax(labels, axis=1)                       # [M] first annotated class
  objects = np.stack([object_hits(b[0], b[1]).astype(np.float64)
                      - object_hits(a[0], a[1]).astype(np.float64)
                      for a, b in zip(scores_a, scores_b)])  # [S, M]
  attributes = np.stack([attribute_hits(b[2], b[3]) - attribute_hits(a[2], a[3])
                         for a, b in zip(scores_a, scores_b)])
  has_attributes = ~np.isnan(attributes[0])
  out = {}
  for name, d, keep in (("objects", objects, np.ones(len(classes), bool)),
                        ("attributes", attributes, has_attributes)):
    interval = intervals.seed_question_interval(100.0 * d[:, keep],
                                                clusters=classes[keep])
    entry = {k: (None if v is None else round(float(v), 2))
             for k, v in (("difference", interval.difference), ("low", interval.low),
                          ("high", interval.high), ("half_width", interval.half_width),
                          ("seed_std", interval.seed_std),
                          ("question_se", interval.question_se))}
    out[name] = dict(entry, num_seeds=interval.num_seeds,
                     num_regions=interval.num_questions, warning=interval.warning,
                     method="t(seeds - 1) interval over the per-seed paired "
                     "differences, combined in quadrature with the normal interval of "
                     "the test regions' sampling, regions clustered by object class")
  return out
