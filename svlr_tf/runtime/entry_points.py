"""What every command line of the project (``reproduce/*``, ``tools/*``) does the
same way, after absl has parsed its flags: bad input, I/O faults and TensorFlow
errors end it with one line ``error: ...`` on stderr and exit status 1
(:func:`run_main`, :func:`fail`), and TensorFlow starts without its C++ start-up
log (:func:`quiet_tensorflow`).
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from svlr_tf.runtime.errors import one_line
from svlr_tf.runtime.startup import import_tensorflow


def fail(message: str) -> None:
  """Ends the program: ``error: <message>`` on stderr (after what stdout holds),
  exit status 1."""
  sys.stdout.flush()
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(1)


def run_main(main: Callable[[list], Any], positional: int = 0) -> None:
  """absl's ``app.run(main)``; bad data (a DataError is ``"<path>: <problem>"``),
  I/O faults (full disk, unreadable file, ...) and TensorFlow errors are reported
  as one line (the last of the output), exit status 1.  A bug keeps its traceback.

  ``positional``: how many positional arguments the program takes (more is an
  error: every option is a flag).
  """
  from absl import app  # pylint: disable=import-outside-toplevel

  def checked_main(argv):
    if len(argv) > 1 + positional:
      fail(f"unexpected argument(s) {' '.join(argv[1:])!r} (every option is a flag: "
           "--name=value; see --help)")
    try:
      return main(argv)
    except Exception as err:  # pylint: disable=broad-except
      message = one_line(err)
      if message is None:
        raise
      fail(message)

  app.run(checked_main)


def quiet_tensorflow():
  """Returns ``tensorflow``, imported after flag parsing with its C++ start-up log
  and absl INFO lines (e.g. checkpoint notices, which drown progress lines)
  hidden; an explicit --verbosity=0 or more shows both."""
  from absl import flags, logging  # pylint: disable=import-outside-toplevel
  verbosity = flags.FLAGS["verbosity"]
  if not verbosity.present:
    logging.set_verbosity(logging.WARNING)
  return import_tensorflow(show_log=verbosity.present and verbosity.value >= 0)
