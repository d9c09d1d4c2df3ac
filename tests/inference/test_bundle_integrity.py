"""A damaged or mismatched bundle never answers: manifest, safe mode, verification slice."""

import json
import os
import shutil
import time

import numpy as np
import pytest

from svlr_tf.runtime.errors import DataError
from svlr_tf.training.experiment import config_for_data
from svlr_tf.inference import Predictor
from svlr_tf.inference import bundle
from svlr_tf.training.trainer import Trainer


@pytest.fixture(scope="module")
def exported(tiny_data, tmp_path_factory):
  root = tmp_path_factory.mktemp("bundle")
  cfg = config_for_data("tiny", "joint_svlr", tiny_data, seed=0, steps=10)
  Trainer(cfg, tiny_data, str(root / "run"), log=lambda s: None).fit()
  predictor = Predictor.from_workdir(str(root / "run"))
  return bundle.export_bundle(predictor, str(root / "model"))


@pytest.fixture
def copy(exported, tmp_path):
  out = str(tmp_path / "copy")
  shutil.copytree(exported, out)
  return out


def _flip(path, offset_fraction, count):
  with open(path, "r+b") as f:
    size = os.path.getsize(path)
    f.seek(int(size * offset_fraction))
    data = f.read(count)
    f.seek(int(size * offset_fraction))
    f.write(bytes(b ^ 0xFF for b in data))


def _rewrite_manifest(directory):
  from svlr_tf.inference import integrity
  integrity.write_manifest(directory)


def _one_line_error(directory, match, **kwargs):
  with pytest.raises(DataError, match=match) as err:
    Predictor.load(directory, **kwargs)
  assert "\n" not in str(err.value)
  return str(err.value)


def test_the_manifest_lists_every_file_and_is_written_last(exported):
  manifest = json.load(open(os.path.join(exported, "manifest.json")))["files"]
  on_disk = sorted(os.path.relpath(os.path.join(r, f), exported)
                   for r, _, files in os.walk(exported) for f in files)
  assert sorted(manifest) == [p for p in on_disk if p != "manifest.json"]
  assert {"model.keras", "vocab.json", "verification.npz", "meta.json"} <= set(manifest)
  newest = max(os.stat(os.path.join(exported, p)).st_mtime_ns for p in manifest)
  assert os.stat(os.path.join(exported, "manifest.json")).st_mtime_ns >= newest


def test_a_good_bundle_verifies_quickly(exported):
  from svlr_tf.inference import integrity
  meta = json.load(open(os.path.join(exported, "meta.json")))
  assert meta["version"] == 2 and meta["verification"]["questions"] == 8
  predictor = Predictor.load(exported)
  result = integrity.verify(predictor.model, predictor.config, exported,
                            meta["verification"])
  assert result["largest_difference"] <= 1e-5
  assert result["accuracy"] == pytest.approx(meta["verification"]["accuracy"])
  assert result["seconds"] < 1.0
  with np.load(os.path.join(exported, "verification.npz")) as f:
    assert f["scores"].shape == (8, predictor.config.data.num_choices)
    assert np.all(f["choice_accuracy"].max(axis=1) == 1.0)  # the true answer is there


@pytest.mark.parametrize("where", [0.5, 0.9])
def test_flipped_bytes_in_the_model_name_the_file(copy, where):
  _flip(os.path.join(copy, "model.keras"), where, 64)
  message = _one_line_error(copy, "model.keras")
  assert "damaged" in message and "SHA-256" in message


def test_reversed_vocabulary_is_refused(copy):
  path = os.path.join(copy, "vocab.json")
  words = json.load(open(path))["words"]
  json.dump({"words": words[::-1]}, open(path, "w"))
  _one_line_error(copy, "vocab.json.*damaged")


def test_two_swapped_words_are_refused(copy):
  path = os.path.join(copy, "vocab.json")
  raw = open(path).read()
  words = json.load(open(path))["words"]
  words[5], words[6] = words[6], words[5]
  json.dump({"words": words}, open(path, "w"))
  assert open(path).read() != raw
  _one_line_error(copy, "vocab.json.*damaged")


def test_a_missing_manifest_is_an_incomplete_bundle(copy):
  os.remove(os.path.join(copy, "manifest.json"))
  _one_line_error(copy, "manifest.json.*incomplete")


def test_a_truncated_model_is_reported_as_truncated_not_missing(copy):
  path = os.path.join(copy, "model.keras")
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)
  _one_line_error(copy, "model.keras.*truncated")
  _rewrite_manifest(copy)  # past the manifest: the loader itself says it
  message = _one_line_error(copy, "model.keras.*not a complete .keras archive")
  assert "not found" not in message.lower()


def test_a_directory_where_the_model_should_be(copy):
  path = os.path.join(copy, "model.keras")
  os.remove(path)
  os.mkdir(path)
  _rewrite_manifest(copy)
  message = _one_line_error(copy, "model.keras: is a directory")
  assert "missing" not in message


def test_the_model_is_loaded_in_safe_mode(exported, monkeypatch):
  import keras
  seen = {}
  real = keras.saving.load_model

  def spy(*args, **kwargs):
    seen.update(kwargs)
    return real(*args, **kwargs)

  monkeypatch.setattr(keras.saving, "load_model", spy)
  Predictor.load(exported)
  assert seen.get("safe_mode") is True


def test_perturbed_weights_fail_verification(copy):
  import keras
  path = os.path.join(copy, "model.keras")
  model = keras.saving.load_model(path, compile=False)
  weight = model.object_embedding.trainable_weights[0]
  weight.assign(weight.numpy() * 1.05)
  os.remove(path)
  model.save(path)
  _rewrite_manifest(copy)  # a "mismatched" bundle: every file matches the manifest
  start = time.perf_counter()
  message = _one_line_error(copy, "verification.npz.*does not reproduce")
  assert "verify=False" in message and "accuracy" in message
  assert time.perf_counter() - start < 60
  predictor = Predictor.load(copy, verify=False)  # the user's choice
  assert predictor.model is not None


def test_a_damaged_slice_is_named(copy):
  path = os.path.join(copy, "verification.npz")
  with np.load(path) as f:
    arrays = {k: f[k] for k in f.files}
  arrays["scores"] = arrays["scores"] + 0.5
  os.remove(path)
  np.savez(path, **arrays)
  _one_line_error(copy, "verification.npz.*damaged")
  _rewrite_manifest(copy)
  _one_line_error(copy, "verification.npz.*does not reproduce")


def test_a_manifest_that_leaves_out_a_loaded_file_or_leaves_the_bundle(copy):
  import json
  path = os.path.join(copy, "manifest.json")
  with open(path) as f:
    manifest = json.load(f)
  entry = manifest["files"].pop("vocab.json")
  with open(path, "w") as f:
    json.dump(manifest, f)
  _one_line_error(copy, "does not list vocab.json")
  manifest["files"]["vocab.json"] = entry
  manifest["files"]["../outside.json"] = entry
  with open(path, "w") as f:
    json.dump(manifest, f)
  _one_line_error(copy, "is not a file of the bundle")
