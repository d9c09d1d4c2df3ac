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


def test_a_field_whose_old_behaviour_is_not_its_default():
  # Before model.zero_shot_empty_question existed, Eq. 9 used the "zero" reading.
  saved = ExperimentConfig().to_dict()
  del saved["model"]["zero_shot_empty_question"]
  assert not ExperimentConfig().describes(saved)
  assert ExperimentConfig().replace(
      model={"zero_shot_empty_question": "zero"}).describes(saved)


def test_recognition_warmup_is_a_new_field_that_changes_no_old_run():
  # issue 22: a run saved before train.recognition_warmup_steps existed is
  # still the same config; a warm-up run is another config.
  saved = ExperimentConfig().to_dict()
  del saved["train"]["recognition_warmup_steps"]
  assert ExperimentConfig().describes(saved)
  assert not ExperimentConfig().replace(
      train={"recognition_warmup_steps": 100}).describes(saved)
