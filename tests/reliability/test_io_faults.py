"""I/O faults (full disk, read-only directory, EIO) end in one line naming the path
and the problem, with nothing half-written; TensorFlow's start-up log is hidden."""

import errno
import json
import os
import subprocess
import sys
import textwrap

import pytest

from svlr_tf.runtime import files
from svlr_tf.runtime.errors import DataError, one_line

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _env(**extra):
  env = dict(os.environ, PYTHONPATH=ROOT, **extra)
  env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # what a user has: nothing set
  return env


# Full disk: RLIMIT_FSIZE (``ulimit -f``) makes a write past the limit fail with
# EFBIG (Python ignores SIGXFSZ), the way ENOSPC fails a write on a full disk.
_FULL_DISK = textwrap.dedent("""
    import resource, sys
    from svlr_tf.runtime.files import atomic_write_json
    from svlr_tf.runtime.errors import one_line
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
      atomic_write_json(sys.argv[1], {"rows": list(range(10000))})
    except OSError as e:
      print(one_line(e))
""")


def test_full_disk_names_the_destination_and_keeps_the_old_file(tmp_path):
  dest = tmp_path / "results.json"
  dest.write_text('{"old": true}')
  proc = subprocess.run([sys.executable, "-c", _FULL_DISK, str(dest)], env=_env(),
                        capture_output=True, text=True, timeout=60)
  assert proc.stdout.strip() == f"{dest}: file too large while writing [EFBIG]", proc.stderr
  assert json.loads(dest.read_text()) == {"old": True}
  assert os.listdir(tmp_path) == ["results.json"]  # no temporary left


def test_read_only_directory_names_the_destination(tmp_path, monkeypatch):
  # We run as root, for whom chmod does not make a directory read-only: the
  # refusal is simulated where the writer creates its temporary file.
  def refuse(*args, **kwargs):
    raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".x.tmp"))

  monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
  with pytest.raises(OSError) as err:
    files.atomic_write_text(str(tmp_path / "table1.md"), "x")
  assert one_line(err.value) == (f"{tmp_path / 'table1.md'}: read-only file system "
                                 "while writing [EROFS]")
  assert os.listdir(tmp_path) == []


class _FailingFile:
  """A file object whose writes fail with EIO (a failing disk)."""

  def __init__(self, path, *args, **kwargs):
    self.real = open(path, *args, **kwargs)

  def write(self, data):
    raise OSError(errno.EIO, "Input/output error")

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.real.close()


def test_eio_while_writing_leaves_the_old_file(tmp_path, monkeypatch):
  dest = tmp_path / "config.json"
  dest.write_text("{}")
  monkeypatch.setattr(files, "open", _FailingFile, raising=False)
  with pytest.raises(OSError) as err:
    files.atomic_write_json(str(dest), {"a": 1})
  assert one_line(err.value) == (f"{dest}: input/output error while writing [EIO]")
  assert dest.read_text() == "{}" and os.listdir(tmp_path) == ["config.json"]


def test_read_error_inside_the_input_pipeline_is_reported_as_itself(
    tiny_data, monkeypatch):
  import tensorflow as tf
  from svlr_tf.data import pipeline
  from svlr_tf.data.feature_store import FeatureStore
  from svlr_tf.data.prepared import feature_store_path
  from svlr_tf.training.experiment import config_for_data

  cfg = config_for_data("tiny", "vqa_only", tiny_data, seed=0)
  store = FeatureStore(feature_store_path(tiny_data.data_dir, "vqa"))

  def failing_preadv(*args):
    raise OSError(errno.EIO, "Input/output error")

  monkeypatch.setattr(os, "preadv", failing_preadv)
  with pytest.raises(tf.errors.OpError) as err:
    for _ in pipeline.vqa_dataset(tiny_data, store, "test", cfg.data, training=False,
                                  seed=0):
      pass
  message = one_line(err.value)
  assert message.startswith(os.path.join(store.path, "shard-")), message
  assert "[EIO]" in message and "\n" not in message
  store.close()


def test_one_line_of_a_data_error_and_of_an_unknown_error():
  assert one_line(DataError("a.json", "line 3: bad")) == "a.json: line 3: bad"
  assert one_line(KeyError("bug")) is None  # a bug keeps its traceback


def test_error_is_the_only_line_after_tensorflow_started(tmp_path):
  """TensorFlow's C++ start-up log (oneDNN, CUDA probing, a cuInit error line on a
  machine without GPU) is hidden; the one-line error is the whole output."""
  empty = tmp_path / "prepared"
  empty.mkdir()
  proc = subprocess.run([sys.executable, "-m", "reproduce.table1", "--preset", "tiny",
                         "--data_dir", str(empty), "--workdir", str(tmp_path / "w")],
                        cwd=tmp_path, env=_env(), capture_output=True, text=True,
                        timeout=300)
  assert proc.returncode == 1
  lines = (proc.stdout + proc.stderr).strip().splitlines()
  assert len(lines) == 1, proc.stderr
  assert lines[0].startswith(f"error: {empty}") and "meta.json" in lines[0]


_LIMITED = textwrap.dedent("""
    import resource, runpy, sys
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))  # ulimit -f 40
    sys.argv = ["reproduce.zero_shot"] + sys.argv[1:]
    runpy.run_module("reproduce.zero_shot", run_name="__main__")
""")


@pytest.mark.slow
def test_full_disk_during_training_is_one_line_and_the_rerun_finishes(
    tmp_path, tiny_world):
  """A checkpoint (~55 kB at the tiny preset) cannot be written: one line, exit 1;
  with the space back, the same command finishes."""
  args = ["--preset", "tiny", "--seeds", "1", "--steps", "2", "--data_dir", tiny_world,
          "--workdir", str(tmp_path / "zs")]
  full = subprocess.run([sys.executable, "-c", _LIMITED] + args, cwd=tmp_path,
                        env=_env(), capture_output=True, text=True, timeout=600)
  assert full.returncode == 1
  last = full.stderr.strip().splitlines()[-1]
  assert last.startswith("error: ") and str(tmp_path / "zs") in last, full.stderr
  assert "File too large" in last or "EFBIG" in last, last
  again = subprocess.run([sys.executable, "-m", "reproduce.zero_shot"] + args,
                         cwd=tmp_path, env=_env(), capture_output=True, text=True,
                         timeout=600)
  assert again.returncode == 0, again.stderr[-3000:]
  assert (tmp_path / "zs" / "zero_shot.json").exists()
  leftovers = [os.path.join(d, n) for d, dirs, names in os.walk(tmp_path / "zs")
               for n in dirs + names if n.endswith("_temp") or ".tmp" in n]
  assert leftovers == []
