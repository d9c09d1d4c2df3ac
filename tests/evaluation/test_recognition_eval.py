import numpy as np
import pytest

from svlr_tf.evaluation import recognition_eval as re


def test_object_hits_counts_annotated_names_only():
  scores = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.0], [0.0, 0.1, 0.7]])
  labels = np.array([[0, 1, 0], [0, 1, 0], [1, 0, 1]])
  np.testing.assert_array_equal(re.object_hits(scores, labels), [True, False, True])


def test_attribute_hits_top_k_fraction():
  scores = np.array([[0.9, 0.8, 0.1, 0.0],   # top-2 = {0, 1}; targets {0, 2} -> 1/2
                     [0.1, 0.2, 0.3, 0.4],   # top-1 = {3}; target {3} -> 1
                     [0.5, 0.5, 0.5, 0.5]])  # no attributes -> NaN
  targets = np.array([[1, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
  hits = re.attribute_hits(scores, targets)
  np.testing.assert_allclose(hits[:2], [0.5, 1.0])
  assert np.isnan(hits[2])


def test_per_class_and_metrics():
  hits = np.array([True, False, True, True])
  labels = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])
  per_class = re.per_class_object_accuracy(hits, labels)
  np.testing.assert_allclose(per_class[:2], [2 / 3, 1.0])
  assert np.isnan(per_class[2])
  m = re.recognition_metrics(np.eye(3)[[0, 1, 2]], np.eye(3)[[0, 0, 2]],
                             np.array([[1.0, 0.0]] * 3), np.array([[1, 0], [0, 1], [0, 0]]))
  assert m["object_accuracy"] == 66.67
  assert m["attribute_accuracy"] == 50.0
  assert m["num_regions"] == 3


def test_fig5_grid_bins_classes():
  genome = np.array([1, 2, 3, 10, 20, 30, 100, 200, 300])
  vqa = np.array([0, 5, 25, 0, 5, 25, 0, 5, 25])
  base = np.arange(9, dtype=float)
  change = np.ones(9)
  cells, edges = re.transfer_grid(genome, vqa, base, change)
  assert len(cells) == 9 and all(n == 1 for _, _, n in cells.values())
  assert cells[(2, 0)] == (2.0, 1.0, 1)   # 25 VQA mentions, rarest Genome tercile


def test_paired_recognition_changes_by_hand():
  # 4 regions of classes 0, 0, 1, 1; attribute targets on regions 0 and 2.
  labels = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], float)
  targets = np.array([[1, 0], [0, 0], [0, 1], [0, 0]], float)
  wrong = np.array([[0, 1], [0, 1], [1, 0], [1, 0]], float)   # every region wrong
  right = labels.copy()
  a = [(wrong, labels, wrong, targets)] * 3
  b = [(right, labels, right, targets), (right, labels, wrong, targets),
       (wrong, labels, right, targets)]
  out = re.paired_recognition_changes(a, b)
  # Objects: +100, +100, 0 points per seed; attributes: +100, 0, +100.
  assert out["objects"]["difference"] == pytest.approx(66.67)
  assert out["attributes"]["difference"] == pytest.approx(66.67)
  assert out["objects"]["num_regions"] == 4 and out["attributes"]["num_regions"] == 2
  assert out["objects"]["seed_std"] == pytest.approx(57.74)
  # Every region changes alike: no sampling part, the t(2) interval of the seeds.
  assert out["objects"]["question_se"] == 0.0
  assert out["objects"]["half_width"] == pytest.approx(4.302653 * 57.735 / np.sqrt(3),
                                                       abs=0.01)
  assert "test regions' sampling, regions clustered by object class" in out["objects"]["method"]
  with pytest.raises(ValueError, match="same seeds"):
    re.paired_recognition_changes(a, b[:2])
