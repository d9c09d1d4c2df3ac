"""Shared fixtures: the tiny embedded world, generated once per test session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
  """Path of a prepared `tiny` embedded dataset (generated once)."""
  from svlr_tf import world
  return world.ensure_world("tiny", root=str(tmp_path_factory.mktemp("world")))


@pytest.fixture(scope="session")
def tiny_data(tiny_world):
  from svlr_tf.data.prepared import PreparedData
  return PreparedData(tiny_world)
