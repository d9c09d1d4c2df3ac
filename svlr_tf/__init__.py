"""svlr_tf: a TensorFlow 2 / Keras 3 reproduction of SVLR (Gupta et al., ICCV 2017)."""

__version__ = "0.1.0"


def __getattr__(name):
  # ``svlr_tf.Predictor`` without importing TensorFlow on ``import svlr_tf``.
  if name == "Predictor":
    from svlr_tf.inference import Predictor  # pylint: disable=import-outside-toplevel
    return Predictor
  raise AttributeError(f"module 'svlr_tf' has no attribute {name!r}")
