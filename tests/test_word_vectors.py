"""Tests for svlr_tf.text.word_vectors: loaders, dispatch, the unknown-word table."""

import gzip

import numpy as np
import pytest

from svlr_tf.text import word_vectors as wv
from svlr_tf.runtime.errors import DataError

WORDS = ["dog", "cat", "fire", "hydrant", "caf\u00e9"]
VECTORS = np.arange(len(WORDS) * 4, dtype=np.float32).reshape(len(WORDS), 4) / 7


def _small():
  return wv.WordVectors(WORDS, VECTORS, "small")


def _save_word2vec(path, binary):
  from gensim.models import KeyedVectors
  kv = KeyedVectors(vector_size=4)
  kv.add_vectors(WORDS, VECTORS)
  kv.save_word2vec_format(str(path), binary=binary)


def test_word_vectors_basics():
  vectors = _small()
  assert vectors.dim == 4 and len(vectors) == 5
  assert vectors.has("cat") and not vectors.has("Cat")
  np.testing.assert_array_equal(vectors.vector("cat"), VECTORS[1])
  assert vectors.vector("cat").dtype == np.float32
  with pytest.raises(KeyError):
    vectors.vector("zebra")
  np.testing.assert_allclose(vectors.mean_norm,
                             np.linalg.norm(VECTORS, axis=1).mean(), rtol=1e-6)
  with pytest.raises(ValueError):
    wv.WordVectors(["a"], VECTORS, "bad")


def test_glove_package_loads():
  glove = wv.load_glove_package()
  assert glove.name == "glove-6b-50d"
  assert glove.vectors.shape == (400000, 50)
  assert glove.vectors.dtype == np.float32
  assert glove.words[:3] == ["the", ",", "."]
  assert glove.has("dog") and glove.has("giraffe")
  # The cached object is shared, not loaded twice.
  assert wv.load_word_vectors("glove-6b-50d") is glove
  similar = float(np.dot(glove.vector("dog"), glove.vector("cat")))
  unrelated = float(np.dot(glove.vector("dog"), glove.vector("economy")))
  assert similar > unrelated


@pytest.mark.parametrize("name, binary", [
    ("vectors.bin", True), ("vectors.txt", False), ("vectors.vec", False)])
def test_word2vec_round_trip(tmp_path, name, binary):
  path = tmp_path / name
  _save_word2vec(path, binary)
  for loaded in (wv.load_word2vec(str(path)), wv.load_word_vectors(str(path))):
    assert loaded.words == WORDS
    np.testing.assert_allclose(loaded.vectors, VECTORS, rtol=1e-6)
    assert loaded.vectors.dtype == np.float32
    assert loaded.name == name
  assert wv.load_word2vec(str(path), limit=2).words == WORDS[:2]


def test_word2vec_binary_gz(tmp_path):
  path = tmp_path / "vectors.bin"
  _save_word2vec(path, True)
  gz = tmp_path / "vectors.bin.gz"
  gz.write_bytes(gzip.compress(path.read_bytes()))
  assert wv.load_word_vectors(str(gz)).words == WORDS


def _glove_lines(header=False):
  lines = ["%d 4" % len(WORDS)] if header else []
  for word, row in zip(WORDS, VECTORS):
    lines.append(word + " " + " ".join(repr(float(x)) for x in row))
  return "\n".join(lines) + "\n"


@pytest.mark.parametrize("header", [False, True])
def test_glove_text(tmp_path, header):
  path = tmp_path / "glove.txt"
  path.write_text(_glove_lines(header) + "\n", encoding="utf-8")
  for loaded in (wv.load_glove_text(str(path)), wv.load_word_vectors(str(path))):
    assert loaded.words == WORDS
    np.testing.assert_allclose(loaded.vectors, VECTORS, rtol=1e-6)


def test_glove_text_gz_and_spaced_word(tmp_path):
  path = tmp_path / "glove.txt.gz"
  content = _glove_lines() + "new york 1 2 3 4\n"
  path.write_bytes(gzip.compress(content.encode("utf-8")))
  loaded = wv.load_word_vectors(str(path))
  assert loaded.words == WORDS + ["new york"]
  np.testing.assert_array_equal(loaded.vector("new york"), [1, 2, 3, 4])


@pytest.mark.parametrize("content, problem", [
    ("", "no word vectors"),
    ("dog 1 2 3\ncat 1 2\n", "line 2: 2 numbers, expected 3"),
    ("dog 1 2 3\ncat 1 x 3\n", "line 2: not a number"),
    ("dog 1 nan 3\n", "line 1: NaN"),
    ("dog\n", "line 1: expected a word and numbers"),
])
def test_glove_text_malformed(tmp_path, content, problem):
  path = tmp_path / "bad.txt"
  path.write_text(content, encoding="utf-8")
  with pytest.raises(DataError, match=problem) as err:
    wv.load_glove_text(str(path))
  assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_malformed_and_missing_files(tmp_path):
  bad_bin = tmp_path / "bad.bin"
  bad_bin.write_bytes(b"garbage\x00\x01\x02")
  with pytest.raises(DataError, match="not a binary word2vec file") as err:
    wv.load_word_vectors(str(bad_bin))
  assert str(bad_bin) in str(err.value)
  bad_w2v = tmp_path / "bad.txt"
  bad_w2v.write_text("3 4\ndog 1 2 3 4\ncat 1 2\n")
  with pytest.raises(DataError, match="not a text word2vec file"):
    wv.load_word_vectors(str(bad_w2v))
  not_utf8 = tmp_path / "latin1.txt"
  not_utf8.write_bytes(b"caf\xe9 1 2\n")
  with pytest.raises(DataError, match="UTF-8"):
    wv.load_word_vectors(str(not_utf8))
  missing = tmp_path / "missing.bin"
  for load in (wv.load_word_vectors, wv.load_word2vec, wv.load_glove_text):
    with pytest.raises(DataError, match="missing.bin"):
      load(str(missing))


