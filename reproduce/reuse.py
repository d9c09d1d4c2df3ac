"""Follow-up modules read another result's runs and never train them.

A result of ``reproduce.registry`` with ``reused`` rows (zero-shot, Table 2, the
attention pictures, Fig. 5, pre-training, Table 4, the ablation) reads those runs:
it uses the seeds whose runs are all finished and says which in one line
(``reused_seeds``), or stops before training with one line naming the command that
trains them (``not_trained``; before the data is read when no results file is
there at all: ``seeds_with_results``).  docs/results_registry.md.
"""

from __future__ import annotations

import os

from reproduce import options
from svlr_tf.runtime.entry_points import fail

FLAGS = options.FLAGS


def runs_dir(result) -> str:
  """Where the runs ``result`` reuses are."""
  return FLAGS.runs if result.runs_flag else FLAGS.workdir


def selected(result) -> list:
  rows = result.rows
  return options.select_rows(rows, FLAGS.experiments) if result.select else list(rows)


def reused_rows(result) -> list:
  return [r for r in selected(result) if r.label in result.reused]


def seeds_with_results(result) -> list:
  """The seeds whose reused runs all have a results file (a first check, before
  the data is read)."""
  from svlr_tf.training.grid import run_dir
  rows = reused_rows(result)
  return [s for s in range(FLAGS.seeds)
          if all(os.path.exists(os.path.join(run_dir(runs_dir(result), r, s),
                                             "results.json")) for r in rows)]


def _finished(row, seed: int, setup: "reproduce.common.Setup", where: str) -> bool:
  """Whether the run of ``row`` and ``seed`` under ``where`` is finished with the
  config this command line gives it (what ``svlr_tf.training.grid.run_grid`` reuses)."""
  from svlr_tf.training.experiment import config_for_data
  from svlr_tf.runtime.files import read_json
  from svlr_tf.training.grid import run_dir
  path = os.path.join(run_dir(where, row, seed), "results.json")
  if not os.path.exists(path):
    return False
  merged = {k: dict(v) for k, v in options.overrides().items()}
  for section, values in (row.overrides or {}).items():
    merged.setdefault(section, {}).update(values)
  try:
    config = config_for_data(FLAGS.preset, row.experiment, setup.data, seed, None,
                             merged)
  except ValueError as e:
    fail(str(e))
  if row.name:
    config = config.replace(name=row.name)
  saved = read_json(path)
  return (config.describes(saved.get("config") or {})
          and (not row.zero_shot or "zero_shot_test" in saved))


def train_command(result, seeds: int) -> str:
  """The command that trains the runs ``result`` reuses, with this command
  line's preset, data, steps and overrides."""
  from reproduce import registry
  source = registry.RESULTS[result.reuses]
  args = [f"python -m reproduce.{source.key}"]
  names = ("preset", "data_dir", "steps", "mixed_precision", "jit_compile",
           "input_mode") + tuple(f"config.{s}.{f}" for s, f, _ in options.overridable())
  for name in names:
    if FLAGS[name].present:
      args.append(FLAGS[name].serialize())
  where = runs_dir(result)
  if where != registry.default_workdir(source.key, FLAGS.preset, FLAGS.data_dir):
    args.append(f"--workdir={where}")
  if seeds != source.seeds:
    args.append(f"--seeds={seeds}")
  needed = {r.dirname for r in reused_rows(result)}
  if needed != {r.dirname for r in source.rows}:
    args.append("--experiments=" + ",".join(r.dirname for r in source.rows
                                             if r.dirname in needed))
  return " ".join(args)


def not_trained(result, seeds) -> str:
  """One line: the runs ``result`` reads are not there for ``seeds``, and the
  command that trains them."""
  from reproduce import registry
  source = registry.RESULTS[result.reuses]
  labels = ", ".join(r.label for r in reused_rows(result))
  return (f"{result.header} reads {source.header}'s runs ({labels}) and does not "
          f"train them; {runs_dir(result)} has none finished for seed(s) "
          f"{', '.join(map(str, seeds))}: train them first with "
          f"`{train_command(result, max(seeds) + 1)}`")


def reused_seeds(result, setup: "reproduce.common.Setup") -> list:
  """The seeds (of --seeds; the first only for a one-seed result) whose reused
  runs are all finished; says which in one line, or stops naming the command
  that trains them."""
  wanted = list(range(FLAGS.seeds))
  rows = reused_rows(result)
  done = [s for s in wanted if all(_finished(r, s, setup, runs_dir(result))
                                   for r in rows)]
  if not done:
    fail(not_trained(result, wanted))
  if result.one_seed:
    done, wanted = done[:1], done[:1]
  missing = [s for s in wanted if s not in done]
  from reproduce import registry
  line = (f"Using {registry.RESULTS[result.reuses].header}'s finished runs in "
          f"{runs_dir(result)}: {', '.join(r.label for r in rows)}; seed(s) "
          f"{', '.join(map(str, done))}")
  if missing:
    line += (f" (seed(s) {', '.join(map(str, missing))} not trained: "
             f"`{train_command(result, max(missing) + 1)}` trains them)")
  print(line, flush=True)
  return done
