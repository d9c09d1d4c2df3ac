"""Training: the task (model + data + loss, one step), the trainer loop, model selection
on held-out data, experiments and hyper-parameter grids, checkpoints, summaries, FLOPs.

Modules: ``task``, ``trainer``, ``selection``, ``experiment``, ``grid``,
``checkpoints``, ``summaries``, ``flops``. Importing the package imports none of them.
"""
