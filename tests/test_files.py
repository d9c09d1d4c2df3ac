import pytest

from svlr_tf.errors import DataError
from svlr_tf.files import atomic_write_json, iter_jsonl, read_json


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
  with pytest.raises(DataError, match="file not found"):
    read_json(str(tmp_path / "missing.json"))
