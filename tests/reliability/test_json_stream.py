"""svlr_tf.runtime.json_stream: a big JSON list read one element at a time."""

import json
import re

import pytest

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.json_stream import iter_json_array


def _elements(path, key=None, chunk=7):
  return [v for _, v in iter_json_array(str(path), key, chunk=chunk)]


DOCUMENT = [{"image_id": i, "name": "caf\u00e9 \u4e2d" * (i % 3), "x": i * 1.5,
             "n": 10 ** 12 + i, "objects": [{"a": [1, 2, None, True]}] * (i % 4)}
            for i in range(25)] + [123456789, -0.25e-3, "s", None, [], {}]


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_the_elements_are_what_json_load_gives_at_any_chunk_size(tmp_path, chunk, indent):
  path = tmp_path / "a.json"
  path.write_text(json.dumps(DOCUMENT, indent=indent, ensure_ascii=False), "utf-8")
  assert _elements(path, chunk=chunk) == json.loads(path.read_text("utf-8"))
  obj = {"info": {"year": 2015, "list": [1, 2]}, "questions": DOCUMENT, "license": "x"}
  path.write_text(json.dumps(obj, indent=indent, ensure_ascii=False), "utf-8")
  assert _elements(path, "questions", chunk) == DOCUMENT
  assert [i for i, _ in iter_json_array(str(path), "questions", chunk)] == list(
      range(len(DOCUMENT)))


def test_a_number_cut_by_the_buffer_is_read_whole(tmp_path):
  path = tmp_path / "n.json"
  path.write_text("[1234567890123]")
  assert [_elements(path, chunk=c) for c in (1, 2, 5)] == [[1234567890123]] * 3


def test_empty_lists_and_objects(tmp_path):
  path = tmp_path / "e.json"
  path.write_text(" [ ] ")
  assert _elements(path) == []
  path.write_text('{"questions": []}')
  assert _elements(path, "questions") == []


@pytest.mark.parametrize("text,problem", [
    ('[{"a": 1}, {"a": 2,}]', r"malformed JSON at byte 19: Expecting property name"),
    ('[{"a": 1} {"a": 2}]', r"malformed JSON at byte 10: expected ',' or ']'"),
    ('[{"a": 1}, {"a": 2}', r"malformed JSON at byte 19: expected ',' or ']', found the end"),
    ('[{"a": 1}, ]', r"malformed JSON at byte 11: Expecting value"),
    ('[{"a": "caf\u00e9"}, x]', r"malformed JSON at byte 17: Expecting value"),
    ('[1] [2]', r"malformed JSON at byte 4: extra data after the JSON value"),
    ('{"a": 1}', r"expected a JSON list"),
    ("", r"expected a JSON list"),
])
def test_malformed_files_are_one_line_errors_with_the_byte_offset(tmp_path, text, problem):
  path = tmp_path / "bad.json"
  path.write_bytes(text.encode("utf-8"))
  for chunk in (2, 1 << 20):
    with pytest.raises(DataError) as err:
      _elements(path, chunk=chunk)
    assert re.fullmatch(re.escape(str(path)) + ": " + problem + ".*", str(err.value)), \
        str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text,problem", [
    ('[]', "expected a JSON object with a 'questions' list"),
    ('{"info": 1}', "expected a JSON object with a 'questions' list"),
    ('{"questions": {}}', "expected a JSON object with a 'questions' list"),
    ('{"info": 1, "questions": [1],}', r"malformed JSON at byte 29: expected a member"),
    ('{"info" 1, "questions": [1]}', r"malformed JSON at byte 8: expected ':'"),
])
def test_an_object_without_the_list(tmp_path, text, problem):
  path = tmp_path / "q.json"
  path.write_text(text)
  with pytest.raises(DataError, match=problem):
    _elements(path, "questions")


def test_missing_and_non_utf8_files(tmp_path):
  with pytest.raises(DataError, match="missing file"):
    _elements(tmp_path / "none.json")
  path = tmp_path / "latin1.json"
  path.write_bytes(b'[{"a": "caf\xe9"}]')
  with pytest.raises(DataError, match=r"latin1.json: not UTF-8 text \(byte 11\)"):
    _elements(path)


@pytest.mark.parametrize("elements", [[], [{"a": "caf\u00e9", "b": [1, 2.5]}],
                                      [{"q": i, "c": ["x"] * i} for i in range(5)]])
def test_json_list_writer_writes_the_bytes_of_a_whole_object_write(tmp_path, elements):
  import numpy as np
  from svlr_tf.runtime.files import atomic_write_json
  from svlr_tf.runtime.json_stream import JsonListWriter
  header = {"info": {"description": "d \u4e2d", "version": "1"}, "n": np.int64(18)}
  atomic_write_json(str(tmp_path / "whole.json"), dict(header, questions=elements))
  writer = JsonListWriter(str(tmp_path / "streamed.json"), "questions", {"n": 0})
  writer.header = header  # may be set until the first element
  for element in elements:
    writer.add(element)
  assert not (tmp_path / "streamed.json").exists()  # not before close
  writer.close()
  assert (tmp_path / "streamed.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
  assert sorted(p.name for p in tmp_path.iterdir()) == ["streamed.json", "whole.json"]
  writer = JsonListWriter(str(tmp_path / "streamed.json"), "questions", header)
  writer.add({"other": 1})
  writer.abort()  # the earlier file stays, no temporary left
  assert (tmp_path / "streamed.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
  assert sorted(p.name for p in tmp_path.iterdir()) == ["streamed.json", "whole.json"]
