"""Importing TensorFlow without its C++ start-up log.

TensorFlow 2.21 writes its start-up lines (oneDNN and CPU-instruction notices, "Could
not find cuda drivers", and on a machine without a GPU a ``failed call to cuInit``
error) straight to file descriptor 2 from C++ while it is imported, before its log
level can take effect: ``TF_CPP_MIN_LOG_LEVEL`` does not hide them (measured: seven
lines at level 2, some printed twice because two libraries each carry a logger).
:func:`import_tensorflow` therefore points descriptor 2 at a temporary file during
the import and restores it afterwards.  Nothing is lost: if the import fails the
captured lines are written to stderr before the exception propagates, and
``show_log=True`` (the entry points pass it for ``--verbosity=0`` or more) lets
them through (:func:`svlr_tf.runtime.entry_points.quiet_tensorflow` decides that from the
command line's --verbosity).
"""

from __future__ import annotations

import os
import sys
import tempfile


def import_tensorflow(show_log: bool = False):
  """Returns the ``tensorflow`` module, imported with its start-up log hidden."""
  if show_log or "tensorflow" in sys.modules:
    import tensorflow as tf
    return tf
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as captured:
    os.dup2(captured.fileno(), 2)
    try:
      import tensorflow as tf
    except BaseException:
      _restore(saved)
      captured.seek(0)
      sys.stderr.write(captured.read().decode("utf-8", "replace"))
      sys.stderr.flush()
      raise
    _restore(saved)
  return tf


def _restore(saved: int) -> None:
  if saved < 0:
    return
  sys.stderr.flush()
  os.dup2(saved, 2)
  os.close(saved)
