"""VQA-HAT maps in their released layout (<question_id>_<n>.png), written by the test."""

import numpy as np
import pytest
from PIL import Image

from svlr_tf.data.hat import hat_files, load_hat_map
from svlr_tf.runtime.errors import DataError


def _write(path, array):
  Image.fromarray(np.asarray(array, np.uint8), mode="L").save(path)


def test_hat_files_and_maps(tmp_path):
  val = tmp_path / "vqahat_val"
  val.mkdir()
  left = np.zeros((28, 42), np.uint8)
  left[:, :21] = 255
  _write(val / "4870251_2.png", left)
  _write(val / "4870251_1.png", 255 - left)
  _write(val / "17_1.png", np.full((10, 10), 128))
  (val / "notes.txt").write_text("not a map")
  files = hat_files(str(tmp_path))  # the parent of vqahat_val works too
  assert sorted(files) == [17, 4870251]
  assert [p.split("/")[-1] for p in files[4870251]] == ["4870251_1.png", "4870251_2.png"]
  m = load_hat_map(files[4870251][1], grid=14)
  assert m.shape == (14, 14)
  np.testing.assert_allclose(m[:, :7], 1.0)
  np.testing.assert_allclose(m[:, 7:], 0.0)


def test_hat_errors(tmp_path):
  with pytest.raises(DataError, match="no such directory"):
    hat_files(str(tmp_path / "missing"))
  with pytest.raises(DataError, match="no VQA-HAT maps"):
    hat_files(str(tmp_path))
  bad = tmp_path / "5_1.png"
  bad.write_bytes(b"not a png")
  with pytest.raises(DataError, match="5_1.png: cannot read the attention map"):
    load_hat_map(str(bad))
