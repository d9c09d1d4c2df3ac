import json
import os

import numpy as np
import pytest
import tensorflow as tf

from svlr_tf.training.experiment import config_for_data, run_experiment
from svlr_tf.training.trainer import Trainer, attention_image


def _config(data, experiment="joint_svlr", steps=8, seed=0):
  cfg = config_for_data("tiny", experiment, data, seed=seed, steps=steps)
  return cfg.replace(train={"checkpoint_every": 4, "eval_every": 4, "log_every": 2})


def _weights(trainer):
  return [v.numpy() for v in trainer.model.weights]


@pytest.fixture
def deterministic():
  tf.config.experimental.enable_op_determinism()
  yield
  tf.config.experimental.disable_op_determinism() if hasattr(
      tf.config.experimental, "disable_op_determinism") else None


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(
    tiny_data, tmp_path, deterministic):
  cfg = _config(tiny_data, steps=8)
  whole = Trainer(cfg, tiny_data, str(tmp_path / "whole"), log=lambda s: None)
  whole.fit()

  # Interrupted after the first checkpoint (step 4), then started again.
  first = Trainer(cfg.replace(train={"steps": 4}), tiny_data, str(tmp_path / "cut"),
                  log=lambda s: None)
  first.fit()
  lines = []
  resumed = Trainer(cfg, tiny_data, str(tmp_path / "cut"), log=lines.append)
  resumed.fit()
  assert any("resumed" in line for line in lines)
  assert int(resumed.step.numpy()) == 8
  for a, b in zip(_weights(whole), _weights(resumed)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
  assert int(resumed.optimizer.iterations.numpy()) == 8


def test_training_lowers_the_loss_and_selects_a_checkpoint(tiny_data, tmp_path):
  cfg = _config(tiny_data, steps=8)
  lines = []
  trainer = Trainer(cfg, tiny_data, str(tmp_path), log=lines.append)
  out = trainer.fit()
  assert out["steps"] == 8
  assert out["best_step"] in (4, 8)
  assert os.path.exists(tmp_path / "config.json")
  assert tf.train.latest_checkpoint(str(tmp_path / "best"))
  assert any(f.startswith("events") for f in os.listdir(tmp_path / "train"))
  assert any(f.startswith("events") for f in os.listdir(tmp_path / "validation"))
  ev = trainer.evaluate_vqa("heldout")
  assert 0.0 <= ev.overall <= 100.0
  assert len(ev.predictions) == len(tiny_data.load_vqa(
      "heldout", cfg.data.max_question_words, cfg.data.max_answer_words,
      cfg.data.num_choices).question_ids)


def test_run_experiment_writes_results_and_is_idempotent(tiny_data, tmp_path):
  cfg = _config(tiny_data, experiment="genome_only", steps=4)
  res = run_experiment(cfg, tiny_data, str(tmp_path), log=lambda s: None, zero_shot=True)
  assert {"zero_shot_test", "recognition_test", "chance", "recognition_checkpoint"} <= set(res)
  assert os.path.exists(tmp_path / "best_recognition")
  preds = json.load(open(tmp_path / "zero_shot_test_results.json"))
  assert preds and set(preds[0]) == {"question_id", "answer"}
  lines = []
  again = run_experiment(cfg, tiny_data, str(tmp_path), log=lines.append, zero_shot=True)
  assert again.pop("reused") is True and "stale" not in again
  assert again == res and any("done already" in l for l in lines)
  assert res["provenance"]["packages"]["tensorflow"] == tf.__version__

  # Results made by other code are said to be stale, and retrained on request.
  path = tmp_path / "results.json"
  old = json.load(open(path))
  old["provenance"]["packages"]["tensorflow"] = "0.0"
  json.dump(old, open(path, "w"))
  lines = []
  stale = run_experiment(cfg, tiny_data, str(tmp_path), log=lines.append, zero_shot=True)
  assert "tensorflow 0.0 -> " in stale["stale"] and any("WARNING stale" in l for l in lines)
  fresh = run_experiment(cfg, tiny_data, str(tmp_path), log=lambda s: None,
                         zero_shot=True, retrain_stale=True)
  assert "reused" not in fresh and "stale" not in fresh
  assert os.path.exists(str(tmp_path) + ".stale")


def test_attention_image_shape():
  img = attention_image(np.random.rand(3, 5), scale=2)
  assert img.shape == (1, 6, 10, 1)
  assert img.max() == pytest.approx(1.0)


def test_step_override_keeps_evaluations_on_checkpoints(tiny_data):
  for steps in (3, 7, 25):
    cfg = config_for_data("tiny", "joint_svlr", tiny_data, seed=0, steps=steps)
    assert cfg.train.steps == steps
    assert cfg.train.eval_every % cfg.train.checkpoint_every == 0


def test_eval_cadence_off_checkpoints_is_rejected(tiny_data):
  with pytest.raises(ValueError, match="multiple"):  # by TrainConfig, before a Trainer
    _config(tiny_data).replace(train={"eval_every": 6, "checkpoint_every": 4})


def test_resuming_with_a_different_config_is_refused(tiny_data, tmp_path):
  from svlr_tf.runtime.errors import DataError
  cfg = _config(tiny_data, steps=4)
  Trainer(cfg, tiny_data, str(tmp_path), log=lambda s: None).fit()
  other = cfg.replace(loss={"alpha_obj": 0.5})
  with pytest.raises(DataError, match="different config"):
    Trainer(other, tiny_data, str(tmp_path), log=lambda s: None).fit()
  # More steps of the same run is a resume, not a different run.
  more = Trainer(cfg.replace(train={"steps": 8}), tiny_data, str(tmp_path),
                 log=lambda s: None)
  assert more.fit()["steps"] == 8


def test_best_choice_breaks_exact_ties_at_random_but_reproducibly():
  from svlr_tf.evaluation.multiple_choice import best_choice
  scores = np.array([[0.0, 2.0, 1.0], [1.0, 1.0, 1.0]] + [[3.0, 3.0, 0.0]] * 200)
  pick = best_choice(scores)
  assert pick[0] == 1
  assert set(pick[2:].tolist()) == {0, 1}          # both tied maxima get picked
  assert 60 < (pick[2:] == 0).sum() < 140
  np.testing.assert_array_equal(pick, best_choice(scores))


def test_a_finished_run_made_on_other_data_is_refused(tiny_data, tmp_path):
  from svlr_tf.runtime.errors import DataError
  cfg = _config(tiny_data, experiment="genome_only", steps=2)
  res = run_experiment(cfg, tiny_data, str(tmp_path), log=lambda s: None)
  assert set(res["data"]) == {"meta_sha1"}
  path = tmp_path / "results.json"
  old = json.load(open(path))
  old["data"]["meta_sha1"] = "0" * 40   # as if the world had been regenerated
  json.dump(old, open(path, "w"))
  with pytest.raises(DataError, match="made on other data"):
    run_experiment(cfg, tiny_data, str(tmp_path), log=lambda s: None)
