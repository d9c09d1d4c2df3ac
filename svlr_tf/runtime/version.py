"""svlr_tf's version (``svlr_tf.__version__``), here so that the runtime and
inference layers read it without importing the package root."""

__version__ = "0.1.0"
