"""Shared fixtures: the tiny embedded world, generated once per test session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest


@pytest.fixture(scope="session", autouse=True)
def _part_of_speech_backend():
  """The project's default tagger needs WordNet 3.0 (README: apt-get install
  wordnet-base wordnet-sense-index). Without it the tests run with the shipped
  lexicon instead of failing at every world they generate."""
  from svlr_tf import text
  if text.wordnet() is None:
    import warnings
    warnings.warn("WordNet is not installed: tests use the 'shipped-lexicon' "
                  "part-of-speech backend")
    text.taggers.DEFAULT_BACKEND = "shipped-lexicon"
  yield


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
  """Path of a prepared `tiny` embedded dataset (generated once)."""
  from svlr_tf import world
  return world.ensure_world("tiny", root=str(tmp_path_factory.mktemp("world")))


@pytest.fixture(scope="session")
def tiny_data(tiny_world):
  from svlr_tf.data.prepared import PreparedData
  return PreparedData(tiny_world)


@pytest.fixture(scope="session")
def tiny_joint_svlr_run(tiny_data, tmp_path_factory):
  """Work directory of a Joint SVLR run trained 10 steps on the tiny world (shared
  by the Predictor, tools.ask and tools.serve tests)."""
  from svlr_tf.training.experiment import config_for_data
  from svlr_tf.training.trainer import Trainer
  workdir = tmp_path_factory.mktemp("runs") / "joint_svlr"
  cfg = config_for_data("tiny", "joint_svlr", tiny_data, seed=0, steps=10)
  Trainer(cfg, tiny_data, str(workdir), log=lambda s: None).fit()
  return str(workdir)
