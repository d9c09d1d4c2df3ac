"""TensorBoard: what a run's event files hold, read back with TensorBoard's reader."""

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

from svlr_tf.training import summaries
from svlr_tf.training.experiment import config_for_data, run_experiment


def _events(directory):
  acc = event_accumulator.EventAccumulator(
      str(directory), size_guidance={event_accumulator.TENSORS: 0})
  acc.Reload()
  return acc


def _scalars(directory):
  acc = _events(directory)
  return {tag: [(e.step, float(tf.make_ndarray(e.tensor_proto)))
                for e in acc.Tensors(tag)]
          for tag in acc.Tags()["tensors"]
          if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"}


@pytest.fixture(scope="module")
def finished(tiny_data, tmp_path_factory):
  root = tmp_path_factory.mktemp("tb")
  out = {}
  for name in ("joint_svlr", "genome_only"):
    cfg = config_for_data("tiny", name, tiny_data, seed=1, steps=10).replace(
        train={"log_every": 2, "eval_every": 5, "checkpoint_every": 5})
    workdir = root / name
    run_experiment(cfg, tiny_data, str(workdir), log=lambda s: None,
                   zero_shot=name == "genome_only")
    out[name] = workdir
  return out


def test_losses_only_for_the_trained_tasks_and_windowed_steps_per_second(finished):
  joint = _scalars(finished["joint_svlr"] / "train")
  genome = _scalars(finished["genome_only"] / "train")
  for tag in ("loss_ans", "loss_obj", "loss_atr", "loss_total", "steps_per_second",
              "learning_rate"):
    assert tag in joint, tag
  assert "loss_ans" not in genome
  assert {"loss_obj", "loss_atr", "loss_total"} <= set(genome)
  rates = [v for _, v in joint["steps_per_second"]]
  assert all(np.isfinite(rates)) and min(rates) > 0


def test_config_text_and_hparams_session(finished):
  acc = _events(finished["joint_svlr"] / "train")
  (event,) = acc.Tensors("config")
  text = event.tensor_proto.string_val[0].decode()
  assert '"name": "joint_svlr"' in text and '"alpha_ans": 1.0' in text

  acc = _events(finished["genome_only"])
  content = acc.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
  session = hparams_metadata.parse_session_start_info_plugin_data(
      content[hparams_metadata.SESSION_START_INFO_TAG])
  assert session.hparams["experiment"].string_value == "genome_only"
  assert session.hparams["seed"].number_value == 1
  assert session.hparams["alpha_ans"].number_value == 0.0
  experiment = hparams_metadata.parse_experiment_plugin_data(
      content[hparams_metadata.EXPERIMENT_TAG])
  metrics = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
  assert ("results", "heldout/selection_metric") in metrics
  assert ("results", "test/vqa_accuracy") in metrics
  assert {h.name for h in experiment.hparam_infos} >= {"experiment", "seed"}


def test_results_hold_heldout_and_test_accuracy(finished):
  joint = _scalars(finished["joint_svlr"] / "results")
  genome = _scalars(finished["genome_only"] / "results")
  for tag in ("heldout/selection_metric", "test/vqa_accuracy", "test/object_accuracy",
              "test/attribute_accuracy"):
    assert tag in joint, tag
  assert "test/zero_shot_vqa_accuracy" in genome and "test/vqa_accuracy" not in genome


def test_genome_only_run_has_a_zero_shot_heldout_curve(finished):
  genome = _scalars(finished["genome_only"] / "validation")
  steps = [s for s, _ in genome["zero_shot_vqa_accuracy/overall"]]
  assert steps == [5, 10]
  joint = _scalars(finished["joint_svlr"] / "validation")
  assert "zero_shot_vqa_accuracy/overall" not in joint
  assert "vqa_accuracy/overall" in joint


def test_step_rate_is_over_the_window_not_since_the_start():
  now = [0.0]
  rate = summaries.StepRate(clock=lambda: now[0])
  assert rate.read(1) is None          # no window before start
  now[0] = 30.0                        # the first step: tracing + compiling
  rate.start(1)
  now[0] = 32.0
  assert rate.read(11) == pytest.approx(5.0)    # 10 steps in 2 s
  now[0] = 33.0
  assert rate.read(21) == pytest.approx(10.0)   # the next window only
  assert rate.read(21) is None


def test_trained_losses_follow_the_alphas(tiny_data):
  names = {n: summaries.trained_losses(config_for_data("tiny", n, tiny_data, seed=0))
           for n in ("vqa_only", "genome_only", "joint_svlr")}
  assert names["vqa_only"] == ["loss_ans", "loss_total", "loss_weight_decay"]
  assert names["genome_only"] == ["loss_obj", "loss_atr", "loss_total",
                                  "loss_weight_decay"]
  assert names["joint_svlr"][:3] == ["loss_ans", "loss_obj", "loss_atr"]
