"""Tests of the prepared format: writer -> reader round trip and DataErrors."""

import json
import os

import numpy as np
import pytest

from svlr_tf.data.prepared import (PreparedData, PreparedWriter, feature_store_path,
                                   FORMAT, VERSION)
from svlr_tf.runtime.errors import DataError

WORDS = ["<pad>", "<unk>", "dog", "cat", "animal", "traffic", "light", "red", "blue",
         "furry", "what", "color", "is", "the", "yes", "no", "1", "2", "3", "green",
         "how", "many", "are", "there"]
OBJECTS = ["dog", "cat", "animal", "traffic_light"]
ATTRIBUTES = ["red", "blue", "furry"]
HYPERNYMS = {"dog": ["animal"], "cat": ["animal"]}
ANSWERS = ["yes", "no", "1", "2", "3", "red", "blue", "green", "dog", "cat", "animal",
           "furry", "traffic light", "the", "what", "is", "color", "there"]


def recognition_records(rng, image_ids, regions_per_image):
  records = []
  for image_id in image_ids:
    for region in range(regions_per_image[image_id]):
      records.append({
          "image_id": int(image_id), "region": region,
          "objects": [OBJECTS[rng.integers(len(OBJECTS))]],
          "attributes": [a for a in ATTRIBUTES if rng.random() < 0.4]})
  return records


def vqa_records(rng, image_ids, per_image, num_choices=18):
  records = []
  for image_id in image_ids:
    for k in range(per_image):
      choices = [ANSWERS[j] for j in rng.permutation(len(ANSWERS))[:num_choices]]
      label = int(rng.integers(num_choices))
      many = bool(rng.random() < 0.5)
      records.append({
          "question_id": int(image_id) * 10 + k, "image_id": int(image_id),
          "question": "how many dogs are there" if many else "what color is the dog",
          "question_type": "how many" if many else "what color is the",
          "answer_type": "number" if many else "other",
          "choices": choices, "answer": choices[label], "label": label,
          "answers": [choices[label]] * 9 + [choices[0]],
          "question_bins": ([["how", "many"], ["dog"], ["are"], ["there"]] if many else
                            [["what", "color"], ["is"], ["the"], ["dog"]]),
          "question_nouns": ["dog"], "question_adjectives": [] if many else ["color"],
          "choice_words": [c.split() for c in choices],
          "choice_nouns": [[w for w in c.split() if w in ("dog", "cat", "light")]
                           for c in choices],
          "choice_adjectives": [[w for w in c.split() if w in ATTRIBUTES]
                                for c in choices]})
  return records


def make_prepared(root, *, seed=0, num_images=8, dim=8, k=4, questions_per_image=3,
                  split_images=None):
  """Writes a tiny prepared directory; returns the records written per split."""
  rng = np.random.default_rng(seed)
  w = PreparedWriter(root)
  w.write_meta({"source": "embedded", "simulated": True, "description": "test",
                "word_vectors": "random", "feature_dim": dim, "regions_per_image": k})
  w.write_vocab(WORDS, rng.normal(size=(len(WORDS), 5)))
  w.write_classes(OBJECTS, ATTRIBUTES, HYPERNYMS)
  image_ids = np.arange(100, 100 + num_images)
  split_images = split_images or {"train": image_ids[:num_images - 2],
                                  "val": image_ids[num_images - 2:-1],
                                  "test": image_ids[-1:]}
  genome_counts = {int(i): int(rng.integers(1, 6)) for i in image_ids}
  out = {"recognition": {}, "vqa": {}}
  for split, ids in split_images.items():
    out["recognition"][split] = recognition_records(rng, ids, genome_counts)
    w.write_recognition(split, out["recognition"][split])
  for split, ids in (("train", image_ids[:-2]), ("heldout", image_ids[-2:-1]),
                     ("test", image_ids[-1:])):
    out["vqa"][split] = vqa_records(rng, ids, questions_per_image)
    w.write_vqa(split, out["vqa"][split])
  out["genome_features"], out["vqa_features"] = {}, {}
  with w.feature_store("genome", dim) as fs:
    for i in image_ids:
      f = rng.normal(size=(genome_counts[int(i)], dim)).astype(np.float32)
      out["genome_features"][int(i)] = f
      fs.add(i, f)
  with w.feature_store("vqa", dim, rows_per_image=k) as fs:
    for i in image_ids:
      f = rng.normal(size=(int(rng.integers(1, k + 1)), dim)).astype(np.float32)
      out["vqa_features"][int(i)] = f
      fs.add(i, f)
  return out


