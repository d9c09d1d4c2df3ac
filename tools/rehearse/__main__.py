"""python -m tools.rehearse: see tools/rehearse/__init__.py."""

from __future__ import annotations

import fractions
import json
import os
import platform
import shutil
import sys
import time

from absl import flags

from svlr_tf.runtime.errors import DataError
from tools._common import run_main
from tools.rehearse import fit, inputs, stages

FLAGS = flags.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_fraction(text: str) -> float:
  try:
    value = float(fractions.Fraction(text))
  except (ValueError, ZeroDivisionError):
    raise DataError(None, f"--fraction {text!r}: not a number or a/b") from None
  if not 0 < value <= 1:
    raise DataError(None, f"--fraction {text!r}: must be in (0, 1]")
  return value


def check_disk(root: str, fraction: float) -> dict:
  """The disk a fraction needs; a DataError when the file system lacks it."""
  need = inputs.disk_needed(fraction)
  os.makedirs(root, exist_ok=True)
  free = shutil.disk_usage(root).free
  if need["total"] * 1.1 > free:
    per = ", ".join(f"1/{d}: {inputs.disk_needed(1 / d)['total'] / 1e9:.1f} GB"
                    for d in (64, 16, 4, 1))
    raise DataError(root, f"fraction {fraction:g} needs ~{need['total'] / 1e9:.1f} GB "
                    f"(+10 %) and {free / 1e9:.1f} GB are free; needs: {per}")
  return {"needed_gb": round(need["total"] / 1e9, 2), "free_gb": round(free / 1e9, 1),
          "parts_gb": {k: round(v / 1e9, 3) for k, v in need.items()}}


def _train_argv(data_dir: str, workdir: str, mode: str, steps: int) -> list:
  return ["reproduce.table1", "--preset", "paper", "--data_dir", data_dir,
          "--workdir", workdir, "--experiments", "joint_svlr", "--seeds", "1",
          "--steps", str(steps), "--input_mode", mode,
          "--config.train.log_every=1", f"--config.train.eval_every={steps}",
          f"--config.train.checkpoint_every={steps}"]


def plan(root: str, steps: int, modes) -> list:
  """(name, argv) of every tool stage, in the recipe's order."""
  raw, data = os.path.join(root, "raw"), os.path.join(root, "prepared")
  out = [
      ("prepare_genome", ["tools.prepare_genome", "--genome_dir", raw,
                          "--data_dir", data]),
      ("genome_features (stand-in)", ["tools.rehearse.genome_store", "--boxes",
                                      os.path.join(data, "boxes", "genome.jsonl"),
                                      "--out", os.path.join(data, "features", "genome")]),
      ("prepare_vqa", ["tools.prepare_vqa", "--vqa_dir", raw, "--data_dir", data]),
      ("import_features", ["tools.import_features", "--tsv",
                           os.path.join(raw, "trainval_36.tsv"), "--out",
                           os.path.join(data, "features", "vqa"),
                           "--rows_per_image", "100"]),
      ("prepare_vocab", ["tools.prepare_vocab", "--data_dir", data, "--word_vectors",
                         os.path.join(raw, "vectors-300.bin")]),
      ("check_data (first)", ["tools.check_data", data]),
      ("check_data (again)", ["tools.check_data", data]),
  ]
  for mode in modes:
    out.append((f"train {mode}", _train_argv(data, os.path.join(root, "runs", mode),
                                             mode, steps)))
  return out


def write_inputs(root: str, fraction: float) -> None:
  raw = os.path.join(root, "raw")
  os.makedirs(raw, exist_ok=True)
  inputs.write_genome(raw, fraction)
  inputs.write_vqa(raw, fraction)
  inputs.write_tsv(os.path.join(raw, "trainval_36.tsv"), fraction)
  inputs.write_word2vec(os.path.join(raw, "vectors-300.bin"), fraction)


def rehearse(root: str, fraction: float, steps: int, modes, nice: int = 0,
             stop_after_training: bool = False) -> dict:
  """Runs every stage at ``fraction`` under ``root``; returns the record."""
  disk = check_disk(root, fraction)
  logs = os.path.join(root, "logs")
  os.makedirs(logs, exist_ok=True)
  record = {"fraction": fraction, "counts": inputs.counts(fraction), "disk_check": disk,
            "steps": steps, "nice": nice, "stop_after_training": stop_after_training, "cpus": os.cpu_count(),
            "machine": platform.platform(), "python": sys.version.split()[0],
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "stages": []}
  path = os.path.join(root, "rehearsal.json")

  def save():
    with open(path + ".tmp", "w", encoding="utf-8") as f:
      json.dump(record, f, indent=1)
    os.replace(path + ".tmp", path)

  if nice:
    os.nice(nice)
  record["nice"] = os.nice(0)  # the niceness the stages ran at (flag or `nice -n`)
  print(f"rehearsal at fraction {fraction:g} in {root} (needs ~{disk['needed_gb']} GB, "
        f"{disk['free_gb']} GB free)", flush=True)
  record["stages"].append(stages.run_python(
      "write inputs", lambda: write_inputs(root, fraction), root))
  print(fit.stage_line(record["stages"][-1]), flush=True)
  save()
  for name, argv in plan(root, steps, modes):
    log = os.path.join(logs, name.split(" (")[0].replace(" ", "_")
                       + ("_again" if "again" in name else "") + ".log")
    stop = steps if stop_after_training and name.startswith("train") else None
    record["stages"].append(stages.run(name, argv, root, log, cwd=REPO,
                                       stop_at_step=stop))
    print(fit.stage_line(record["stages"][-1]), flush=True)
    save()
  record["disk_total_mb"] = round(stages.disk_bytes(root) / 2**20, 1)
  record["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
  save()
  print(fit.table([record]))
  return record


def main(argv):
  del argv
  if FLAGS.fit:
    records = []
    for path in FLAGS.fit:
      with open(path, encoding="utf-8") as f:
        records.append(json.load(f))
    print(fit.full_size_table(records))
    return
  if not FLAGS.dir:
    raise DataError(None, "--dir is required (where the rehearsal writes)")
  fraction = parse_fraction(FLAGS.fraction)
  if FLAGS.disk_only:
    print(json.dumps(check_disk(FLAGS.dir, fraction), indent=1))
    return
  rehearse(FLAGS.dir, fraction, FLAGS.steps, FLAGS.input_modes, FLAGS.nice,
           FLAGS.stop_after_training)


if __name__ == "__main__":
  flags.DEFINE_string("fraction", "1/64", "Fraction of the real sizes (a/b or a number).")
  flags.DEFINE_string("dir", None, "Directory the rehearsal writes (raw/, prepared/, "
                      "runs/, logs/, rehearsal.json).")
  flags.DEFINE_integer("steps", 30, "Training steps of each training stage.", lower_bound=4)
  flags.DEFINE_list("input_modes", ["host", "resident"], "Training input modes to run.")
  flags.DEFINE_integer("nice", 0, "Niceness added to the stages (shared machines).")
  flags.DEFINE_bool("stop_after_training", False, "Interrupt each training stage "
                    "after its last step (its evaluations, which grow with the test "
                    "split, are not run or timed).")
  flags.DEFINE_bool("disk_only", False, "Only say how much disk the fraction needs.")
  flags.DEFINE_list("fit", None, "rehearsal.json files to fit and extrapolate "
                    "to full size (no stage is run).")
  run_main(main)
