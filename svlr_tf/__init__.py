"""svlr_tf: a TensorFlow 2 / Keras 3 reproduction of SVLR (Gupta et al., ICCV 2017)."""

import importlib

from svlr_tf.runtime.startup import quiet_tensorflow_import
from svlr_tf.runtime.version import __version__  # noqa: F401

# TensorFlow's C++ start-up log (oneDNN, CUDA probing, "failed call to cuInit")
# hidden when it is first imported, as the command lines do (svlr_tf.runtime.startup).
quiet_tensorflow_import()


def __getattr__(name):
  # ``svlr_tf.Predictor`` on first use: ``import svlr_tf`` stays free of TensorFlow,
  # and the package does not depend on svlr_tf.inference when it loads.
  if name == "Predictor":
    return importlib.import_module("svlr_tf.inference").Predictor
  raise AttributeError(f"module 'svlr_tf' has no attribute {name!r}")