@pytest.fixture
def prepared(tmp_path):
  root = str(tmp_path / "prepared")
  return root, make_prepared(root)


def _ids(data, words, length):
  out = [data.word_to_id[w] for w in words[:length]]
  return out + [0] * (length - len(out))


def test_meta_vocab_classes_round_trip(prepared):
  root, _ = prepared
  data = PreparedData(root)
  assert data.meta["format"] == FORMAT and data.meta["version"] == VERSION
  assert data.meta["source"] == "embedded" and data.meta["description"] == "test"
  assert (data.feature_dim, data.regions_per_image) == (8, 4)
  assert data.words == WORDS and data.word_to_id["dog"] == 2
  assert data.word_vectors.shape == (len(WORDS), 5)
  assert data.word_vectors.dtype == np.float32 and not data.word_vectors[0].any()
  assert data.objects == OBJECTS and data.attributes == ATTRIBUTES
  assert data.object_hypernyms == HYPERNYMS
  ids = data.class_word_ids("objects", 3)
  assert ids.dtype == np.int32 and ids.shape == (4, 3)
  assert ids.tolist() == [[2, 0, 0], [3, 0, 0], [4, 0, 0], [5, 6, 0]]
  assert data.class_word_ids("attributes", 1).tolist() == [[7], [8], [9]]
  assert os.path.isdir(feature_store_path(root, "genome"))
  assert len(data.feature_store("vqa")) == 8


def test_recognition_round_trip(prepared):
  root, records = prepared
  data = PreparedData(root)
  for split in ("train", "val", "test"):
    rec = data.load_recognition(split)
    expected = records["recognition"][split]
    assert len(rec) == len(expected)
    assert rec.image_ids.tolist() == [r["image_id"] for r in expected]
    assert rec.rows.tolist() == [r["region"] for r in expected]
    # The dense properties densify the whole split (O(n * O)): once each.
    object_labels, object_targets = rec.object_labels, rec.object_targets
    attribute_targets = rec.attribute_targets
    assert object_labels.shape == object_targets.shape == (len(expected), len(OBJECTS))
    assert attribute_targets.shape == (len(expected), len(ATTRIBUTES))
    for i, r in enumerate(expected):
      labels = {OBJECTS.index(o) for o in r["objects"]}
      targets = labels | {OBJECTS.index(h) for o in r["objects"]
                          for h in HYPERNYMS.get(o, [])}
      assert set(np.nonzero(object_labels[i])[0]) == labels
      assert set(np.nonzero(object_targets[i])[0]) == targets
      assert set(np.nonzero(attribute_targets[i])[0]) == {
          ATTRIBUTES.index(a) for a in r["attributes"]}
  batch = rec.batch(np.array([0]))
  assert batch["object_targets"].dtype == np.float32


def _genome_records(num_regions):
  objects = [["dog"], ["cat", "dog"], [], ["traffic_light"], ["animal", "dog", "dog"]]
  attributes = [["red"], [], ["blue", "furry"], ["red", "red"], []]
  return [{"image_id": i // 3, "region": i % 3, "objects": objects[i % 5],
           "attributes": attributes[i % 5]} for i in range(num_regions)]


