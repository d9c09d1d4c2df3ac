"""A run made before a config field existed is still the same config."""

from svlr_tf.config import ExperimentConfig


def test_missing_field_counts_as_its_default():
  cfg = ExperimentConfig()
  saved = cfg.to_dict()
  del saved["train"]["init_from"]
  assert cfg.describes(saved)


def test_missing_field_differs_from_a_non_default_value():
  cfg = ExperimentConfig().replace(train={"init_from": "genome_only"})
  saved = ExperimentConfig().to_dict()
  del saved["train"]["init_from"]
  assert not cfg.describes(saved)


def test_unknown_field_or_other_value_is_another_config():
  cfg = ExperimentConfig()
  saved = cfg.to_dict()
  saved["train"]["no_such_field"] = 1
  assert not cfg.describes(saved)
  saved = cfg.to_dict()
  saved["loss"]["alpha_ans"] = 0.5
  assert not cfg.describes(saved)
