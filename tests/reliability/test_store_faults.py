"""Feature stores: verified once before use (and again after any change), NaN
features and read errors reported with the store, image and row."""

import errno
import os

import numpy as np
import pytest

from svlr_tf.data import store_verification
from svlr_tf.data.feature_store import FeatureStore, FeatureStoreWriter, shard_name
from svlr_tf.data.store_verification import open_verified, verify_once
from svlr_tf.runtime.errors import DataError

DIM = 4


@pytest.fixture
def store_path(tmp_path, monkeypatch):
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
  path = str(tmp_path / "vqa")
  rng = np.random.default_rng(0)
  with FeatureStoreWriter(path, DIM, rows_per_image=3, shard_rows=6) as w:
    for image_id in (11, 12, 13, 14):
      w.add(image_id, rng.normal(size=(3, DIM)))
  return path


def _poke(path, offset, data, keep_times=True):
  """Overwrites bytes in place, restoring size and mtime (only the ctime changes)."""
  st = os.stat(path)
  with open(path, "r+b") as f:
    f.seek(offset)
    f.write(data)
  if keep_times:
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
  assert os.path.getsize(path) == st.st_size


def _row_offset(store, shard, row):
  return store._data_offset[shard] + row * DIM * 2


def test_verified_once_then_trusted_until_a_file_changes(store_path, monkeypatch):
  reads = []
  original = FeatureStore.verify
  monkeypatch.setattr(FeatureStore, "verify", lambda self: reads.append(1) or original(self))
  with FeatureStore(store_path) as store:
    assert verify_once(store) is True
  assert os.path.exists(os.path.join(store_path, "verified.json"))
  with FeatureStore(store_path) as store:
    assert verify_once(store) is False  # identity matches: not read again
  assert len(reads) == 1
  # 16 zeroed bytes, size and mtime restored: the record no longer matches.
  shard = os.path.join(store_path, shard_name(1))
  _poke(shard, 130, bytes(16))
  with FeatureStore(store_path) as store, pytest.raises(DataError) as err:
    verify_once(store)
  assert shard in str(err.value) and "checksum" in str(err.value)
  assert len(reads) == 2


def test_open_verified_refuses_a_corrupt_store(store_path):
  with FeatureStore(store_path) as store:
    offset = _row_offset(store, 0, 1)
  _poke(os.path.join(store_path, shard_name(0)), offset, b"\x01\x02")
  with pytest.raises(DataError, match="checksum mismatch"):
    open_verified(store_path)


def test_nan_feature_names_store_image_and_row(store_path):
  with FeatureStore(store_path) as store:
    offset = _row_offset(store, 1, 3 + 2)  # shard 1 holds images 13, 14: row 2 of 14
  nan = np.array([np.nan], np.float16).tobytes()
  _poke(os.path.join(store_path, shard_name(1)), offset + 2, nan)
  with FeatureStore(store_path) as store, pytest.raises(DataError) as err:
    verify_once(store)
  message = str(err.value)
  assert os.path.join(store_path, shard_name(1)) in message
  assert "image 14 row 2" in message and "NaN" in message
  assert "\n" not in message


def test_read_only_store_records_in_the_user_cache(store_path, monkeypatch, tmp_path):
  real_write = store_verification.atomic_write_json

  def read_only_store(path, obj, **kwargs):
    if path.startswith(store_path):
      raise OSError(errno.EROFS, "Read-only file system", path)
    return real_write(path, obj, **kwargs)

  monkeypatch.setattr(store_verification, "atomic_write_json", read_only_store)
  with FeatureStore(store_path) as store:
    assert verify_once(store) is True
    assert verify_once(store) is False
  assert not os.path.exists(os.path.join(store_path, "verified.json"))
  assert os.listdir(tmp_path / "cache" / "svlr_tf" / "verified")


def test_read_error_of_a_shard_names_the_shard(store_path, monkeypatch):
  def failing_preadv(*args):
    raise OSError(errno.EIO, "Input/output error")

  store = FeatureStore(store_path)
  monkeypatch.setattr(os, "preadv", failing_preadv)
  with pytest.raises(DataError) as err:
    store.gather_images([13])
  message = str(err.value)
  assert os.path.join(store_path, shard_name(1)) in message and "EIO" in message
  store.close()
