"""``default``: the default preset (world, model, budget), pinned.

Its world must stay byte for byte the world ``default`` generated before (the
redesign's proof compares outputs on it): generation is deterministic in the
WorldConfig and the seed (tests/world/test_world_build.py), so pinning every
field of the config, the generator version and the model / budget pins the
whole preset.
"""

import json

from svlr_tf.presets import PRESETS
from svlr_tf.world.config import world_config
from svlr_tf.world.write import GENERATOR_VERSION, world_meta

V1_WORLD = json.loads(
    '{"preset": "default", "num_objects": 100, "num_attributes": 60, "latent_dim": 64, '
    '"feature_dim": 128, "regions_per_image": 12, "genome_images": 12500, '
    '"genome_objects": [3, 6], "vqa_images": [2500, 2000, 10000], "vqa_objects": [3, 5], '
    '"object_names": [], "attribute_names": [], "genome_zipf": 1.0, '
    '"vqa_rank_correlation": 0.6, "vqa_favoured_fraction": 0.08, '
    '"genome_rare_weight": 0.004, "ancestor_decay": 0.6, "object_scale": 1.0, '
    '"attribute_scale": 0.45, "nuisance_scale": 0.85, "scene_scale": 0.6, '
    '"genome_box_mix": [1.5, 6.0], "proposal_mix": [2.0, 4.0], '
    '"proposals_per_object": [1, 2], "backbone_hidden": 256, "hypernym_name_prob": 0.12, '
    '"second_name_prob": 0.05, "attribute_annotated_prob": 0.6, '
    '"attribute_prior_concentration": 1.0, "human_agreement": [["yes/no", 0.92], '
    '["number", 0.75], ["other", 0.8]], "template_weights": [["color", 0.18], '
    '["material", 0.06], ["doing", 0.06], ["kind", 0.08], ["animal", 0.03], '
    '["this", 0.04], ["on", 0.05], ["count", 0.12], ["exists", 0.1], '
    '["attribute", 0.18], ["is_this", 0.1]], "yes_probability": 0.5, '
    '"questions_per_image": 3, "num_choices": 18}')


def test_default_is_pinned():
  v1 = PRESETS["default"]
  assert world_meta(v1.world, 0)["world_config"] == V1_WORLD
  assert GENERATOR_VERSION == 3  # a new version would change the world's meta.json
  assert v1.model == dict(embedding_dim=64, word_hidden_dim=64, region_hidden_dim=128,
                          bimodal_dim=256)
  assert v1.data == dict(recognition_batch_size=200, vqa_batch_size=50,
                         max_question_words=10, max_answer_words=4)
  assert v1.optimizer == dict(decay_steps=1000)
  assert v1.train == dict(steps=3000, eval_every=200, checkpoint_every=200,
                          log_every=100)


def test_default_differs_from_v1_only_in_documented_fields():
  """The calibrated default changes the world's VQA split sizes (and what the
  calibration log says); Genome, appearance and questions stay v1's."""
  v1, default = world_config("default").to_dict(), world_config("default").to_dict()
  changed = {k for k in v1 if v1[k] != default[k]}
  assert changed <= {"vqa_images"}, changed
