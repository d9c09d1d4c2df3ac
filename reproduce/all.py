r"""Every result of the paper on the embedded default, then the report.

    python -m reproduce.all                         # about an hour on 2 CPU cores
    python -m reproduce.all --modules table4,report # a subset, in this order

Runs each reproduce module in its own process (each has its own flags), in an
order that lets later modules reuse earlier runs: Table 1 first, whose Genome-only
and Joint SVLR runs the zero-shot, pre-training, Table 4, Table 2, attention and
Fig. 5 modules reuse (zero-shot, Table 2, attention and Fig. 5 work in Table 1's
directory), then the ablation, then ``reproduce.report``.  Resumable: stop it
at any time and run it again; finished runs are read back, an interrupted run
continues from its last checkpoint.  A module that fails is reported and the next
one runs; the exit status is 1 if any failed.  Prints and writes
``<runs_root>/all.json`` with each module's wall time.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

from absl import app, flags

from svlr_tf.training.grid import format_duration
from svlr_tf.presets import PRESET_NAMES

FLAGS = flags.FLAGS
flags.DEFINE_string("runs_root", "runs", "Root of the modules' work directories.")
flags.DEFINE_list("modules", None, "Run only these modules (default: all available).")
flags.DEFINE_enum("preset", "default", list(PRESET_NAMES), "Preset.")
flags.DEFINE_integer("seeds", None, "Seeds per module (default: each module's own).")
flags.DEFINE_integer("steps", None, "Training steps per run (default: the preset's).")

# (module, its --workdir under the runs root, the runs it reuses under the runs
# root, if it has a --runs flag): the order matters (later modules reuse runs).
MODULES = (
    ("table1", "table1", None),
    ("zero_shot", "table1", None),    # reuses Table 1's Genome-only runs
    ("pretraining", "pretraining", "table1"),
    ("table4", "table4", "table1"),
    ("table2", "table1", None),       # works in Table 1's directory, reusing its runs
    ("attention", "table1", None),
    ("fig5", "table1", None),         # reuses Table 1's Genome-only runs
    ("ablation", "ablation", "table1"),  # reuses Table 1's joint rows
)


def available(name: str) -> bool:
  return importlib.util.find_spec(f"reproduce.{name}") is not None


def command(name: str) -> list:
  if name == "report":
    return [sys.executable, "-m", "reproduce.report", "--runs_root", FLAGS.runs_root]
  workdir, runs = {m: (w, r) for m, w, r in MODULES}[name]
  args = [sys.executable, "-m", f"reproduce.{name}", "--preset", FLAGS.preset,
          "--workdir", os.path.join(FLAGS.runs_root, workdir)]
  if runs:
    args += ["--runs", os.path.join(FLAGS.runs_root, runs)]
  if FLAGS.seeds is not None:
    args += ["--seeds", str(FLAGS.seeds)]
  if FLAGS.steps is not None:
    args += ["--steps", str(FLAGS.steps)]
  return args


def main(argv):
  del argv
  known = [m for m, _, _ in MODULES] + ["report"]
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
  os.makedirs(FLAGS.runs_root, exist_ok=True)
  from svlr_tf.runtime.files import atomic_write_json
  atomic_write_json(os.path.join(FLAGS.runs_root, "all.json"),
                    {"seconds": timings, "total_seconds": total, "failed": failed,
                     "preset": FLAGS.preset}, indent=2)
  print(f"\nreproduce.all: {format_duration(total)} in total; " + ", ".join(
      f"{m} {format_duration(s)}" for m, s in timings.items() if s is not None))
  if failed:
    print(f"failed: {', '.join(failed)}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
