"""The embedded world (tiny preset): determinism, formats, realistic properties."""

import collections
import filecmp
import json
import os
import stat

import numpy as np
import pytest

from svlr_tf.data.prepared import PreparedData
from svlr_tf.world import ensure_world, generate
from svlr_tf.world import simulate
from svlr_tf.world.config import world_config
from svlr_tf.world.build import simulate_world, world_is_current

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory):
  root = tmp_path_factory.mktemp("world")
  a = generate("tiny", str(root / "a"), seed=0, verbose=False)
  b = generate("tiny", str(root / "b"), seed=0, verbose=False)
  return root, a, b


def _files(d):
  out = []
  for base, _, names in os.walk(d):
    out += [os.path.relpath(os.path.join(base, n), d) for n in names]
  return sorted(f for f in out if ".cache" not in f and not f.endswith(".npz.cache"))


def _read_jsonl(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def test_same_seed_gives_identical_files(tiny_world):
  _, a, b = tiny_world
  files = _files(a)
  assert files == _files(b)
  assert "features/genome/index.npz" in files and "vqa/test_annotations.json" in files
  for f in files:
    assert filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False), f


def test_other_seed_differs(tmp_path):
  c = generate("tiny", str(tmp_path / "c"), seed=1, verbose=False)
  d = simulate_world(world_config("tiny"), seed=0)
  recs = _read_jsonl(os.path.join(c, "vqa", "train.jsonl"))
  assert [r["question"] for r in recs] != [
      q["question"] for img in d.vqa["train"] for q in img.questions]


def test_readable_by_prepared_data(tiny_world):
  _, a, _ = tiny_world
  data = PreparedData(a, cache=False)
  assert data.meta["simulated"] is True and data.meta["source"] == "embedded"
  cfg = world_config("tiny")
  assert data.feature_dim == cfg.feature_dim
  assert data.regions_per_image == cfg.regions_per_image
  assert len(data.objects) == cfg.num_objects and len(data.attributes) == cfg.num_attributes
  for hs in data.object_hypernyms.values():
    assert set(hs) <= set(data.objects)
  assert data.object_hypernyms["dog"] == ["animal"]
  rec = data.load_recognition("train")
  assert len(rec) > 100
  # multi-label objects through hypernyms
  assert (rec.object_targets.sum(1) > rec.object_labels.sum(1)).mean() > 0.3
  vqa = data.load_vqa("test", 8, 4, 18)
  assert len(vqa) == cfg.vqa_images[2] * 3
  store = data.feature_store("vqa")
  feats, mask = store.gather_images(vqa.image_ids[:4])
  assert feats.shape == (4, cfg.regions_per_image, cfg.feature_dim) and mask.all()
  assert np.all(np.asarray(feats, np.float32) >= 0)
  assert data.word_vectors.shape[1] == 50


def test_vqa_records_look_like_vqa_v1(tiny_world):
  _, a, _ = tiny_world
  types = set(simulate.load_question_types())
  for split in ("train", "heldout", "test"):
    for r in _read_jsonl(os.path.join(a, "vqa", f"{split}.jsonl")):
      assert len(r["choices"]) == 18 and len(set(r["choices"])) == 18
      assert r["choices"][r["label"]] == r["answer"]
      assert len(r["answers"]) == 10
      assert r["answer_type"] in ("yes/no", "number", "other")
      assert r["question_type"] in types
      assert r["question_id"] == r["image_id"] * 10 + r["question_id"] % 10
  with open(os.path.join(a, "vqa", "test_questions.json")) as f:
    assert json.load(f)["num_choices"] == 18


def test_question_names_an_object_in_the_image():
  world = simulate_world(world_config("tiny"), seed=0)
  from svlr_tf import text
  named = 0
  for img in world.vqa["train"]:
    present = {world.classes.objects[i.cls] for i in img.instances}
    assert len(present) >= 2  # several objects of different classes
    for q in img.questions:
      assert q["target"] in present
      if q["template"] in ("color", "material", "doing", "count", "attribute"):
        nouns = text.analyze_question(q["question"]).nouns
        # the tagger finds the noun (irregular plurals need WordNet to lemmatize)
        assert {q["target"], simulate.plural(q["target"])} & set(nouns), (
            q["question"], nouns)
        named += 1
  assert named > 10


