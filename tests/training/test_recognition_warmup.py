"""train.recognition_warmup_steps: Eq. 10 with alpha_obj = alpha_atr = 1 for the
first steps (the pre-training control of issue 22)."""

import pytest

from svlr_tf.config import ExperimentConfig, LossConfig


def test_warmup_loss_lifts_the_recognition_weights_to_one_then_stops():
  import tensorflow as tf
  from svlr_tf.training.task import recognition_warmup_loss
  losses = {"loss_obj": tf.constant(2.0), "loss_atr": tf.constant(3.0)}
  cfg = LossConfig(alpha_ans=1.0, alpha_obj=0.1, alpha_atr=0.2)
  during = recognition_warmup_loss(losses, cfg, tf.constant(4, tf.int64), 5)
  after = recognition_warmup_loss(losses, cfg, tf.constant(5, tf.int64), 5)
  # Eq. 10's 0.1 * 2 + 0.2 * 3 plus this = 1 * 2 + 1 * 3.
  assert float(during) == pytest.approx(0.9 * 2.0 + 0.8 * 3.0)
  assert float(after) == 0.0


def test_warmup_needs_recognition_batches_and_a_count():
  from svlr_tf.training.task import SVLRTask
  with pytest.raises(ValueError, match="alpha_obj > 0 and alpha_atr > 0"):
    SVLRTask(ExperimentConfig().replace(loss={"alpha_atr": 0.0},
                                        train={"recognition_warmup_steps": 10}))
  with pytest.raises(ValueError, match="recognition_warmup_steps must be >= 0"):
    ExperimentConfig().replace(train={"recognition_warmup_steps": -1})
  SVLRTask(ExperimentConfig().replace(train={"recognition_warmup_steps": 10}))
