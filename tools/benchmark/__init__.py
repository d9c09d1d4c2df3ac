r"""Performance benchmark at paper scale: training step, input pipeline, input
modes, memory.

    python -m tools.benchmark [--out out.json] [--small_gb 1 --large_gb 8]
    python -m tools.benchmark --tiny --out /tmp/b.json     # smoke run, < 30 s

Measures, in one run, at the ``paper`` preset (svlr_tf/presets.py: 100 regions of
2048-d per image, 1000 + 1000 classes, M = 200, P = 50 questions x 18 choices,
a 2500-d bimodal layer) and the ``joint_svlr`` experiment:

1. Training step: the trainer's own step (``svlr_tf.training.task.SVLRTask.train_step``:
   forward + backward + Adam update), compiled with XLA
   (``jit_compile=True``), on synthetic batches built directly as tensors (the
   shapes and dtypes of docs/architecture.md "Batches", ``tools/benchmark/data.py``;
   features float16 as the pipeline delivers them). Its FLOPs come from :mod:`svlr_tf.training.flops` (every
   matmul of the forward, x2 for FLOPs, x3 for forward + backward;
   ``*_needed_only`` leaves out the input gradients of layers with constant
   inputs, which are never computed). The matmul roof is the best rate of
   float32 matmuls (TensorFlow's kernel and XLA) at 2048^3, 4096^3 and the
   step's own largest shapes, measured before and after the step in the same
   run. Times are the best of the repeats (the machine is shared; the best is
   the least disturbed); medians are in the JSON too.
2. Input pipeline. ``svlr_tf.data.pipeline.joint_dataset`` (feature store ->
   tf.data -> batches ready for the step) over a synthetic paper-format prepared
   directory whose feature stores are in the page cache, in paper-scale batches
   per second; GB/s of float16 region features; ``pipeline_ratio`` = batches/s x
   step seconds (> 1: the pipeline outruns the step). Its roof is a plain NumPy
   gather of the same batches (50 images + 200 Genome rows) from the same
   memory-mapped shards into reused buffers, one thread.
3. Input modes (``train.input_mode``, docs/architecture.md "Input modes"), on
   the same synthetic directory, host then resident (the features loaded into
   the CPU's memory: the resident code on the CPU device): input batches/s
   (resident: index batches + the compiled device-side gather), MB a batch
   carries from the host, and the trainer's compiled step with its input
   included (``next(iterator)`` + step; best of ``--steps``) as seconds and
   training batches/s (``tools/benchmark/input_modes.py``).
4. Peak memory. A fresh subprocess per store size (both run at once) opens a synthetic prepared
   directory (VQA store + Genome store, ``--small_gb`` / ``--large_gb`` on disk in
   all, records spanning every image) and trains a few steps of a small model
   (paper data dims, small widths) on ``joint_dataset`` at paper batch sizes.
   Peak RSS is VmHWM of /proc/self/status (falls back to getrusage). Record
   files are parsed into the prepared cache by the parent first, so the children
   measure training, not JSON parsing.

4. XLA (part ``xla``, ``tools/benchmark/xla.py``): the step with and without
   ``jit_compile`` on one model and batch, the two alternating, best of
   ``--xla_steps``: on one device (``compiled_train_step``) and under
   MirroredStrategy over ``--xla_devices`` logical CPU devices in a subprocess
   (the trainer's ``distributed_train_step``). ``*_xla_speedup`` = TF s / XLA s.

Targets on the 2-core reference machine: step >= 50% of the matmul roof;
pipeline >= 150 batches/s; peak memory with the larger store <= 1.2x the
smaller one. The JSON (``--out``) has the keys ``step_seconds``,
``step_gflop``, ``achieved_gflops``, ``matmul_roof_gflops``, ``roof_ratio``,
``pipeline_batches_per_s``, ``pipeline_gb_per_s``, ``pipeline_ratio``,
``pipeline_roof_batches_per_s``, ``pipeline_roof_ratio``, ``memory_small_mb``,
``memory_large_mb``, ``memory_ratio``, ``one_device_xla_step_seconds``,
``one_device_tf_step_seconds``, ``one_device_xla_speedup``,
``mirrored_xla_step_seconds``, ``mirrored_tf_step_seconds``,
``mirrored_xla_speedup``, for each input mode ``<mode>_input_batches_per_s``,
``<mode>_mb_per_batch_from_host``, ``<mode>_step_seconds_with_input``,
``<mode>_train_batches_per_s`` (mode ``host`` or ``resident``; all figures per mode
under ``input_modes``) and ``resident_load_seconds``, and ``targets`` ({name:
{value, target, met}}), plus details (per-shape roof, FLOP terms, RSS breakdown, machine).

``--mixed_precision mixed_float16 | mixed_bfloat16`` times the step under a
Keras mixed-precision policy (for GPUs; on CPUs it is usually slower). Synthetic
stores go to a temporary directory under ``--tmp_dir`` and are removed at the end.

The package, one module per job:

- ``common.py``: :class:`Settings` (the flags as data), targets, timing helpers;
- ``roof.py``: the matmul roof;  ``step.py``: the training step;
- ``pipeline.py``: the input pipeline and its NumPy gather roof;
- ``input_modes.py``: host and resident input, each with the training step;
- ``memory.py``: the peak-memory subprocesses (``--memory_child``);
- ``xla.py``: the step with and without XLA, one device and Mirrored (``--xla_child``);
- ``data.py``: synthetic batches and paper-format prepared directories;
- ``run.py``: one run of the selected parts, ratios, targets, the summary;
- ``__main__.py``: the flags and the entry point.
"""

from tools.benchmark.common import Settings, best_seconds  # noqa: F401
from tools.benchmark.data import (  # noqa: F401
    prepared_config, store_bytes, synthetic_batch, synthetic_model_inputs, to_tensors,
    warm_page_cache, warm_split_cache, write_synthetic_prepared)
from tools.benchmark.memory import measure_memory, memory_status, run_memory_child  # noqa: F401
from tools.benchmark.pipeline import time_numpy_gather, time_pipeline  # noqa: F401
from tools.benchmark.roof import matmul_gflops, matmul_roof, roof_shapes  # noqa: F401
from tools.benchmark.run import run, summary  # noqa: F401
from tools.benchmark.step import build_model, make_train_step, time_train_step  # noqa: F401
from tools.benchmark.xla import time_alternating, time_one_device  # noqa: F401
