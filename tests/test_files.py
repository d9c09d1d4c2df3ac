import pytest

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_write_json, iter_jsonl, read_json


def test_iter_jsonl_numbers_lines_and_skips_blanks(tmp_path):
  p = tmp_path / "a.jsonl"
  p.write_bytes(b'{"a": 1}\n\n[2]\n')
  assert list(iter_jsonl(str(p))) == [(1, {"a": 1}), (3, [2])]


@pytest.mark.parametrize("content, problem", [
    (b'{"a": 1}\n{"a": \n', "line 2: malformed JSON"),
    (b'{"a": 1}\n\xff\xfe\n', "line 2: not UTF-8"),
])
def test_iter_jsonl_bad_lines_are_one_line_errors(tmp_path, content, problem):
  p = tmp_path / "bad.jsonl"
  p.write_bytes(content)
  with pytest.raises(DataError) as err:
    list(iter_jsonl(str(p)))
  assert problem in str(err.value) and str(p) in str(err.value)
  assert "\n" not in str(err.value)


def test_read_json_and_atomic_write(tmp_path):
  p = tmp_path / "x.json"
  atomic_write_json(str(p), {"k": [1, 2]})
  assert read_json(str(p)) == {"k": [1, 2]}
  assert [f.name for f in tmp_path.iterdir()] == ["x.json"]  # no temp file left
  with pytest.raises(DataError, match="missing.json: missing file"):
    read_json(str(tmp_path / "missing.json"))


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_prepared_files_get_the_umask_permissions(tmp_path, umask, mode):
  import os
  import stat
  import numpy as np
  from svlr_tf.data.prepared import PreparedWriter
  old = os.umask(umask)
  try:
    w = PreparedWriter(str(tmp_path / "p"))
    w.write_meta({"feature_dim": 2, "regions_per_image": 1})
    w.write_vocab(["<pad>", "<unk>", "dog"], np.ones((3, 2)))
    w.write_classes(["dog"], ["brown"], {})
    w.write_recognition("train", [{"image_id": 1, "region": 0, "objects": ["dog"],
                                   "attributes": []}])
    with w.feature_store("genome", dim=2, with_boxes=True) as fs:
      fs.add(1, np.ones((1, 2)), [[0, 0, 4, 4]])
  finally:
    os.umask(old)
  files = [os.path.join(root, n) for root, _, names in os.walk(tmp_path / "p")
           for n in names]
  assert len(files) >= 8
  for path in files:
    assert stat.S_IMODE(os.stat(path).st_mode) == mode, path


@pytest.mark.parametrize("content, problem", [
    (b'{"a": 1,\n  "b": }', r"malformed JSON at line 2 column 8: Expecting value"),
    (b'{"a": "\xff"}', r"not UTF-8 text \(byte 7\)"),
])
def test_read_json_errors_are_one_line(tmp_path, content, problem):
  p = tmp_path / "bad.json"
  p.write_bytes(content)
  with pytest.raises(DataError, match=problem) as err:
    read_json(str(p))
  assert "\n" not in str(err.value) and str(err.value).startswith(str(p))
