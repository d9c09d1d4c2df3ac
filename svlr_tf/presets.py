"""Presets: model dimensions, batch sizes and training budget per dataset size.

``tiny``    tests: seconds on a CPU.
``default`` the embedded dataset: all of Table 1 (4 rows x 3 seeds) in at most
            15 minutes on 2 CPU cores.
``paper``   the paper's dimensions (Sec. 3-4): 2048-d features, 100 regions per
            image, 1000 + 1000 classes, M = 200, P = 50, 2500-d bimodal layer.

The class counts of the model are always taken from the prepared data
(``classes.json``); the values here are what the embedded world generates.
"""

from __future__ import annotations

from svlr_tf.config import ExperimentConfig

PRESET_NAMES = ("tiny", "default", "paper")

_PRESETS = {
    "tiny": dict(
        model=dict(word_vector_dim=50, embedding_dim=8, word_hidden_dim=8,
                   region_feature_dim=16, region_hidden_dim=16,
                   num_object_classes=12, num_attribute_classes=8, bimodal_dim=16),
        data=dict(recognition_batch_size=16, vqa_batch_size=4,
                  regions_per_image=6, num_choices=18, max_question_words=8,
                  max_answer_words=4, shuffle_buffer=256),
        train=dict(steps=20, eval_every=10, checkpoint_every=10, log_every=5),
    ),
    "default": dict(
        model=dict(word_vector_dim=50, embedding_dim=64, word_hidden_dim=64,
                   region_feature_dim=128, region_hidden_dim=128,
                   num_object_classes=100, num_attribute_classes=60,
                   bimodal_dim=256),
        data=dict(recognition_batch_size=200, vqa_batch_size=50,
                  regions_per_image=12, num_choices=18, max_question_words=10,
                  max_answer_words=4, shuffle_buffer=4096),
        # 3,000 steps of P = 50 see the 7,500 training questions 20 times; held-out
        # accuracy has stopped rising for every row by then (README). The paper's
        # decay every 24,000 steps is scaled to the shorter run.
        optimizer=dict(decay_steps=1000),
        train=dict(steps=3000, eval_every=200, checkpoint_every=200, log_every=100),
    ),
    "paper": dict(
        model=dict(word_vector_dim=300),
        data=dict(),
        train=dict(),
    ),
}


def preset_config(preset: str, experiment: str = "joint_svlr") -> ExperimentConfig:
  """Returns the named experiment's config at the given preset's dimensions."""
  from svlr_tf.config import experiment_config  # local: avoid a cycle in docs tools
  if preset not in _PRESETS:
    raise ValueError(f"Unknown preset {preset!r}; expected one of {list(PRESET_NAMES)}.")
  base = ExperimentConfig().replace(**_PRESETS[preset])
  return experiment_config(experiment, base)
