"""The matmul roof of the training step: the best float32 matmul rate of this
machine (TensorFlow's kernel and XLA) at square shapes and the step's own
largest shapes."""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from svlr_tf.config import ExperimentConfig
from tools.benchmark.common import best_seconds, sig


def matmul_gflops(m: int, k: int, n: int, repeats: int, min_seconds: float = 0.0,
                  jit_compile: bool = True) -> float:
  """Rate of a float32 [m, k] x [k, n] tf.matmul in a tf.function, GFLOP/s (best).

  ``jit_compile`` True compiles it with XLA; False runs TensorFlow's kernel.
  """
  import tensorflow as tf
  rng = np.random.default_rng(0)
  a = tf.constant(rng.standard_normal((m, k), dtype=np.float32))
  b = tf.constant(rng.standard_normal((k, n), dtype=np.float32))

  @tf.function(jit_compile=jit_compile)
  def matmul(x, y):
    return tf.matmul(x, y)

  # .numpy() of a CPU tensor shares its buffer: it only waits for the result.
  best, _ = best_seconds(lambda: matmul(a, b).numpy(), repeats, min_seconds=min_seconds)
  return 2.0 * m * k * n / best / 1e9


def roof_shapes(config: ExperimentConfig, tiny: bool) -> Dict[str, Tuple[int, int, int]]:
  """Square shapes plus the step's largest matmuls (forward and weight gradient)."""
  m, d = config.model, config.data
  regions = d.vqa_batch_size * d.regions_per_image
  pairs = d.vqa_batch_size * d.num_choices
  classes = m.num_object_classes + m.num_attribute_classes
  square = (256, 512) if tiny else (2048, 4096)
  shapes = {f"square_{s}": (s, s, s) for s in square}
  shapes["region_hidden"] = (regions, m.region_feature_dim, m.region_hidden_dim)
  shapes["region_hidden_weight_grad"] = (m.region_feature_dim, regions,
                                         m.region_hidden_dim)
  shapes["bimodal_w1"] = (pairs, classes, m.bimodal_dim)
  return shapes


def matmul_roof(config: ExperimentConfig, repeats: int, tiny: bool,
                min_seconds: float = 0.0) -> dict:
  """Best float32 matmul rate over ``roof_shapes``, XLA and TF kernels, GFLOP/s."""
  rates = {}
  for name, shape in roof_shapes(config, tiny).items():
    for kind, jit in (("xla", True), ("tf", False)):
      rates[f"{name}_{kind}"] = sig(matmul_gflops(*shape, repeats, min_seconds, jit))
  return {"matmul_roof_gflops": max(rates.values()), "matmul_gflops_by_shape": rates}


def best_roof(first: dict, second: dict) -> dict:
  """Per shape, the better of two roof measurements (before and after the step)."""
  rates = {name: max(first["matmul_gflops_by_shape"][name], rate)
           for name, rate in second["matmul_gflops_by_shape"].items()}
  return {"matmul_roof_gflops": max(rates.values()), "matmul_gflops_by_shape": rates}
