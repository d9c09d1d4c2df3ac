"""Using a trained model: ``Predictor`` (answer, recognize) and the export bundle.

The names load on first use, so that the TensorFlow-free parts
(``svlr_tf.inference.checks``) can be imported by a command line that checks its
input before it pays for TensorFlow.
"""

import importlib

_EXPORTS = {"Predictor": "predictor", "answer_vocabulary": "predictor",
            "Answer": "results", "Recognition": "results", "RegionWords": "results",
            "Regions": "results"}

__all__ = list(_EXPORTS)


def __getattr__(name):
  if name in _EXPORTS:
    module = importlib.import_module(f"svlr_tf.inference.{_EXPORTS[name]}")
    return getattr(module, name)
  raise AttributeError(f"module 'svlr_tf.inference' has no attribute {name!r}")
