"""One process per work directory and per world being generated; stale temporaries
of a killed run are removed once the lock is held."""

import os
import subprocess
import sys
import textwrap

import pytest

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.workdir import (DirectoryInUse, exclusive_lock, lock_workdir,
                             remove_stale_temporaries)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_HOLDER = textwrap.dedent("""
    import sys, time
    from svlr_tf.runtime.workdir import exclusive_lock
    with exclusive_lock(sys.argv[1], "test"):
      print("locked", flush=True)
      sys.stdin.readline()   # hold until the test closes stdin
""")


@pytest.fixture
def held_lock():
  """Starts a process that holds a lock file; yields (its pid, start function)."""
  procs = []

  def hold(lock_path):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, lock_path],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    procs.append(proc)
    assert proc.stdout.readline().strip() == "locked"
    return proc.pid

  yield hold
  for proc in procs:
    proc.stdin.close()
    proc.wait(timeout=30)


def test_second_process_is_told_who_holds_the_work_directory(tmp_path, held_lock):
  workdir = str(tmp_path / "run")
  pid = held_lock(os.path.join(workdir, ".lock"))
  with pytest.raises(DirectoryInUse) as err:
    with lock_workdir(workdir):
      pass
  message = str(err.value)
  assert f"process {pid}" in message and "work directory" in message
  assert "\n" not in message


def test_lock_is_reentrant_in_a_process_and_released_after(tmp_path):
  path = str(tmp_path / "x.lock")
  with exclusive_lock(path, "x"):
    with exclusive_lock(path, "x"):
      pass
  # Released: another process can take it now.
  proc = subprocess.run([sys.executable, "-c", _HOLDER, path], input="\n", text=True,
                        capture_output=True, env=dict(os.environ, PYTHONPATH=ROOT),
                        timeout=60)
  assert proc.stdout.strip() == "locked", proc.stderr


def test_lock_of_a_killed_process_is_free(tmp_path):
  path = str(tmp_path / "x.lock")
  proc = subprocess.Popen([sys.executable, "-c", _HOLDER, path], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))
  assert proc.stdout.readline().strip() == "locked"
  proc.kill()
  proc.wait(timeout=30)
  with exclusive_lock(path, "x"):
    pass


def test_workdir_that_is_a_file_is_a_one_line_error(tmp_path):
  path = tmp_path / "file"
  path.write_text("x")
  with pytest.raises(DataError, match="not a directory"):
    with lock_workdir(str(path)):
      pass


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
  run = tmp_path / "run"
  ckpt = run / "seed0" / "vqa_only" / "checkpoints"
  (ckpt / "ckpt-4_temp").mkdir(parents=True)
  (ckpt / "ckpt-4_temp" / "part-00000-of-00001.data-00000-of-00001").write_text("x")
  stale = [run / ".table1.json.abc_1234.tmp", run / "seed0" / ".results.json.k2j4x9zq.tmp",
           ckpt / ("checkpoint.tmp" + "0123456789abcdef" * 2)]
  kept = [run / "results.json", ckpt / "checkpoint", ckpt / "ckpt-4.index",
          ckpt / "ckpt-4.data-00000-of-00001", run / "notes.tmp", run / ".lock"]
  for p in stale + kept:
    p.write_text("x")
  with lock_workdir(str(run), log=print):
    pass
  for p in stale:
    assert not p.exists(), p
  assert not (ckpt / "ckpt-4_temp").exists()
  for p in kept:
    assert p.exists(), p
  assert remove_stale_temporaries(str(run)) == []


_WORLD_HOLDER = textwrap.dedent("""
    import sys
    from svlr_tf.world.build import world_lock
    with world_lock(sys.argv[1]):
      print("locked", flush=True)
      sys.stdin.readline()
""")


def test_a_world_being_generated_is_locked(tmp_path):
  from svlr_tf import world
  out = str(tmp_path / "world-tiny")
  proc = subprocess.Popen([sys.executable, "-c", _WORLD_HOLDER, out],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))
  try:
    assert proc.stdout.readline().strip() == "locked"
    with pytest.raises(DirectoryInUse, match=f"process {proc.pid}"):
      world.ensure_world("tiny", root=out, verbose=False)
  finally:
    proc.stdin.close()
    proc.wait(timeout=30)
  assert not os.path.exists(out)


def test_partial_world_of_a_killed_generation_is_removed(tmp_path):
  from svlr_tf.world.build import world_lock
  out = tmp_path / "world-tiny"
  (tmp_path / ".world-tiny.tmpab12cd").mkdir()
  (tmp_path / ".world-tiny.tmpab12cd" / "meta.json").write_text("{}")
  (tmp_path / ".world-tiny.oldzz").mkdir()
  (tmp_path / ".other.tmp1").mkdir()
  with world_lock(str(out)):
    pass
  assert sorted(os.listdir(tmp_path)) == [".other.tmp1", ".world-tiny.lock"]
