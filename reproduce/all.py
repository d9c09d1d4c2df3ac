r"""Every result of the paper on the embedded default, then the report.

    python -m reproduce.all                         # about an hour on 2 CPU cores
    python -m reproduce.all --modules table4,report # a subset, in this order

Runs each reproduce module in its own process (each has its own flags), in the
order of ``reproduce.registry.ORDER``, which lets later modules read earlier runs:
Table 1 first, whose runs the zero-shot, pre-training, Table 4, Table 2, attention,
Fig. 5 and ablation modules read (zero-shot, Table 2, attention and Fig. 5 work in
Table 1's directory), then ``reproduce.report``.  Each module's work directory is
its registry's directory under --runs_root (default: runs for the default preset,
runs/<preset> for another: docs/results_registry.md).  Resumable: stop it at any
time and run it again; finished runs are read back, an interrupted run continues
from its last checkpoint.  A module that fails is reported and the next one runs;
the exit status is 1 if any failed.  Prints and writes ``<runs_root>/all.json``
with each module's wall time.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

from absl import app, flags

from reproduce import registry
from svlr_tf.training.grid import format_duration
from svlr_tf.presets import PRESET_NAMES

FLAGS = flags.FLAGS


def define_flags():
  flags.DEFINE_string("runs_root", None, "Root of the modules' work directories "
                      "(default: runs, or runs/<preset> for a preset other than "
                      "default).")
  flags.DEFINE_list("modules", None, "Run only these modules (default: all "
                    "available).")
  flags.DEFINE_enum("preset", "default", ["tiny", "default", "paper"], "Preset.")
  flags.DEFINE_integer("seeds", None, "Seeds per module (default: each module's own).")
  flags.DEFINE_integer("steps", None, "Training steps per run (default: the "
                       "preset's).")

# The modules in order (later modules read earlier runs), from the registry.
MODULES = tuple(r.key for r in registry.ORDER if r.in_all)


def root() -> str:
  return FLAGS.runs_root or registry.runs_root(FLAGS.preset)


def available(name: str) -> bool:
  return importlib.util.find_spec(f"reproduce.{name}") is not None


def command(name: str) -> list:
  if name == "report":
    return [sys.executable, "-m", "reproduce.report", "--runs_root", root()]
  result = registry.RESULTS[name]
  args = [sys.executable, "-m", f"reproduce.{name}", "--preset", FLAGS.preset,
          "--workdir", os.path.join(root(), result.workdir_name)]
  if result.runs_flag:
    args += ["--runs", os.path.join(root(), result.runs_name)]
  if FLAGS.seeds is not None:
    args += ["--seeds", str(FLAGS.seeds)]
  if FLAGS.steps is not None:
    args += ["--steps", str(FLAGS.steps)]
  return args


def main(argv):
  del argv
  known = list(MODULES) + ["report"]
  chosen = FLAGS.modules or known
  unknown = [m for m in chosen if m not in known]
  if unknown:
    print(f"error: --modules: unknown {unknown}; known: {known}", file=sys.stderr)
    sys.exit(1)
  plan = [m for m in known if m in chosen]
  timings, failed, t0 = {}, [], time.time()
  for name in plan:
    if name != "report" and not available(name):
      print(f"== reproduce.{name}: not in this version, skipped", flush=True)
      timings[name] = None
      continue
    args = command(name)
    print(f"== reproduce.{name} [{format_duration(time.time() - t0)} elapsed]: "
          f"{' '.join(args[1:])}", flush=True)
    start = time.time()
    status = subprocess.call(args)
    timings[name] = round(time.time() - start, 1)
    print(f"== reproduce.{name}: {'done' if status == 0 else f'FAILED ({status})'} in "
          f"{format_duration(timings[name])}", flush=True)
    if status != 0:
      failed.append(name)
  total = round(time.time() - t0, 1)
  os.makedirs(root(), exist_ok=True)
  from svlr_tf.runtime.files import atomic_write_json
  atomic_write_json(os.path.join(root(), "all.json"),
                    {"seconds": timings, "total_seconds": total, "failed": failed,
                     "preset": FLAGS.preset}, indent=2)
  print(f"\nreproduce.all: {format_duration(total)} in total; " + ", ".join(
      f"{m} {format_duration(s)}" for m, s in timings.items() if s is not None))
  if "report" in plan:
    print(f"next: open {os.path.join(FLAGS.runs_root, 'report', 'index.html')}; "
          f"tensorboard --logdir {FLAGS.runs_root}", flush=True)
  if failed:
    print(f"failed: {', '.join(failed)}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  define_flags()
  app.run(main)
