"""What a reproduce module prints besides its results: --help in order, one
input-mode line per module, and the last line (what to look at next).

    console.order_help()                  # in define_common_flags
    log = console.ModuleLog()             # the runs' log: input mode said once
    console.next_steps(workdir)           # after the results

``--help`` lists the main flags first (preset, seeds, workdir, experiments,
data_dir, steps), then the module's other flags, then the ``--config.*``
overrides (absl alone sorts them all alphabetically, the 35 overrides among the
main flags).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Callable, List, Optional

from absl import flags

FLAGS = flags.FLAGS
MAIN_FLAGS = ("preset", "seeds", "workdir", "experiments", "data_dir", "steps")
_INPUT_MODE = re.compile(r"^\[[^\]]*\] input mode (\w+): (.*)$")


def _help_of_main_module() -> str:
  """The main module's key flags in three groups: the main flags (in MAIN_FLAGS'
  order), the others and the overrides (by name)."""
  key_flags = FLAGS.get_key_flags_for_module(sys.argv[0])
  main = sorted((f for f in key_flags if f.name in MAIN_FLAGS),
                key=lambda f: MAIN_FLAGS.index(f.name))
  overrides = [f for f in key_flags if f.name.startswith("config.")]
  others = sorted((f for f in key_flags if f not in main and f not in overrides),
                  key=lambda f: f.name)
  overrides.sort(key=lambda f: f.name)
  lines: List[str] = []
  for title, group in (("main flags", main), ("other flags", others),
                       (f"{len(overrides)} config overrides "
                        "(--config.<section>.<field>=value, for every run)", overrides)):
    if group:
      lines.append(f"\n{title}:")
      for flag in group:  # in this order (absl's renderer sorts a list by name)
        FLAGS._render_flag_list([flag], lines, "  ")  # pylint: disable=protected-access
  return "\n".join(lines)


def order_help() -> None:
  """``--help`` of this process: main flags, the others, then the overrides."""
  FLAGS.__dict__["main_module_help"] = _help_of_main_module


def short_input_mode(mode: str, reason: str) -> str:
  """"input mode resident: auto: 7.68 kB of training features x 1 replica(s) fit"
  (the reason without the memory arithmetic; said for all the module's runs)."""
  reason = reason.split(" fit:")[0] + " fit" if " fit:" in reason else reason
  return f"input mode {mode}: {reason}"


class ModuleLog:
  """The log of a module's runs (printed, flushed): the input-mode line of every
  run is printed once, short, and again only when a run's mode differs."""

  def __init__(self, write: Callable[[str], None] = lambda line: print(line, flush=True)):
    self.write = write
    self.mode: Optional[str] = None

  def __call__(self, line: str) -> None:
    found = _INPUT_MODE.match(line)
    if not found:
      self.write(line)
      return
    mode, reason = found.groups()
    if mode != self.mode:
      self.mode = mode
      self.write(short_input_mode(mode, reason))


def next_steps(workdir: str) -> str:
  """The last line: where the training curves and the one-page report are (the
  report's runs root: the workdir's parent, as the modules' default runs/<name>)."""
  runs_root = os.path.dirname(os.path.normpath(workdir)) or "."
  report = "python -m reproduce.report" + (
      "" if os.path.normpath(runs_root) == "runs" else f" --runs_root {runs_root}")
  return (f"next: tensorboard --logdir {workdir}; {report}, then open "
          f"{os.path.join(runs_root, 'report', 'index.html')}")
