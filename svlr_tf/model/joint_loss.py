"""The joint loss of SVLR, Eq. 10: the weighted sum of the task losses."""

from __future__ import annotations

from typing import Mapping, Union

from keras import ops

from svlr_tf.config import LossConfig

LOSS_NAMES = ("loss_obj", "loss_atr", "loss_ans", "loss_total")


def joint_loss(losses: Mapping[str, object],
               loss_config: Union[LossConfig, Mapping]) -> object:
  """L = alpha_ans L_ans + alpha_obj L_obj + alpha_atr L_atr, Eq. 10.

  A task whose alpha is 0 is left out (its loss may be absent). Weight decay
  is not included: the trainer adds ``weight_decay_loss``.

  Args:
    losses: {"loss_ans", "loss_obj", "loss_atr"} scalars.
    loss_config: ``LossConfig`` (or its dict) with the alphas.
  Returns: scalar.
  Raises: ValueError if a task with alpha > 0 has no loss.
  """
  config = as_loss_config(loss_config)
  total = ops.convert_to_tensor(0.0)
  for name, alpha in (("loss_ans", config.alpha_ans),
                      ("loss_obj", config.alpha_obj),
                      ("loss_atr", config.alpha_atr)):
    if alpha == 0:
      continue
    if losses.get(name) is None:
      raise ValueError(f"{name} is weighted by {alpha} in Eq. 10 but its "
                       "task has no batch.")
    total = total + alpha * ops.cast(losses[name], "float32")
  return total


def as_loss_config(loss_config) -> LossConfig:
  """A ``LossConfig`` from itself or its dict."""
  if isinstance(loss_config, LossConfig):
    return loss_config
  return LossConfig(**dict(loss_config))

