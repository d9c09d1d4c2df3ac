"""tools/benchmark/ and svlr_tf/training/flops.py: FLOP formula and the results' keys.

Timings are never asserted (the machine is shared); only the formula, the
synthetic data and the shape of the results.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from svlr_tf.training import flops
from svlr_tf.config import ExperimentConfig, experiment_config
from svlr_tf.presets import world_preset_config as preset_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RESULT_KEYS = (
    "step_seconds", "step_gflop", "achieved_gflops", "matmul_roof_gflops",
    "roof_ratio", "pipeline_batches_per_s", "pipeline_gb_per_s", "pipeline_ratio",
    "pipeline_roof_batches_per_s", "pipeline_roof_ratio", "memory_small_mb",
    "memory_large_mb", "memory_ratio", "host_input_batches_per_s",
    "resident_input_batches_per_s", "host_step_seconds_with_input",
    "resident_step_seconds_with_input", "host_train_batches_per_s",
    "resident_train_batches_per_s", "host_mb_per_batch_from_host",
    "resident_mb_per_batch_from_host", "targets")
# Keys of results that are numbers > 0 in every run.


def _hand_config(**loss) -> ExperimentConfig:
  """Small, all-different dims so a wrong factor shows."""
  return ExperimentConfig().replace(
      model=dict(word_vector_dim=3, word_hidden_dim=5, embedding_dim=2,
                 region_feature_dim=7, region_hidden_dim=11, num_object_classes=4,
                 num_attribute_classes=6, bimodal_dim=13, num_question_bins=4),
      data=dict(recognition_batch_size=17, vqa_batch_size=2, regions_per_image=3,
                num_choices=5, max_question_words=4, max_answer_words=2),
      loss=loss or dict(alpha_ans=1.0, alpha_obj=0.1, alpha_atr=0.1))


def test_forward_macs_matches_a_hand_count():
  terms = flops.forward_macs(_hand_config())
  region_mlp = 7 * 11 + 11 * 2            # f_o or f_a on one region: 99
  word_mlp = 3 * 5 + 5 * 2                # g on one word: 25
  expected = {
      "region_embedding_vqa": 2 * (2 * 3) * region_mlp,           # 1188
      "region_embedding_genome": 2 * 17 * region_mlp,             # 3366
      "word_embedding_classes": (4 + 6) * 2 * word_mlp,           # 500
      # words: bins 2*4*4 + nouns/adjs 2*2*4 + choice words/nouns/adjs 3*2*5*2
      "word_embedding_text": (32 + 16 + 60) * word_mlp,           # 2700
      "class_scores_vqa": 2 * 3 * 2 * 10,                         # 120
      "class_scores_genome": 17 * 2 * 10,                         # 340
      "attention": 2 * 2 * (4 + 5 * 2) * 3 * 2,                   # 336
      "image_representation": 2 * 5 * 3 * 10,                     # 300
      "bimodal_w1": 2 * 5 * 10 * 13,                              # 1300
      "bimodal_w2": 2 * (4 * 2) * 13 + 2 * 5 * 2 * 13,            # 468
      "bimodal_w3": 2 * 5 * 13,                                   # 130
  }
  expected["total"] = sum(expected.values())
  assert terms == expected
  assert flops.train_step_flops(_hand_config()) == 6 * expected["total"]


def test_needed_only_leaves_out_the_input_gradients_of_constant_inputs():
  config = _hand_config()
  # First layers: f_o / f_a 7 x 11 of the 99 MACs per region, g 3 x 5 of 25 per word.
  surplus = (1188 + 3366) * 77 // 99 + (500 + 2700) * 15 // 25
  assert flops.constant_input_grad_macs(config) == surplus == 5462
  total = flops.forward_macs(config)["total"]
  assert flops.train_step_flops(config, needed_only=True) == 2 * (3 * total - surplus)


def test_forward_macs_drops_the_terms_of_an_unused_task():
  vqa_only = flops.forward_macs(_hand_config(alpha_ans=1.0, alpha_obj=0.0, alpha_atr=0.0))
  assert vqa_only["region_embedding_genome"] == 0
  assert vqa_only["class_scores_genome"] == 0
  assert vqa_only["bimodal_w1"] == 1300
  genome_only = flops.forward_macs(_hand_config(alpha_ans=0.0, alpha_obj=1.0, alpha_atr=1.0))
  assert genome_only["total"] == 3366 + 500 + 340
  multitask = _hand_config().replace(model={"multitask": True})
  assert flops.forward_macs(multitask)["word_embedding_classes"] == 0


def test_paper_step_is_about_the_issue_figures():
  # Issue 6: ~62 G multiply-adds forward, ~370 GFLOP per training step.
  config = preset_config("paper", "joint_svlr")
  assert 55e9 < flops.forward_macs(config)["total"] < 70e9
  assert 330e9 < flops.train_step_flops(config) < 420e9


def test_synthetic_batch_has_the_documented_shapes():
  from tools import benchmark
  config = preset_config("tiny", "joint_svlr")
  batch = benchmark.synthetic_batch(config, vocabulary_size=50)
  d, m = config.data, config.model
  vqa, rec = batch["vqa"], batch["recognition"]
  assert vqa["image_features"].shape == (d.vqa_batch_size, d.regions_per_image,
                                         m.region_feature_dim)
  assert vqa["image_features"].dtype == np.float16
  assert vqa["choice_words"].shape == (d.vqa_batch_size, d.num_choices,
                                       d.max_answer_words)
  assert vqa["question_bins"].max() < 50 and vqa["question_bins"].min() >= 0
  assert rec["region_features"].dtype == np.float16
  assert np.all(rec["object_targets"] >= rec["object_labels"])
  assert np.all(rec["object_labels"].sum(axis=1) >= 1)
  only_vqa = benchmark.synthetic_batch(experiment_config("vqa_only", config), 50)
  assert set(only_vqa) == {"vqa"}


def test_synthetic_prepared_data_spans_the_store(tmp_path):
  from svlr_tf.data.prepared import PreparedData
  from tools import benchmark
  config = preset_config("tiny", "joint_svlr")
  counts = benchmark.write_synthetic_prepared(str(tmp_path), config, 40000,
                                              genome_fraction=0.25)
  data = PreparedData(str(tmp_path))
  vqa = data.load_vqa("train", config.data.max_question_words,
                      config.data.max_answer_words, config.data.num_choices)
  store = data.feature_store("vqa")
  assert len(store) == counts["vqa_images"] == len(vqa)
  assert set(vqa.image_ids.tolist()) == set(store.image_ids.tolist())
  assert len(data.load_recognition("train")) == counts["genome_regions"]
  assert 30000 < benchmark.store_bytes(str(tmp_path)) < 50000


@pytest.mark.slow  # a subprocess running four parts: 28 s on a quiet machine
def test_tiny_run_writes_every_key(tmp_path):
  out = tmp_path / "bench.json"
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  proc = subprocess.run(
      [sys.executable, "-m", "tools.benchmark", "--tiny", f"--out={out}",
       f"--tmp_dir={tmp_path}", "--parts=step,pipeline,input_modes,memory"],  # xla: below
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  results = json.loads(out.read_text())
  for key in RESULT_KEYS:
    assert key in results, key
  for key in RESULT_KEYS[:-1]:
    assert isinstance(results[key], (int, float)) and results[key] > 0, key
  assert set(results["targets"]) == {"roof_ratio", "pipeline_batches_per_s",
                                     "memory_ratio"}
  for target in results["targets"].values():
    assert set(target) == {"value", "target", "met"}
    assert isinstance(target["met"], bool)
  assert results["targets_apply"] is False
  assert results["step_gflop"] * 1e9 == pytest.approx(
      flops.train_step_flops(preset_config("tiny", "joint_svlr")), rel=1e-3)
  # The temporary stores are removed.
  assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]
  assert "pipeline batches/s" in proc.stdout
  # Both input modes in the same run; the resident batches carry indices, not
  # features, so they are smaller.
  assert set(results["input_modes"]) == {"host", "resident"}
  assert results["resident_mb_per_batch_from_host"] < results["host_mb_per_batch_from_host"]
  assert "resident: step with input (s)" in proc.stdout


def test_xla_part_alternates_the_two_steps():
  from tools.benchmark.xla import time_alternating
  calls = []

  def step(name):
    def call():
      calls.append(name)
      return 1.0
    return call

  timed = time_alternating({"xla": step("xla"), "tf": step("tf")}, repeats=3)
  # Each: a compiling call and a warm-up call, then the timed calls in turn.
  assert calls == ["xla", "xla", "tf", "tf"] + ["xla", "tf"] * 3
  for name in ("xla", "tf"):
    assert set(timed[name]) == {"compile_seconds", "seconds", "seconds_median"}
    assert 0 <= timed[name]["seconds"] <= timed[name]["seconds_median"]
  with pytest.raises(FloatingPointError, match="tf step"):
    time_alternating({"tf": lambda: float("nan")}, repeats=1)


@pytest.mark.slow  # XLA compiles in two processes: ~30 s quiet, minutes under load
def test_tiny_xla_part_times_both_steps_on_one_device_and_mirrored(tmp_path):
  out = tmp_path / "bench.json"
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  proc = subprocess.run(
      [sys.executable, "-m", "tools.benchmark", "--tiny", f"--out={out}",
       f"--tmp_dir={tmp_path}", "--parts=xla"],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-2000:]
  results = json.loads(out.read_text())
  for where in ("one_device", "mirrored"):
    for kind in ("xla", "tf"):
      assert results[f"{where}_{kind}_step_seconds"] > 0
    assert results[f"{where}_xla_speedup"] == pytest.approx(
        results[f"{where}_tf_step_seconds"] / results[f"{where}_xla_step_seconds"],
        rel=5e-3)  # ratio() keeps 3 significant digits
  assert results["mirrored_replicas"] == 2
  assert "XLA speed-up, Mirrored" in proc.stdout


@pytest.mark.parametrize("flag, allowed", [("--preset=bogus", "tiny|default|paper"),
                                           ("--experiment=bogus", "joint_svlr")])
def test_an_unknown_preset_or_experiment_is_a_flag_error_not_a_traceback(flag, allowed):
  proc = subprocess.run([sys.executable, "-m", "tools.benchmark", flag, "--tiny"],
                        cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 1
  assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
  first = proc.stderr.strip().splitlines()[0]
  assert flag.split("=")[0] in first and allowed in first, proc.stderr
