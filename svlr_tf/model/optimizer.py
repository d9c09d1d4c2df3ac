"""Optimizer of Sec. 4: Adam, staircase exponential decay, weight decay."""

from __future__ import annotations

from typing import Iterable, Mapping, Union

import keras
from keras import ops

from svlr_tf.config import OptimizerConfig


def learning_rate_schedule(config: OptimizerConfig):
  """lr * decay_rate ** floor(step / decay_steps) (paper: 1e-3, 0.5, 24000)."""
  return keras.optimizers.schedules.ExponentialDecay(
      initial_learning_rate=config.learning_rate,
      decay_steps=config.decay_steps,
      decay_rate=config.decay_rate,
      staircase=True)


def build_optimizer(config: Union[OptimizerConfig, Mapping, None] = None):
  """Adam with the staircase exponential decay of Sec. 4.

  Weight decay is not in the optimizer: add ``weight_decay_loss`` to the loss.
  epsilon = 1e-8 as in TensorFlow 1's AdamOptimizer, which the paper used.
  """
  if config is None:
    config = OptimizerConfig()
  elif not isinstance(config, OptimizerConfig):
    config = OptimizerConfig(**dict(config))
  return keras.optimizers.Adam(learning_rate=learning_rate_schedule(config),
                               beta_1=0.9, beta_2=0.999, epsilon=1e-8)


def weight_decay_loss(variables: Iterable, coefficient: float):
  """coefficient * sum_w ||w||^2 / 2 over ``variables`` (Sec. 4).

  "Weight decay on all trainable variables with a coefficient of 1e-5" in the
  TensorFlow-1 sense: an L2 penalty added to the loss (its gradient is
  coefficient * w), as tf.nn.l2_loss does. Pass
  ``model.trainable_variables`` (the frozen word vectors are not trainable).
  """
  total = ops.convert_to_tensor(0.0)
  if coefficient == 0:
    return total
  for variable in variables:
    total = total + ops.sum(ops.square(ops.cast(variable, "float32")))
  return coefficient * 0.5 * total