def test_build_table_known_composed_and_unknown():
  vectors = _small()
  words = ["<pad>", "<unk>", "dog", "Cat", "fire hydrant", "fire-hydrant",
           "zebra", "quagga"]
  table, unknown = wv.build_table(vectors, words)
  assert table.shape == (len(words), 4) and table.dtype == np.float32
  assert unknown == ["<unk>", "fire hydrant", "fire-hydrant", "zebra", "quagga"]
  np.testing.assert_array_equal(table[0], 0)
  np.testing.assert_array_equal(table[2], VECTORS[0])
  np.testing.assert_array_equal(table[3], VECTORS[1])            # lowercased
  mean = (VECTORS[2] + VECTORS[3]) / 2
  np.testing.assert_allclose(table[4], mean, rtol=1e-6)
  np.testing.assert_allclose(table[5], mean, rtol=1e-6)
  # pseudo-random vectors: scaled to the mean norm, distinct, reproducible
  for row in (1, 6, 7):
    np.testing.assert_allclose(np.linalg.norm(table[row]), vectors.mean_norm,
                               rtol=1e-5)
  assert not np.allclose(table[6], table[7])
  again, _ = wv.build_table(vectors, ["quagga", "zebra"])
  np.testing.assert_array_equal(again[0], table[7])
  np.testing.assert_array_equal(again[1], table[6])


def test_unknown_word_vector_is_fixed():
  # The vector depends only on the word (crc32 seed), never on global state.
  np.random.seed(0)
  first = wv.unknown_word_vector("quagga", 5, 2.0)
  np.random.seed(1)
  second = wv.unknown_word_vector("quagga", 5, 2.0)
  np.testing.assert_array_equal(first, second)
  np.testing.assert_allclose(np.linalg.norm(first), 2.0, rtol=1e-6)
  assert not np.allclose(first, wv.unknown_word_vector("okapi", 5, 2.0))


def test_build_table_glove_composes_phrases():
  glove = wv.load_glove_package()
  table, unknown = wv.build_table(glove, ["<pad>", "dog", "hot_dog"])
  assert unknown == ["hot_dog"]
  expected = (glove.vector("hot") + glove.vector("dog")) / 2
  np.testing.assert_allclose(table[2], expected, rtol=1e-6)


@pytest.mark.parametrize("suffix", [".bin", ".bin.gz"])
def test_streamed_subset_gives_the_same_table_as_the_whole_file(tmp_path, suffix):
  """prepare_vocab's streamed read: the same build_table rows (kept words, parts,
  case variants, a repeated word's first row, unknown words scaled by the whole
  file's mean norm) with only the candidates' rows in memory."""
  import gzip
  rng = np.random.default_rng(3)
  words = ["Dog", "dog", "fire", "hydrant", "Tennis", "x", "dog", "café"]
  words += [f"filler{i}" for i in range(70_000)]  # more than one norm block
  vectors = (rng.standard_normal((len(words), 8)) * rng.uniform(0.5, 2, (len(words), 1))
             ).astype(np.float32)
  blob = b"".join(w.encode() + b" " + v.tobytes() + b"\n" for w, v in zip(words, vectors))
  data = f"{len(words)} 8\n".encode() + blob
  path = tmp_path / f"vectors{suffix}"
  path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
  vocab = ["<pad>", "<unk>", "dog", "fire hydrant", "tennis", "cafe", "zebra", "café"]
  whole = wv.load_word_vectors(str(path))
  subset = wv.load_word_vectors(str(path), keep=wv.lookup_candidates(vocab))
  assert len(subset) < 10 and subset.mean_norm == whole.mean_norm
  for (a, ua), (b, ub) in [(wv.build_table(whole, vocab), wv.build_table(subset, vocab))]:
    np.testing.assert_array_equal(a, b)
    assert ua == ub == ["<unk>", "fire hydrant", "cafe", "zebra"]
  limited = wv.read_word2vec_subset(str(path), {"dog"}, limit=3)
  assert limited.words == ["dog"]
  assert limited.mean_norm == pytest.approx(np.linalg.norm(vectors[:3], axis=1).mean())
  cut = tmp_path / "cut.bin"
  cut.write_bytes(data[:-100])
  with pytest.raises(DataError, match=r"cut.bin: truncated at vector 70006 of 70008"):
    wv.read_word2vec_subset(str(cut), {"dog"})
