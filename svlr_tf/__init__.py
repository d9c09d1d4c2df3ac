"""svlr_tf: a TensorFlow 2 / Keras 3 reproduction of SVLR (Gupta et al., ICCV 2017)."""

__version__ = "0.1.0"
