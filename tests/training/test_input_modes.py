"""Input modes (train.input_mode): host and resident train identically; the
resident features stay out of checkpoints and are freed after training; auto
chooses from the features' size and the devices' memory."""

import gc
import json
import os
import subprocess
import sys
import weakref

import numpy as np
import pytest
import tensorflow as tf

from svlr_tf.training import task as task_lib
from svlr_tf.config import ExperimentConfig
from svlr_tf.data import input_mode, resident
from svlr_tf.training.experiment import config_for_data
from svlr_tf.training.trainer import Trainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _config(data, mode, steps=4, experiment="joint_svlr"):
  return config_for_data("tiny", experiment, data, seed=0, steps=steps,
                         overrides={"train": {"input_mode": mode, "log_every": 1}})


@pytest.fixture(scope="module")
def runs(tiny_data, tmp_path_factory):
  """A 4-step run in each mode: {mode: (trainer, log lines, workdir)}; the
  resident run also records weak references to its resident features."""
  out, refs = {}, []
  build = task_lib.SVLRTask.build_resident

  def spy(self, *args, **kwargs):
    features = build(self, *args, **kwargs)
    if features is not None:
      refs.extend([weakref.ref(features)] + [weakref.ref(v) for v in
                                             features.variables.values()])
    return features

  task_lib.SVLRTask.build_resident = spy
  try:
    for mode in ("host", "resident"):
      workdir = str(tmp_path_factory.mktemp(f"run_{mode}"))
      logs = []
      trainer = Trainer(_config(tiny_data, mode), tiny_data, workdir, log=logs.append)
      trainer.fit()
      out[mode] = (trainer, logs, workdir)
  finally:
    task_lib.SVLRTask.build_resident = build
  out["refs"] = refs
  return out


def _losses(logs):
  return [line.split(" loss ")[1].split()[0] for line in logs if " loss " in line]


def test_host_and_resident_runs_train_identically(runs):
  host, logs_h, _ = runs["host"]
  res, logs_r, _ = runs["resident"]
  assert any("input mode host: train.input_mode=host" in line for line in logs_h)
  assert any("input mode resident: train.input_mode=resident" in line for line in logs_r)
  assert len(_losses(logs_h)) == 4 and _losses(logs_h) == _losses(logs_r)
  changed = 0
  for a, b in zip(host.model.weights, res.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
  for w, v in zip(host.model.weights, Trainer(host.config, host.data, str(
      runs["host"][2]) + "_fresh", log=lambda s: None).model.weights):
    changed += not np.array_equal(w.numpy(), v.numpy())
  assert changed > 0  # training moved the weights
  with open(os.path.join(runs["host"][2], "evaluations.json")) as f:
    evaluations_h = json.load(f)
  with open(os.path.join(runs["resident"][2], "evaluations.json")) as f:
    assert json.load(f) == evaluations_h


def test_checkpoints_hold_no_resident_features(runs, tiny_data):
  def variables(workdir):
    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    return dict(tf.train.list_variables(path))

  host, resident_run = variables(runs["host"][2]), variables(runs["resident"][2])
  assert host == resident_run  # same names, same shapes
  assert not [name for name in resident_run if "resident" in name]
  index = resident.ResidentIndex(tiny_data, runs["resident"][0].stores,
                                 runs["resident"][0].config)
  shapes = [tuple(s) for s in resident_run.values()]
  assert index.nbytes > 0 and all(tuple(s) not in shapes for s in index.shapes().values())

  def value_bytes(workdir):
    """Bytes of the checkpoint's values: its data file without the object graph
    (whose Keras names differ between two models of one process)."""
    d = os.path.join(workdir, "checkpoints")
    graph = tf.train.load_checkpoint(tf.train.latest_checkpoint(d)).get_tensor(
        "_CHECKPOINTABLE_OBJECT_GRAPH")
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
               if ".data-" in f) - len(graph)
  # The resident copy would add index.nbytes (17 KB of tiny features).
  assert value_bytes(runs["resident"][2]) == value_bytes(runs["host"][2])


def test_resident_features_are_freed_when_training_ends(runs):
  refs = runs["refs"]
  assert len(refs) == 3  # the ResidentFeatures and its two variables
  gc.collect()
  assert [r() for r in refs] == [None] * 3