def test_recognition_split_is_sparse_and_batches_match_dense(tmp_path):
  root = str(tmp_path / "p")
  make_prepared(root)
  PreparedWriter(root).write_recognition("big", _genome_records(400))
  rec = PreparedData(root).load_recognition("big")
  # CSR labels, no [n, O] matrix held by the split.
  assert rec.object_indptr.dtype == np.int64 and rec.object_indptr.shape == (401,)
  assert rec.object_ids.dtype == np.int32 and rec.attribute_ids.dtype == np.int32
  assert len(rec.object_ids) == 80 * (1 + 2 + 0 + 1 + 2)  # duplicates dropped
  assert len(rec.attribute_ids) == 80 * (1 + 0 + 2 + 1 + 0)
  assert all(a.ndim == 1 for a in vars(rec).values() if isinstance(a, np.ndarray))
  assert (rec.num_objects, rec.num_attributes) == (len(OBJECTS), len(ATTRIBUTES))
  dense = {"object_targets": rec.object_targets, "object_labels": rec.object_labels,
           "attribute_targets": rec.attribute_targets}
  # Region 0: dog -> dog + animal (hypernym); region 3: traffic_light only.
  assert np.nonzero(dense["object_targets"][0])[0].tolist() == [0, 2]
  assert np.nonzero(dense["object_labels"][0])[0].tolist() == [0]
  assert np.nonzero(dense["object_targets"][3])[0].tolist() == [3]
  indices = np.random.default_rng(0).integers(0, 400, 200)
  batch = rec.batch(indices)
  for key, full in dense.items():
    assert batch[key].dtype == np.float32 and batch[key].ctypes.data % 64 == 0
    np.testing.assert_array_equal(batch[key], full[indices].astype(np.float32))


def test_recognition_cache_rebuilt_when_stale_or_inconsistent(prepared):
  root, records = prepared
  expected = PreparedData(root).load_recognition("train")
  folder = os.path.join(root, "recognition")
  cache = [n for n in os.listdir(folder) if n.startswith(".train.jsonl.")]
  assert len(cache) == 1
  path = os.path.join(folder, cache[0])
  with np.load(path) as z:
    arrays = {k: z[k] for k in z.files}
  # A cache of the same key whose CSR is broken (ids past O) is parsed again.
  bad = dict(arrays, object_ids=arrays["object_ids"] + 100)
  np.savez(path, **bad)
  again = PreparedData(root).load_recognition("train")
  np.testing.assert_array_equal(again.object_ids, expected.object_ids)
  # A version-1 cache (dense bool matrices) has another key: parsed again.
  key = json.loads(str(arrays["cache_key"]))
  key["v"] = 1
  n = len(expected)
  np.savez(path, cache_key=np.array(json.dumps(key, sort_keys=True)),
           image_ids=expected.image_ids, rows=expected.rows,
           object_targets=np.zeros((n, 4), bool), object_labels=np.zeros((n, 4), bool),
           attribute_targets=np.zeros((n, 3), bool))
  again = PreparedData(root).load_recognition("train")
  np.testing.assert_array_equal(again.object_labels, expected.object_labels)
  with np.load(path) as z:
    assert "object_indptr" in z.files and "object_targets" not in z.files


def test_vqa_round_trip_and_cache(prepared):
  root, records = prepared
  data = PreparedData(root)
  first = data.load_vqa("train", 3, 2, 18)
  cached = PreparedData(root).load_vqa("train", 3, 2, 18)
  assert any(n.endswith(".cache.npz") for n in os.listdir(os.path.join(root, "vqa")))
  expected = records["vqa"]["train"]
  for v in (first, cached):
    assert len(v) == len(expected)
    assert v.question_ids.dtype == np.int64 and v.question_bins.dtype == np.int32
    assert v.question_bins.shape == (len(expected), 4, 3)
    assert v.choice_words.shape == (len(expected), 18, 2)
    assert v.question_type_names == ["how many", "what color is the"]
    assert v.answer_type_names == ["number", "other"]
    for i, r in enumerate(expected):
      assert v.question_ids[i] == r["question_id"] and v.image_ids[i] == r["image_id"]
      assert v.question_bins[i].tolist() == [_ids(data, b, 3) for b in r["question_bins"]]
      assert v.question_nouns[i].tolist() == _ids(data, r["question_nouns"], 3)
      assert v.question_adjectives[i].tolist() == _ids(data, r["question_adjectives"], 3)
      for field in ("choice_words", "choice_nouns", "choice_adjectives"):
        assert v.__dict__[field][i].tolist() == [_ids(data, c, 2) for c in r[field]]
      assert v.label[i] == r["label"] and v.answer[i] == r["answer"]
      assert v.choices[i] == r["choices"] and v.answers[i] == r["answers"]
      assert v.questions[i] == r["question"]
      assert v.question_type_names[v.question_type[i]] == r["question_type"]
      assert v.answer_type_names[v.answer_type[i]] == r["answer_type"]
  # Other padding lengths are parsed again, not read from the wrong cache.
  assert data.load_vqa("train", 5, 2, 18).question_bins.shape[2] == 5


