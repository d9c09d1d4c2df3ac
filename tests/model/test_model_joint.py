"""Whole model: Eq. 10, Joint Multitask, paper defaults, optimizer, save/load, XLA."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import keras
import numpy as np
import pytest
import tensorflow as tf

import model_test_helpers as h
from svlr_tf.config import (ExperimentConfig, LossConfig, ModelConfig,
                            OptimizerConfig, experiment_config)
from svlr_tf.model import (SVLRModel, build_optimizer, joint_loss,
                           weight_decay_loss)


def _batch(model, seed=0):
  rng = np.random.default_rng(seed)
  return {"recognition": h.make_recognition_batch(rng, model.model_config),
          "vqa": h.make_vqa_batch(rng, model.model_config)}


def test_paper_values_are_the_defaults():
  config = ExperimentConfig()
  m = config.model
  assert (m.embedding_dim, m.word_hidden_dim, m.word_vector_dim) == (300, 300,
                                                                     300)
  assert (m.region_feature_dim, m.region_hidden_dim) == (2048, 2048)
  assert (m.num_object_classes, m.num_attribute_classes) == (1000, 1000)
  assert m.bimodal_dim == 2500 and m.num_question_bins == 4
  assert not m.multitask
  assert (config.loss.eta_obj, config.loss.eta_ans) == (1.0, 1.0)
  assert (config.loss.alpha_ans, config.loss.alpha_obj,
          config.loss.alpha_atr) == (1.0, 0.1, 0.1)
  o = config.optimizer
  assert (o.learning_rate, o.decay_rate, o.decay_steps, o.weight_decay) == (
      1e-3, 0.5, 24000, 1e-5)
  assert (config.data.recognition_batch_size, config.data.vqa_batch_size,
          config.data.regions_per_image, config.data.num_choices) == (
              200, 50, 100, 18)
  alphas = {name: (c.loss.alpha_ans, c.loss.alpha_obj, c.loss.alpha_atr,
                   c.model.multitask)
            for name in ("vqa_only", "genome_only", "joint_multitask",
                         "joint_svlr", "joint_svlr_vr")
            for c in [experiment_config(name)]}
  assert alphas == {
      "vqa_only": (1.0, 0.0, 0.0, False),
      "genome_only": (0.0, 1.0, 1.0, False),
      "joint_multitask": (1.0, 0.1, 0.1, True),
      "joint_svlr": (1.0, 0.1, 0.1, False),
      "joint_svlr_vr": (0.1, 1.0, 1.0, False),
  }


def test_joint_loss_eq10_and_skipped_tasks():
  losses = {"loss_ans": 2.0, "loss_obj": 3.0, "loss_atr": 5.0}
  assert float(joint_loss(losses, LossConfig())) == pytest.approx(
      2.0 + 0.3 + 0.5)
  assert float(joint_loss({"loss_ans": 2.0}, {"alpha_ans": 1.0,
                                              "alpha_obj": 0.0,
                                              "alpha_atr": 0.0})) == 2.0
  with pytest.raises(ValueError, match="loss_obj"):
    joint_loss({"loss_ans": 2.0}, LossConfig())


def test_compute_losses_combines_tasks_and_skips_absent_ones():
  model = h.make_model()
  batch = _batch(model)
  losses = {k: float(v) for k, v in
            model.compute_losses(batch, LossConfig(), training=False).items()}
  assert set(losses) == {"loss_obj", "loss_atr", "loss_ans", "loss_total"}
  assert all(np.isfinite(v) and v > 0 for v in losses.values())
  assert losses["loss_total"] == pytest.approx(
      losses["loss_ans"] + 0.1 * losses["loss_obj"] + 0.1 * losses["loss_atr"],
      rel=1e-5)
  genome_only = experiment_config("genome_only").loss
  only = model.compute_losses({"recognition": batch["recognition"]},
                              genome_only, training=False)
  assert float(only["loss_ans"]) == 0.0
  assert float(only["loss_total"]) == pytest.approx(
      losses["loss_obj"] + losses["loss_atr"], rel=1e-5)
  with pytest.raises(ValueError):
    model.compute_losses({"vqa": batch["vqa"]}, LossConfig())


def test_multitask_recognition_uses_h_y_and_does_not_reach_g():
  model = h.make_model(multitask=True)
  assert model.object_class_vectors.vectors.shape == (6, 5)
  assert model.attribute_class_vectors.vectors.shape == (4, 5)
  batch = _batch(model)
  with tf.GradientTape(persistent=True) as tape:
    losses = model.compute_losses(batch, LossConfig())
  for name in ("loss_obj", "loss_atr"):
    grads = tape.gradient(losses[name],
                          model.word_embedding.trainable_variables)
    assert all(g is None or float(tf.reduce_max(tf.abs(g))) == 0
               for g in grads), name
  grads = tape.gradient(losses["loss_obj"],
                        model.object_class_vectors.trainable_variables)
  assert float(tf.reduce_max(tf.abs(grads[0]))) > 0
  # g still serves the VQA model.
  grads = tape.gradient(losses["loss_ans"],
                        model.word_embedding.trainable_variables)
  assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
  # Eq. 5 pools the recognition heads' logits f_o.h_y: changing h_y changes S.
  before, _ = model.vqa_scores(batch["vqa"])
  model.object_class_vectors.vectors.assign(
      model.object_class_vectors.vectors * 3.0)
  after, _ = model.vqa_scores(batch["vqa"])
  assert np.abs(np.asarray(before) - np.asarray(after)).max() > 1e-4


def test_model_rejects_inconsistent_inputs():
  config = h.tiny_model_config()
  vectors = np.zeros((10, config.word_vector_dim), np.float32)
  objects = np.ones((config.num_object_classes, 2), np.int32)
  attributes = np.ones((config.num_attribute_classes, 2), np.int32)
  with pytest.raises(ValueError, match="word_vectors"):
    SVLRModel(config, vectors[:, :3], objects, attributes)
  with pytest.raises(ValueError, match="object_class_words"):
    SVLRModel(config, vectors, objects[:2], attributes)
  with pytest.raises(ValueError, match="word ids"):
    SVLRModel(config, vectors, objects, attributes + 20)


@pytest.mark.parametrize("multitask", [False, True])
def test_model_config_round_trip_and_save_load(tmp_path, multitask):
  model = h.make_model(seed=3, multitask=multitask)
  batch = _batch(model, seed=3)
  model.compute_losses(batch, LossConfig(), training=True)  # move BN stats
  config = model.get_config()
  assert config["word_vectors_shape"] == [h.VOCAB, 6]
  clone = SVLRModel.from_config(config)
  assert clone.get_config() == config
  assert len(clone.weights) == len(model.weights)
  path = str(tmp_path / "model.keras")
  model.save(path)
  loaded = keras.saving.load_model(path)
  assert isinstance(loaded, SVLRModel) and loaded.model_config.multitask == (
      multitask)
  np.testing.assert_array_equal(np.asarray(loaded.object_class_words),
                                np.asarray(model.object_class_words))
  for name in ("vqa", "recognition"):
    outputs = model({name: batch[name]}, training=False)
    again = loaded({name: batch[name]}, training=False)
    for key in outputs:
      np.testing.assert_array_equal(np.asarray(outputs[key]),
                                    np.asarray(again[key]))
  np.testing.assert_array_equal(np.asarray(model.zero_shot_scores(batch["vqa"])),
                                np.asarray(loaded.zero_shot_scores(batch["vqa"])))


def test_optimizer_schedule_and_weight_decay():
  optimizer = build_optimizer(OptimizerConfig())
  assert isinstance(optimizer, keras.optimizers.Adam)
  schedule = optimizer.learning_rate if callable(
      optimizer.learning_rate) else optimizer._learning_rate
  assert float(schedule(0)) == pytest.approx(1e-3)
  assert float(schedule(23999)) == pytest.approx(1e-3)
  assert float(schedule(24000)) == pytest.approx(5e-4)
  assert float(schedule(50000)) == pytest.approx(2.5e-4)
  variables = [tf.Variable([[1.0, 2.0]]), tf.Variable([3.0])]
  assert float(weight_decay_loss(variables, 1e-5)) == pytest.approx(
      1e-5 * (1 + 4 + 9) / 2)
  with tf.GradientTape() as tape:
    penalty = weight_decay_loss(variables, 0.1)
  np.testing.assert_allclose(tape.gradient(penalty, variables[0]),
                             [[0.1, 0.2]], rtol=1e-6)


def test_one_xla_train_step_runs_and_lowers_the_loss():
  model = h.make_model(seed=5)
  batch = tf.nest.map_structure(tf.convert_to_tensor, _batch(model, seed=5))
  optimizer = build_optimizer(OptimizerConfig(learning_rate=1e-2))
  optimizer.build(model.trainable_variables)
  loss_config = LossConfig()

  @tf.function(jit_compile=True)
  def train_step(batch):
    with tf.GradientTape() as tape:
      losses = model.compute_losses(batch, loss_config, training=True)
      total = losses["loss_total"] + weight_decay_loss(
          model.trainable_variables, 1e-5)
    grads = tape.gradient(total, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return losses["loss_total"]

  first = float(train_step(batch))
  for _ in range(5):
    last = float(train_step(batch))
  assert np.isfinite(first) and last < first
  assert int(optimizer.iterations) == 6


_MIRRORED_SCRIPT = r"""
import os, sys
sys.path.insert(0, {helpers!r})
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np
import model_test_helpers as h
from svlr_tf.config import LossConfig, OptimizerConfig
from svlr_tf.model import build_optimizer, weight_decay_loss
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
  model = h.make_model()
  optimizer = build_optimizer(OptimizerConfig())
  optimizer.build(model.trainable_variables)