_RELEASE = r"""
import gc, json, sys
from svlr_tf.runtime import resources
from svlr_tf.data.prepared import PreparedData
from svlr_tf.presets import world_preset_config
from svlr_tf.training.task import SVLRTask
from tools.benchmark.data import write_synthetic_prepared
from tools.benchmark.memory import memory_config
path = sys.argv[1]
base = world_preset_config("paper", "joint_svlr")
write_synthetic_prepared(path, base, 0.2e9)
config = memory_config(path, base).replace(train={"input_mode": "resident"})
data = PreparedData(path)
stores = {kind: data.feature_store(kind) for kind in ("vqa", "genome")}
task = SVLRTask(config)
model = task.build_model_for_data(data)
optimizer = task.build_optimizer(model)

def run():  # what a run does with its resident features (svlr_tf.training.experiment)
  with resources.released_gradient_registrations():
    features = task.build_resident(data, stores, log=lambda line: None)
    step = task.compiled_train_step(model, optimizer, jit_compile=False,
                                    resident=features)
    batches = iter(task.build_inputs(data, stores, seed=0, num_batches=2,
                                     resident=features))
    for _ in range(2):
      step(next(batches))
    nbytes, rss = features.nbytes, resources.memory_status()["RssAnon"]
    del step, batches, features
  gc.collect()
  return nbytes, rss, resources.memory_status()["RssAnon"]

runs = [run() for _ in range(6)]
print(json.dumps({"mb": runs[0][0] / 2**20, "during": [r[1] for r in runs],
                  "after": [r[2] for r in runs]}))
"""


@pytest.mark.slow  # 60 s at a load average of 8 (writes 200 MB of synthetic features)
def test_each_runs_resident_features_are_released(tmp_path):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, "-c", _RELEASE, str(tmp_path / "data")],
                        cwd=tmp_path, env=env, capture_output=True, text=True,
                        timeout=900)
  assert proc.returncode == 0, proc.stderr[-3000:]
  res = json.loads(proc.stdout.strip().splitlines()[-1])
  assert res["mb"] > 150, res
  # Six runs one after the other, each with its own 190 MB copy.  A copy kept
  # per run would add 4 x 190 MB from the second run to the last; measured: +7 MB
  # (740, 808, 815, 814, 814, 815 MB; host-mode runs grow as much early on).
  during = res["during"]
  assert during[-1] - during[1] < res["mb"], res


def test_resident_batches_are_the_host_batches(tiny_data):
  cfg = _config(tiny_data, "resident")
  task = task_lib.SVLRTask(cfg)
  stores = {kind: tiny_data.feature_store(kind) for kind in ("vqa", "genome")}
  features = resident.ResidentFeatures(resident.ResidentIndex(tiny_data, stores, cfg))
  host = task.build_inputs(tiny_data, stores, seed=7, num_batches=5)
  index = task.build_inputs(tiny_data, stores, seed=7, num_batches=5, resident=features)
  n = 0
  for a, b in zip(host, index):
    assert b["vqa"]["image_slots"].dtype == tf.int32
    assert "image_features" not in b["vqa"] and "region_features" not in b["recognition"]
    assert "object_targets" not in b["recognition"]
    assert b["recognition"]["object_targets_ids"].dtype == tf.int32
    b = features.device_batch(b)
    for part in ("vqa", "recognition"):
      assert set(a[part]) == set(b[part])
      for key in a[part]:
        assert a[part][key].dtype == b[part][key].dtype, key
        np.testing.assert_array_equal(a[part][key].numpy(), b[part][key].numpy(), key)
    n += 1
  assert n == 5
  # Only the rows the training splits use, each once.
  vqa = tiny_data.load_vqa("train", cfg.data.max_question_words,
                           cfg.data.max_answer_words, cfg.data.num_choices)
  assert features.variables["vqa"].shape[0] == len(set(vqa.image_ids.tolist()))
  rec = tiny_data.load_recognition("train")
  assert features.variables["genome"].shape[0] == len(set(zip(rec.image_ids.tolist(),
                                                               rec.rows.tolist())))


def test_a_one_task_experiment_loads_only_its_store(tiny_data):
  cfg = _config(tiny_data, "resident", experiment="genome_only")
  stores = {kind: tiny_data.feature_store(kind) for kind in ("vqa", "genome")}
  index = resident.ResidentIndex(tiny_data, stores, cfg)
  assert set(index.shapes()) == {"genome"}


_MIRRORED = r"""
import json, sys
import numpy as np
from svlr_tf.runtime.distribute import split_cpu, get_strategy
split_cpu(2)
import keras
from svlr_tf.data.prepared import PreparedData
from svlr_tf.training.experiment import config_for_data
from svlr_tf.training.task import SVLRTask
data = PreparedData(sys.argv[1])
strategy = get_strategy("mirrored")
stores = {kind: data.feature_store(kind) for kind in ("vqa", "genome")}
out = {}
for mode in ("host", "resident"):
  cfg = config_for_data("tiny", "joint_svlr", data, seed=0, steps=3,
                        overrides={"train": {"input_mode": mode}})
  task = SVLRTask(cfg)
  keras.utils.set_random_seed(0)
  with strategy.scope():
    model = task.build_model_for_data(data)
    optimizer = task.build_optimizer(model)
  features = task.build_resident(data, stores, strategy, log=lambda s: None)
  step = task.distributed_train_step(model, optimizer, strategy, features)
  inputs = task.build_inputs(data, stores, seed=5, num_batches=3, resident=features)
  iterator = iter(strategy.experimental_distribute_dataset(inputs))
  losses = [float(step(iterator)["loss_total"].numpy()) for _ in range(3)]
  devices = ([sorted(c.device.split("/")[-1] for c in
                     strategy.experimental_local_results(v))
              for v in features.variables.values()] if features else [])
  out[mode] = {"weights": [v.numpy() for v in model.weights], "losses": losses,
               "devices": devices}
same = all(np.array_equal(a, b) for a, b in zip(out["host"]["weights"],
                                                out["resident"]["weights"]))
print(json.dumps({"same_weights": same, "replicas": strategy.num_replicas_in_sync,
                  "losses": {m: out[m]["losses"] for m in out},
                  "devices": out["resident"]["devices"]}))
"""