def test_official_vqa_files(prepared):
  root, records = prepared
  with open(os.path.join(root, "vqa", "heldout_questions.json")) as f:
    questions = json.load(f)
  with open(os.path.join(root, "vqa", "heldout_annotations.json")) as f:
    annotations = json.load(f)
  expected = records["vqa"]["heldout"]
  assert questions["task_type"] == "Multiple-Choice" and questions["num_choices"] == 18
  q = questions["questions"][0]
  assert q == {"image_id": expected[0]["image_id"], "question": expected[0]["question"],
               "question_id": expected[0]["question_id"],
               "multiple_choices": expected[0]["choices"]}
  a = annotations["annotations"][0]
  assert a["multiple_choice_answer"] == expected[0]["answer"]
  assert a["question_type"] == expected[0]["question_type"]
  assert [x["answer"] for x in a["answers"]] == expected[0]["answers"]
  assert [x["answer_id"] for x in a["answers"]] == list(range(1, 11))
  assert len(annotations["annotations"]) == len(expected)


def test_writers_leave_no_temp_files(prepared):
  root, _ = prepared
  for dirpath, _, names in os.walk(root):
    assert not [n for n in names if ".tmp" in n], dirpath


# -- errors ------------------------------------------------------------------------


def _rewrite_line(path, lineno, edit):
  with open(path) as f:
    lines = f.readlines()
  lines[lineno - 1] = edit(lines[lineno - 1])
  with open(path, "w") as f:
    f.writelines(lines)


def _edit_record(**changes):
  def edit(line):
    rec = json.loads(line)
    for k, v in changes.items():
      if v is None:
        del rec[k]
      else:
        rec[k] = v
    return json.dumps(rec) + "\n"
  return edit


def test_missing_meta(prepared):
  root, _ = prepared
  os.remove(os.path.join(root, "meta.json"))
  with pytest.raises(DataError, match="meta.json: missing file"):
    PreparedData(root)


def test_bad_meta_version(prepared):
  root, _ = prepared
  path = os.path.join(root, "meta.json")
  with open(path) as f:
    meta = json.load(f)
  meta["version"] = 2
  with open(path, "w") as f:
    json.dump(meta, f)
  with pytest.raises(DataError, match="meta.json: unsupported version 2"):
    PreparedData(root)


def test_malformed_vocab_json(prepared):
  root, _ = prepared
  with open(os.path.join(root, "vocab.json"), "w") as f:
    f.write('{"words": [\n"<pad>",\n"<unk>" "dog"]}')
  with pytest.raises(DataError, match=r"vocab.json: malformed JSON at line 3"):
    PreparedData(root)


def test_nan_word_vector(prepared):
  root, _ = prepared
  path = os.path.join(root, "word_vectors.npy")
  vectors = np.load(path)
  vectors[3, 1] = np.nan
  np.save(path, vectors)
  with pytest.raises(DataError, match=r"word_vectors.npy: NaN or inf in row 3 \('cat'\)"):
    PreparedData(root)


