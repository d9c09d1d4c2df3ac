"""What the entry points print besides results: --help in order, the input mode
once per module, the next steps, and a quiet ``import svlr_tf``."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python(code_or_args, env_extra=None, cwd=None):
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  env.update(PYTHONPATH=ROOT, **(env_extra or {}))
  args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
  return subprocess.run([sys.executable] + args, cwd=cwd or ROOT, env=env,
                        capture_output=True, text=True, timeout=300)


def test_help_lists_the_main_flags_before_the_config_overrides():
  proc = _python(["-m", "reproduce.table1", "--help"])
  out = proc.stdout
  where = [out.index(f"\n  --{name}:") for name in
           ("preset", "seeds", "workdir", "experiments", "data_dir")]
  assert where == sorted(where), where
  first_override = out.index("\n  --config.")
  assert max(where) < out.index("other flags:") < first_override
  assert out.index("retrain_stale:") < first_override
  import re
  count = int(re.search(r"\n(\d+) config overrides", out).group(1))
  assert count >= 30 and len(re.findall(r"\n  --(\[no\])?config\.", out)) == count


def test_module_log_says_the_input_mode_once_and_short():
  from reproduce.console import ModuleLog
  lines = []
  log = ModuleLog(lines.append)
  long = ("auto: 7.68 kB of training features x 1 replica(s) fit: 7.68 kB <= 50% of "
          "the host's available memory (17.3 GB)")
  log(f"[vqa_only] input mode resident: {long}")
  log("[vqa_only seed 0] step 5/20 loss 1.7")
  log(f"[joint_svlr] input mode resident: {long.replace('17.3', '16.9')}")
  log("[genome_only] input mode host: train.input_mode=host")
  assert lines == ["input mode resident: auto: 7.68 kB of training features x 1 "
                   "replica(s) fit", "[vqa_only seed 0] step 5/20 loss 1.7",
                   "input mode host: train.input_mode=host"]
  assert max(len(l) for l in lines) < 80


def test_next_steps_name_tensorboard_and_the_report_of_the_runs_root():
  from reproduce.console import next_steps
  line = next_steps("runs/table1")
  assert line.startswith("next: tensorboard --logdir runs/table1; ")
  assert "python -m reproduce.report, then open runs/report/index.html" in line
  assert "reproduce.report --runs_root /x/r, then open /x/r/report/index.html" in \
      next_steps("/x/r/table1")


def test_import_svlr_tf_then_tensorflow_is_quiet_and_computes_the_same():
  """``import svlr_tf`` hides TensorFlow's start-up log (oneDNN, CUDA probing,
  cuInit) as the command lines do, for whichever module imports TensorFlow
  first; the numbers are TensorFlow's own, bit for bit."""
  compute = ("import numpy as np, tensorflow as tf; tf.config.list_physical_devices(); "
             "x = tf.random.stateless_normal([64, 64], [1, 2]); "
             "print(tf.reduce_sum(tf.linalg.matmul(x, x)).numpy().tobytes().hex())")
  quiet = _python("import svlr_tf, svlr_tf.model.svlr; " + compute, cwd="/")
  plain = _python(compute, cwd="/")
  assert quiet.returncode == 0 and plain.returncode == 0, quiet.stderr[-2000:]
  assert quiet.stderr == "", quiet.stderr
  assert quiet.stdout == plain.stdout  # same numbers
  # On a machine without a GPU ``plain.stderr`` holds the oneDNN, CUDA and cuInit
  # lines that ``quiet`` hid.