rng = np.random.default_rng(0)
batch = {{"recognition": h.make_recognition_batch(rng, model.model_config),
          "vqa": h.make_vqa_batch(rng, model.model_config)}}
def step(batch):
  with tf.GradientTape() as tape:
    losses = model.compute_losses(batch, LossConfig(), training=True)
    total = (losses["loss_total"] / strategy.num_replicas_in_sync
             + weight_decay_loss(model.trainable_variables, 1e-5))
  grads = tape.gradient(total, model.trainable_variables)
  optimizer.apply_gradients(zip(grads, model.trainable_variables))
  return losses["loss_total"]
@tf.function
def distributed_step(batch):
  return strategy.reduce("SUM", strategy.run(step, args=(batch,)), axis=None)
batch = tf.nest.map_structure(tf.convert_to_tensor, batch)
losses = [float(distributed_step(batch)) for _ in range(2)]
assert all(np.isfinite(losses)), losses
print("MIRRORED_OK", losses)
"""


def test_train_step_runs_under_mirrored_strategy():
  """Two logical CPUs (a fresh process: devices are fixed at TF start-up)."""
  import subprocess
  script = _MIRRORED_SCRIPT.format(helpers=os.path.dirname(__file__))
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
             PYTHONPATH=os.pathsep.join(
                 [os.path.dirname(os.path.dirname(os.path.dirname(
                     os.path.abspath(__file__))))]
                 + [p for p in [os.environ.get("PYTHONPATH")] if p]))
  result = subprocess.run([sys.executable, "-c", script], env=env,
                          capture_output=True, text=True, timeout=120)
  assert "MIRRORED_OK" in result.stdout, result.stderr[-3000:]


def _max_abs(gradients):
  return max((0.0 if g is None else float(tf.reduce_max(tf.abs(g))))
             for g in gradients)


def test_ablation_vqa_only_attention_words():
  """Eq. 3 from a second word embedding that only VQA trains; Eq. 5 unchanged."""
  model = h.make_model(attention_words="vqa_only")
  batch = _batch(model)
  second = model.attention_word_embedding.trainable_variables
  assert len(second) == 4 and model.attention_words() is not model.word_embedding
  with tf.GradientTape(persistent=True) as tape:
    losses = model.compute_losses(batch, LossConfig())
  for name in ("loss_obj", "loss_atr"):  # recognition never reaches it
    assert _max_abs(tape.gradient(losses[name], second)) == 0, name
    assert _max_abs(tape.gradient(losses[name],
                                  model.word_embedding.trainable_variables)) > 0
  assert _max_abs(tape.gradient(losses["loss_ans"], second)) > 0
  # g still gives Eq. 5's class scores g(y) (and q, a): VQA reaches it.
  assert _max_abs(tape.gradient(losses["loss_ans"],
                                model.word_embedding.trainable_variables)) > 0
  # The attention follows the second embedding; zero-shot Eq. 9 stays on g.
  _, before = model.vqa_scores(batch["vqa"])
  zero_shot = np.asarray(model.zero_shot_scores(batch["vqa"]))
  kernel = model.attention_word_embedding.output_dense.kernel
  kernel.assign(kernel * 3.0)
  _, after = model.vqa_scores(batch["vqa"])
  assert np.abs(np.asarray(before) - np.asarray(after)).max() > 1e-4
  np.testing.assert_array_equal(zero_shot,
                                np.asarray(model.zero_shot_scores(batch["vqa"])))


def test_ablation_vqa_only_image_class_vectors():
  """Eq. 5 from class vectors not tied to g (VQA only); attention unchanged."""
  model = h.make_model(image_class_vectors="vqa_only")
  batch = _batch(model)
  vectors = (model.image_object_class_vectors.trainable_variables
             + model.image_attribute_class_vectors.trainable_variables)
  assert [tuple(v.shape) for v in vectors] == [(6, 5), (4, 5)]
  with tf.GradientTape(persistent=True) as tape:
    losses = model.compute_losses(batch, LossConfig())
  for name in ("loss_obj", "loss_atr"):
    assert _max_abs(tape.gradient(losses[name], vectors)) == 0, name
    # recognition still goes through g(y)
    assert _max_abs(tape.gradient(losses[name],
                                  model.word_embedding.trainable_variables)) > 0
  grads = tape.gradient(losses["loss_ans"], vectors)
  assert all(_max_abs([g]) > 0 for g in grads)
  # S follows the separate vectors; the attention (from g) does not.
  before, attention = model.vqa_scores(batch["vqa"])
  model.image_object_class_vectors.vectors.assign(
      model.image_object_class_vectors.vectors * 3.0)
  after, attention_after = model.vqa_scores(batch["vqa"])
  assert np.abs(np.asarray(before) - np.asarray(after)).max() > 1e-4
  np.testing.assert_array_equal(np.asarray(attention),
                                np.asarray(attention_after))


@pytest.mark.parametrize("experiment, field, value", [
    ("joint_svlr_vqa_attention", "attention_words", "vqa_only"),
    ("joint_svlr_vqa_classes", "image_class_vectors", "vqa_only")])
def test_ablation_experiments_differ_from_joint_svlr_in_one_field(
    experiment, field, value):
  variant = experiment_config(experiment).to_dict()
  svlr = experiment_config("joint_svlr").to_dict()
  assert variant["model"][field] == value
  variant["model"][field] = svlr["model"][field]
  variant["name"] = svlr["name"]
  assert variant == svlr


def test_model_rejects_unknown_variants():
  with pytest.raises(ValueError, match="attention_words"):
    h.make_model(attention_words="h")
  with pytest.raises(ValueError, match="image_class_vectors"):
    h.make_model(image_class_vectors="g")