def test_unknown_hypernym_class(prepared):
  root, _ = prepared
  path = os.path.join(root, "classes.json")
  with open(path) as f:
    classes = json.load(f)
  classes["object_hypernyms"]["dog"] = ["mammal"]
  with open(path, "w") as f:
    json.dump(classes, f)
  with pytest.raises(DataError, match="classes.json: .*unknown object class 'mammal'"):
    PreparedData(root)


def test_class_word_not_in_vocab(tmp_path):
  root = str(tmp_path / "p")
  make_prepared(root)
  PreparedWriter(root).write_classes(OBJECTS + ["zebra"], ATTRIBUTES, HYPERNYMS)
  with pytest.raises(DataError, match="classes.json: objects class 'zebra': word 'zebra'"):
    PreparedData(root).class_word_ids("objects", 2)


def test_malformed_jsonl_line(prepared):
  root, _ = prepared
  path = os.path.join(root, "recognition", "train.jsonl")
  _rewrite_line(path, 3, lambda line: line[:-5] + "\n")
  with pytest.raises(DataError) as e:
    PreparedData(root).load_recognition("train")
  assert str(e.value).startswith(f"{path}: line 3: malformed JSON")


def test_missing_field(prepared):
  root, _ = prepared
  path = os.path.join(root, "recognition", "val.jsonl")
  _rewrite_line(path, 1, _edit_record(region=None))
  with pytest.raises(DataError, match="val.jsonl: line 1: missing field 'region'"):
    PreparedData(root).load_recognition("val")


def test_unknown_class_name(prepared):
  root, _ = prepared
  path = os.path.join(root, "recognition", "train.jsonl")
  _rewrite_line(path, 2, _edit_record(objects=["unicorn"]))
  with pytest.raises(DataError, match="line 2: unknown object class 'unicorn'"):
    PreparedData(root).load_recognition("train")


def test_unknown_word(prepared):
  root, _ = prepared
  path = os.path.join(root, "vqa", "train.jsonl")
  PreparedData(root).load_vqa("train", 3, 2, 18)  # a cache exists: must be invalidated
  _rewrite_line(path, 4, _edit_record(question_nouns=["zebra"]))
  with pytest.raises(DataError) as e:
    PreparedData(root).load_vqa("train", 3, 2, 18)
  assert str(e.value) == (f"{path}: line 4: word 'zebra' in 'question_nouns' is not "
                          "in vocab.json")


def test_choices_count_and_label(prepared):
  root, records = prepared
  path = os.path.join(root, "vqa", "test.jsonl")
  rec = records["vqa"]["test"][0]
  _rewrite_line(path, 1, _edit_record(choices=rec["choices"][:17]))
  with pytest.raises(DataError, match="line 1: field 'choices' has 17 entries, expected 18"):
    PreparedData(root).load_vqa("test", 3, 2, 18)
  _rewrite_line(path, 1, _edit_record(choices=rec["choices"], label=18))
  with pytest.raises(DataError, match=r"line 1: label 18 out of range \[0, 18\)"):
    PreparedData(root).load_vqa("test", 3, 2, 18)


def test_missing_split(prepared):
  root, _ = prepared
  with pytest.raises(DataError, match="vqa/nope.jsonl: missing file"):
    PreparedData(root).load_vqa("nope", 3, 2, 18)


def test_cache_sees_an_edit_that_keeps_size_and_mtime(prepared):
  """The parse-cache key includes the inode and ctime: an in-place edit with the
  size and the mtime restored (touch -r) is parsed again, not served stale."""
  root, _ = prepared
  path = os.path.join(root, "vqa", "train.jsonl")
  first = PreparedData(root).load_vqa("train", 3, 2, 18)
  old = first.questions[0]
  new = old.replace("dog", "cat")
  assert new != old and len(new) == len(old)
  st = os.stat(path)
  _rewrite_line(path, 1, lambda line: line.replace(json.dumps(old), json.dumps(new)))
  os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
  assert os.path.getsize(path) == st.st_size
  again = PreparedData(root).load_vqa("train", 3, 2, 18)
  assert again.questions[0] == new
