"""Importing TensorFlow without its C++ start-up log.

TensorFlow 2.21 writes its start-up lines (oneDNN and CPU-instruction notices, "Could
not find cuda drivers", and on a machine without a GPU a ``failed call to cuInit``
error) straight to file descriptor 2 from C++ while it is imported, before its log
level can take effect: ``TF_CPP_MIN_LOG_LEVEL`` does not hide them (measured: seven
lines at level 2, some printed twice because two libraries each carry a logger).
:func:`import_tensorflow` therefore points descriptor 2 at a temporary file during
the import and restores it afterwards.  On success what it caught is dropped
(the start-up lines, and any Python warning printed during the import); if the
import fails the captured lines are written to stderr before the exception
propagates; without a descriptor 2 nothing is captured; and
``show_log=True`` (the entry points pass it for ``--verbosity=0`` or more) lets
them through (:func:`svlr_tf.runtime.entry_points.quiet_tensorflow` decides that from the
command line's --verbosity).  The devices are listed inside the same capture: on a
machine without a GPU that is where ``failed call to cuInit`` is written (listing
them creates no context: the logical-device set-up that may follow still works).

``import svlr_tf`` installs :func:`quiet_tensorflow_import`: the first
``import tensorflow`` of the process, by any module (svlr_tf's, Keras, the
user's), then runs under the same capture, so Python sessions are as quiet as the
command lines.  Nothing else changes (the same TensorFlow, the same numbers);
``TF_CPP_MIN_LOG_LEVEL=0`` in the environment shows the log.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import sys
import tempfile


def import_tensorflow(show_log: bool = False):
  """Returns the ``tensorflow`` module, imported with its start-up log hidden."""
  if show_log or "tensorflow" in sys.modules:
    if show_log:
      remove_quiet_import()  # asked for: let the log through
    import tensorflow as tf
    return tf
  remove_quiet_import()  # captured here
  with _stderr_captured():
    import tensorflow as tf
    tf.config.list_physical_devices()  # cuInit's error, without a GPU
  return tf


@contextlib.contextmanager
def _stderr_captured():
  """File descriptor 2 points at a temporary file inside; what it caught is
  written to stderr only if the body raises."""
  try:
    if sys.stderr is not None:
      sys.stderr.flush()
    saved = os.dup(2)
  except (OSError, ValueError):  # no descriptor 2 (closed): nothing to hide
    yield
    return
  with tempfile.TemporaryFile() as captured:
    os.dup2(captured.fileno(), 2)
    try:
      yield
    except BaseException:
      _restore(saved)
      captured.seek(0)
      if sys.stderr is not None:
        sys.stderr.write(captured.read().decode("utf-8", "replace"))
        sys.stderr.flush()
      raise
    _restore(saved)


class _QuietLoader(importlib.abc.Loader):
  """TensorFlow's own loader, its ``exec_module`` inside the capture."""

  def __init__(self, loader):
    self.loader = loader

  def create_module(self, spec):
    return self.loader.create_module(spec)

  def exec_module(self, module):
    try:
      with _stderr_captured():
        self.loader.exec_module(module)
        try:
          module.config.list_physical_devices()  # cuInit's error, without a GPU
        except Exception:  # pylint: disable=broad-except  (a device problem is not
          pass             # the import's: TensorFlow reports it when used)
    finally:  # the module keeps its own loader (resources, reloads)
      module.__loader__ = self.loader
      if getattr(module, "__spec__", None) is not None:
        module.__spec__.loader = self.loader


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
  """Finds ``tensorflow`` once, through the other finders, and wraps its loader."""

  def find_spec(self, name, path=None, target=None):
    if name != "tensorflow":
      return None
    remove_quiet_import()
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.loader is not None:
      spec.loader = _QuietLoader(spec.loader)
    return spec


def quiet_tensorflow_import() -> None:
  """The process's first ``import tensorflow`` (if still to come) runs with its
  start-up log hidden; ``TF_CPP_MIN_LOG_LEVEL=0`` leaves it alone."""
  if ("tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"
      or any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path)):
    return
  sys.meta_path.insert(0, _QuietTensorFlowFinder())


def remove_quiet_import() -> None:
  sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowFinder)]


def _restore(saved: int) -> None:
  if saved < 0:
    return
  if sys.stderr is not None:
    sys.stderr.flush()
  os.dup2(saved, 2)
  os.close(saved)
