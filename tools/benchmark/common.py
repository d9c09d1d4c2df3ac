"""What one benchmark run measures (:class:`Settings`), its targets, and the
timing helpers every part uses."""

from __future__ import annotations

import dataclasses
import time
from typing import Optional, Tuple

import numpy as np

from svlr_tf.config import ExperimentConfig
from svlr_tf.presets import world_preset_config

PARTS = ("step", "xla", "pipeline", "input_modes", "memory")

# Paper-scale references of the issue (2-core machine).
STEP_ROOF_TARGET = 0.5
PIPELINE_TARGET_BATCHES_PER_S = 150.0
MEMORY_RATIO_TARGET = 1.2


@dataclasses.dataclass
class Settings:
  """What one benchmark run measures (the flags, as data)."""

  preset: str = "paper"
  experiment: str = "joint_svlr"
  tiny: bool = False
  parts: Tuple[str, ...] = PARTS
  steps: int = 5
  matmul_repeats: int = 5
  mixed_precision: str = "none"
  pipeline_batches: int = 200
  pipeline_gb: float = 1.0
  small_gb: float = 1.0
  large_gb: float = 8.0
  memory_steps: int = 30
  memory_jit: bool = True
  genome_fraction: float = 0.16
  tmp_dir: str = "/tmp"
  xla_steps: int = 3
  xla_devices: int = 2

  def config(self) -> ExperimentConfig:
    return world_preset_config("tiny" if self.tiny else self.preset, self.experiment)


def sig(x: float, digits: int = 4) -> float:
  """``x`` rounded to ``digits`` significant digits (tiny and paper runs alike)."""
  return float(f"{x:.{digits}g}")


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
  return None if a is None or b is None or b == 0 else sig(a / b, 3)


def best_seconds(fn, repeats: int, warmup: int = 1,
                 min_seconds: float = 0.0) -> Tuple[float, float]:
  """(best, median) wall time of ``fn()`` after warm-up.

  Calls ``fn`` at least ``repeats`` times and until ``min_seconds`` have passed
  (at most 10 x ``repeats`` calls): on a shared machine the best of a longer
  window is more likely to be undisturbed.
  """
  for _ in range(warmup):
    fn()
  times, start = [], time.perf_counter()
  while (len(times) < max(1, repeats) or (time.perf_counter() - start < min_seconds
                                          and len(times) < 10 * repeats)):
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)
  return min(times), float(np.median(times))
