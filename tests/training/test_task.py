"""One Task: the trainer, the benchmark and the calibration share one train step."""

import numpy as np
import keras
import pytest

from svlr_tf.training import task as task_lib
from svlr_tf.training.experiment import config_for_data
from svlr_tf.training.trainer import Trainer, segment_seed


def test_benchmark_times_the_trainers_own_step(tiny_data, tmp_path, monkeypatch):
  from tools import benchmark
  traced = []
  train_step = task_lib.SVLRTask.train_step

  def spy(self, batch, model, optimizer, num_replicas=1):
    traced.append(model)
    return train_step(self, batch, model, optimizer, num_replicas)

  monkeypatch.setattr(task_lib.SVLRTask, "train_step", spy)
  cfg = config_for_data("tiny", "joint_svlr", tiny_data, seed=0, steps=1)

  trainer = Trainer(cfg, tiny_data, str(tmp_path), log=lambda s: None)
  initial = [v.numpy() for v in trainer.model.weights]
  batch = next(iter(trainer.task.build_inputs(tiny_data, trainer.stores,
                                              seed=segment_seed(0, 0), num_batches=1)))
  trainer.fit()  # one step, on this same batch
  assert traced == [trainer.model]

  la = cfg.data.max_answer_words
  task, model, optimizer = benchmark.build_model(
      cfg, tiny_data.word_vectors, tiny_data.class_word_ids("objects", la),
      tiny_data.class_word_ids("attributes", la))
  for v, w in zip(model.weights, initial):
    v.assign(w)
  step = benchmark.make_train_step(task, model, optimizer, jit_compile=False)
  step(batch)
  assert traced[-1] is model  # the benchmark's compiled step is SVLRTask.train_step
  # ... and it updates the weights exactly as the trainer's step did.
  for a, b in zip(model.weights, trainer.model.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
  assert any(not np.allclose(a.numpy(), w) for a, w in zip(model.weights, initial))


def test_mixed_precision_builds_a_loss_scaled_float16_model(tiny_data):
  cfg = config_for_data("tiny", "joint_svlr", tiny_data, seed=0, steps=1,
                        overrides={"train": {"mixed_precision": "mixed_float16"}})
  task = task_lib.SVLRTask(cfg)
  model = task.build_model_for_data(tiny_data)
  optimizer = task.build_optimizer(model)
  assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
  assert model.object_embedding.compute_dtype == "float16"
  assert keras.mixed_precision.global_policy().name == "float32"  # restored


def test_data_fields_come_from_the_data_only(tiny_data):
  from svlr_tf.config import DATA_FIELDS
  from svlr_tf.presets import PRESETS
  for preset in PRESETS.values():
    for section, fields in DATA_FIELDS.items():
      assert not set(fields) & set(getattr(preset, section)), section
  cfg = config_for_data("tiny", "joint_svlr", tiny_data, seed=3)
  assert cfg.model.num_object_classes == len(tiny_data.objects)
  assert cfg.data.regions_per_image == tiny_data.regions_per_image
  assert cfg.train.seed == 3
  with pytest.raises(ValueError, match="region_feature_dim cannot be overridden"):
    config_for_data("tiny", "joint_svlr", tiny_data, seed=0,
                    overrides={"model": {"region_feature_dim": 7}})


def test_the_cadence_rule_is_checked_once_in_train_config():
  from svlr_tf.config import TrainConfig
  with pytest.raises(ValueError, match="multiple of train.checkpoint_every"):
    TrainConfig(eval_every=30, checkpoint_every=20)
  short = TrainConfig(steps=5, eval_every=200, checkpoint_every=200).fitted_to_steps()
  assert (short.eval_every, short.checkpoint_every) == (5, 5)
  assert TrainConfig(steps=3000, eval_every=200,
                     checkpoint_every=100).fitted_to_steps().eval_every == 200


def test_paper_preset_on_50d_word_vectors_warns():
  from svlr_tf.presets import word_vector_warning
  warning = word_vector_warning("paper", 50)
  assert warning.startswith("WARNING: --preset paper with 50-d word vectors")
  assert "300-d" in warning and "\n" not in warning
  assert word_vector_warning("paper", 300) is None
  assert word_vector_warning("default", 50) is None
