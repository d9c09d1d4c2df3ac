"""svlr_tf.data.check / tools.check_data: the whole prepared directory, before training."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from svlr_tf.data.check import PreparedDataProblems, check_prepared, require_valid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _copy(tiny_world, tmp_path):
  data_dir = str(tmp_path / "data")
  shutil.copytree(tiny_world, data_dir, ignore=shutil.ignore_patterns("*.cache.npz"))
  return data_dir


def _lines(path):
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def _write(path, records):
  with open(path, "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in records)


def test_the_embedded_world_passes(tiny_world):
  assert check_prepared(tiny_world) == []
  require_valid(tiny_world)


def test_every_problem_is_listed_one_line_each(tiny_world, tmp_path):
  data_dir = _copy(tiny_world, tmp_path)
  # An empty Genome test split.
  open(os.path.join(data_dir, "recognition", "test.jsonl"), "w").close()
  # A VQA test question whose image has no features, and a duplicated test question.
  test = _lines(os.path.join(data_dir, "vqa", "test.jsonl"))
  test[0]["image_id"] = 987654
  _write(os.path.join(data_dir, "vqa", "test.jsonl"), test + [test[1]])
  # A held-out question sharing its id with a train question.
  train = _lines(os.path.join(data_dir, "vqa", "train.jsonl"))
  heldout = _lines(os.path.join(data_dir, "vqa", "heldout.jsonl"))
  heldout[0]["question_id"] = train[0]["question_id"]
  _write(os.path.join(data_dir, "vqa", "heldout.jsonl"), heldout)
  # A Genome val region past its image's rows.
  val = _lines(os.path.join(data_dir, "recognition", "val.jsonl"))
  val[0]["region"] = 10_000
  _write(os.path.join(data_dir, "recognition", "val.jsonl"), val)
  # meta.json disagreeing with the stores.
  meta_path = os.path.join(data_dir, "meta.json")
  with open(meta_path) as f:
    meta = json.load(f)
  meta["regions_per_image"] += 1
  with open(meta_path, "w") as f:
    json.dump(meta, f)

  problems = check_prepared(data_dir)
  assert all("\n" not in p for p in problems)
  text = "\n".join(problems)
  assert "recognition/test.jsonl: empty split" in text
  assert "vqa/test.jsonl: 1 of" in text and "987654" in text
  assert "vqa/test.jsonl: 1 question ids appear more than once: " + str(
      test[1]["question_id"]) in text
  assert f"in both train and heldout: {train[0]['question_id']}" in text
  assert "recognition/val.jsonl: 1 regions point past" in text
  assert "regions_per_image is" in text
  assert len(problems) == 6, problems
  with pytest.raises(PreparedDataProblems, match="6 problem"):
    require_valid(data_dir)


def test_missing_store_and_images_in_two_splits(tiny_world, tmp_path):
  data_dir = _copy(tiny_world, tmp_path)
  shutil.rmtree(os.path.join(data_dir, "features", "genome"))
  train = _lines(os.path.join(data_dir, "vqa", "train.jsonl"))
  heldout = _lines(os.path.join(data_dir, "vqa", "heldout.jsonl"))
  heldout[0]["image_id"] = train[0]["image_id"]
  _write(os.path.join(data_dir, "vqa", "heldout.jsonl"), heldout)
  problems = check_prepared(data_dir)
  assert any("features/genome: feature store directory does not exist" in p
             for p in problems)
  assert any("images are in both the train and heldout splits" in p for p in problems)


def test_check_data_cli(tiny_world, tmp_path):
  env = dict(os.environ, PYTHONPATH=REPO)
  ok = subprocess.run([sys.executable, "-m", "tools.check_data", tiny_world,
                       "--preset", "tiny"], capture_output=True, text=True, env=env,
                      timeout=120)
  assert ok.returncode == 0, ok.stderr
  assert "ok" in ok.stdout
  data_dir = _copy(tiny_world, tmp_path)
  open(os.path.join(data_dir, "vqa", "test.jsonl"), "w").close()
  open(os.path.join(data_dir, "recognition", "val.jsonl"), "w").close()
  bad = subprocess.run([sys.executable, "-m", "tools.check_data", data_dir],
                       capture_output=True, text=True, env=env, timeout=120)
  assert bad.returncode == 1
  errors = [l for l in bad.stderr.splitlines() if l.startswith("error: ")]
  assert len(errors) == 2 and "Traceback" not in bad.stderr
  assert bad.stderr.strip().splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize("module", [
    "reproduce.table1", pytest.param("reproduce.zero_shot", marks=pytest.mark.slow)])
def test_reproduce_refuses_a_broken_directory_before_training(tiny_world, tmp_path,
                                                               module):
  data_dir = _copy(tiny_world, tmp_path)
  test = _lines(os.path.join(data_dir, "vqa", "test.jsonl"))
  _write(os.path.join(data_dir, "vqa", "test.jsonl"), test + [test[0]])
  workdir = str(tmp_path / "run")
  proc = subprocess.run([sys.executable, "-m", module, "--data_dir", data_dir,
                         "--preset", "tiny", "--seeds", "1", "--steps", "2",
                         "--workdir", workdir], capture_output=True, text=True,
                        env=dict(os.environ, PYTHONPATH=REPO), timeout=300)
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
  assert "question ids appear more than once" in proc.stderr
  assert not os.path.exists(os.path.join(workdir, "seed0"))  # no step was taken


def test_vqa_ids_from_the_cache_match_the_full_load(tiny_world):
  from svlr_tf.data.prepared import PreparedData
  data = PreparedData(tiny_world)
  full = data.load_vqa("test", 8, 4, 18)  # builds the cache
  qids, image_ids = data.vqa_ids("test", 8, 4, 18)
  np.testing.assert_array_equal(qids, full.question_ids)
  np.testing.assert_array_equal(image_ids, full.image_ids)


@pytest.mark.parametrize("kind", ["vqa", "genome"])
def test_check_data_reads_the_checksums_a_flipped_shard_fails(tiny_world, tmp_path,
                                                               kind):
  from svlr_tf.data.store_format import shard_name
  env = dict(os.environ, PYTHONPATH=REPO)
  data_dir = _copy(tiny_world, tmp_path)
  for name in os.listdir(os.path.join(data_dir, "features", kind)):
    if name == "verified.json":  # copied record: this check must not need it
      os.remove(os.path.join(data_dir, "features", kind, name))

  def check(*flags):
    return subprocess.run([sys.executable, "-m", "tools.check_data", data_dir,
                           "--preset", "tiny", *flags], capture_output=True,
                          text=True, env=env, timeout=300)

  first = check()
  assert first.returncode == 0, first.stderr
  assert f"{kind} checksums" in first.stdout and " read in " in first.stdout
  again = check()  # recorded: not read again, and it says so
  assert f"{kind} checksums recorded as verified" in again.stdout
  shard = os.path.join(data_dir, "features", kind, shard_name(0))
  st = os.stat(shard)
  with open(shard, "r+b") as f:
    f.seek(st.st_size // 2)
    data = f.read(8)
    f.seek(st.st_size // 2)
    f.write(bytes(b ^ 0x5A for b in data))
  os.utime(shard, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime restored
  bad = check()
  assert bad.returncode == 1 and "Traceback" not in bad.stderr, bad.stderr
  errors = [l for l in bad.stderr.splitlines() if l.startswith("error: ")]
  assert errors == [f"error: {shard}: checksum mismatch (corrupt shard)"], bad.stderr
  quick = check("--quick")  # the index-only check does not read the features
  assert quick.returncode == 0 and "not read (--quick)" in quick.stdout, quick.stderr