def test_counts_answer_types_and_long_tail():
  world = simulate_world(world_config("default", genome_images=1500,
                                      vqa_images=(300, 10, 10)), seed=0)
  qs = [q for img in world.vqa["train"] for q in img.questions]
  kinds = collections.Counter(q["answer_type"] for q in qs)
  assert kinds["yes/no"] > 0.2 * len(qs) and kinds["number"] > 0.05 * len(qs)
  assert kinds["other"] > 0.3 * len(qs)
  counts = collections.Counter(
      world.classes.objects[c] for img in world.genome["train"] for c in img.classes)
  freq = sorted(counts.values(), reverse=True)
  assert sum(freq[:10]) > 0.4 * sum(freq)          # head
  assert len(counts) > 60 and freq[-1] < 0.02 * freq[0]  # long tail
  regions = [len(img.attributes) for img in world.genome["train"]]
  assert np.mean(regions) >= 3
  multi = [len(a) for img in world.genome["train"] for a in img.attributes]
  assert max(multi) >= 3


def test_right_region_beats_whole_image_average():
  """Nearest class mean: the question's region names its object far more often."""
  world = simulate_world(world_config("default", genome_images=1500,
                                      vqa_images=(200, 10, 10)), seed=0)
  O = len(world.classes.objects)
  sums, n = np.zeros((O, world.config.feature_dim)), np.zeros(O)
  for img in world.genome["train"]:
    for c, f in zip(img.classes, img.features):
      sums[c] += f
      n[c] += 1
  means = sums / np.maximum(n, 1)[:, None]
  means[n == 0] = np.inf
  region_hits, average_hits = [], []
  for img in world.vqa["train"]:
    target = img.instances[0].cls
    rows = [k for k, o in enumerate(img.proposal_owner)
            if o >= 0 and img.instances[o].cls == target]
    for f, hits in ((img.features[rows[0]], region_hits),
                    (img.features.mean(0), average_hits)):
      d = np.linalg.norm(means - f, axis=1)
      hits.append(int(np.argmin(d)) == target)
  assert np.mean(region_hits) > np.mean(average_hits) + 0.15


def test_ensure_world_reuses_and_regenerates(tmp_path):
  d = ensure_world("tiny", str(tmp_path / "w"), verbose=False)
  assert world_is_current(d, "tiny")
  stamp = os.path.getmtime(os.path.join(d, "meta.json"))
  assert ensure_world("tiny", str(tmp_path / "w"), verbose=False) == d
  assert os.path.getmtime(os.path.join(d, "meta.json")) == stamp
  with open(os.path.join(d, "meta.json")) as f:
    meta = json.load(f)
  meta["seed"] = 99
  with open(os.path.join(d, "meta.json"), "w") as f:
    json.dump(meta, f)
  assert not world_is_current(d, "tiny")
  ensure_world("tiny", str(tmp_path / "w"), verbose=False)
  assert world_is_current(d, "tiny")
  # No temp dirs left (the generation lock file .w.lock stays, by design).
  assert [n for n in os.listdir(tmp_path) if n.startswith(".")] == [".w.lock"]
  with pytest.raises(FileExistsError):
    generate("tiny", d, verbose=False)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o755), (0o027, 0o750)])
def test_the_world_directory_gets_the_umasks_permissions(tmp_path, monkeypatch,
                                                         umask, mode):
  from svlr_tf.world import build

  def fake_write(world, directory, verbose, pictures=True):
    with open(os.path.join(directory, "meta.json"), "w") as f:
      f.write("{}")

  monkeypatch.setattr(build, "simulate_world", lambda cfg, seed, verbose: None)
  monkeypatch.setattr(build, "write_world", fake_write)
  old = os.umask(umask)
  try:
    out = build.generate("tiny", tmp_path / "w", verbose=False)
  finally:
    os.umask(old)
  assert stat.S_IMODE(os.stat(out).st_mode) == mode
def test_generation_says_what_it_does_and_ticks_through_its_long_loops(tmp_path, capsys,
                                                                       monkeypatch):
  """The default world takes minutes: a first line says what is generated and
  where, and each long loop prints its progress (every TICK_SECONDS; 0 here)."""
  from svlr_tf.world import build, simulate
  monkeypatch.setattr(simulate, "TICK_SECONDS", 0.0)
  build.generate("tiny", str(tmp_path / "w"), verbose=True)
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].startswith("[world] generating world 'tiny' (seed 0) once, in ")
  for what in ("Genome images", "VQA images", "vqa boxes and pictures",
               "genome boxes and pictures"):
    assert any(l.startswith(f"[world] {what} ") and "/" in l for l in lines), what
  ticks = [l for l in lines if l.startswith("[world] Genome images ")]
  assert ticks[-1].startswith("[world] Genome images 120/120")
  monkeypatch.setattr(simulate, "TICK_SECONDS", 3600.0)  # a fast loop: no tick
  tick = simulate.Ticker("x", 10, verbose=True)
  for i in range(10):
    tick(i + 1)
  assert capsys.readouterr().out == ""