@pytest.mark.slow  # 85 s at a load average of 8 on 2 cores (a fresh TensorFlow)
def test_host_and_resident_train_identically_under_mirrored_strategy(tiny_world,
                                                                     tmp_path):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, "-c", _MIRRORED, tiny_world], cwd=tmp_path,
                        env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  res = json.loads(proc.stdout.strip().splitlines()[-1])
  assert res["replicas"] == 2
  assert res["same_weights"], res
  assert res["losses"]["host"] == res["losses"]["resident"], res
  # One copy of each resident array per replica device.
  assert res["devices"] == [["device:CPU:0", "device:CPU:1"]] * 2, res


# -- choosing the mode -----------------------------------------------------------------


def test_auto_chooses_resident_only_when_every_copy_fits():
  gb = 10**9
  memory = {"/device:GPU:0": 80 * gb, "/device:GPU:1": 40 * gb, "/device:CPU:0": 20 * gb,
            "/device:CPU:1": 20 * gb}.get
  mode, why = input_mode.choose("auto", 42 * gb, ["/device:GPU:0"], memory)
  assert mode == "resident" and "GPU:0" in why and "\n" not in why
  # 42 GB is more than 75% of the second GPU's 40 GB.
  mode, why = input_mode.choose("auto", 42 * gb, ["/device:GPU:0", "/device:GPU:1"],
                                memory)
  assert mode == "host" and "GPU:1" in why
  # CPU replicas share the host's memory: two copies of 6 GB exceed 50% of 20 GB.
  assert input_mode.choose("auto", 6 * gb, ["/device:CPU:0"], memory)[0] == "resident"
  mode, why = input_mode.choose("auto", 6 * gb, ["/device:CPU:0", "/device:CPU:1"],
                                memory)
  assert mode == "host" and "12 GB" in why and "available" in why
  assert input_mode.choose("auto", 1, ["/device:GPU:0"], lambda d: None)[0] == "host"
  # An explicit mode is taken as it is.
  assert input_mode.choose("resident", 10**15, ["/device:CPU:0"], memory)[0] == "resident"
  assert input_mode.choose("host", 1, ["/device:CPU:0"], memory)[0] == "host"
  with pytest.raises(ValueError, match="train.input_mode must be one of"):
    input_mode.choose("gpu", 1, ["/device:CPU:0"], memory)


def test_auto_on_this_machine_reads_memavailable(tmp_path):
  meminfo = tmp_path / "meminfo"
  meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:   2000000 kB\n")
  assert input_mode._meminfo_available(str(meminfo)) == 2000000 * 1024
  assert input_mode._meminfo_available(str(tmp_path / "missing")) is None
  assert input_mode.replica_devices(tf.distribute.get_strategy()) == ["/device:CPU:0"]
  mode, why = input_mode.choose("auto", 1000, ["/device:CPU:0"])
  assert mode == "resident", why


def test_multiworker_runs_take_the_host_input(tiny_data):
  # Not under MultiWorkerMirroredStrategy (its variables start as a broadcast
  # from the chief); the check comes before anything is loaded or created.
  strategy = object.__new__(tf.distribute.MultiWorkerMirroredStrategy)
  logs = []
  auto = task_lib.SVLRTask(_config(tiny_data, "auto"))
  assert auto.build_resident(tiny_data, {}, strategy, logs.append) is None
  assert logs == ["[joint_svlr] input mode host: auto: resident is not implemented "
                  "under MultiWorkerMirroredStrategy (its variables start as a "
                  "broadcast from the chief: the whole store over the network)"]
  with pytest.raises(ValueError, match="input_mode=resident is not implemented"):
    task_lib.SVLRTask(_config(tiny_data, "resident")).build_resident(
        tiny_data, {}, strategy, logs.append)


def test_the_input_mode_does_not_make_another_config():
  with pytest.raises(ValueError, match="train.input_mode must be one of"):
    ExperimentConfig().replace(train={"input_mode": "device"})
  host = ExperimentConfig().replace(train={"input_mode": "host"})
  saved = ExperimentConfig().replace(train={"input_mode": "resident"}).to_dict()
  assert host.describes(saved)
  del saved["train"]["input_mode"]  # a run made before the field existed
  assert host.describes(saved)
  saved["train"]["jit_compile"] = True
  assert not host.describes(saved)
  from svlr_tf.training.trainer import _check_same_run
  _check_same_run(ExperimentConfig().to_dict(), host.to_dict(), "config.json")
