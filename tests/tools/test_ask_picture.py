"""A picture file: Edge Boxes + the ResNet of the real-data tools, then the model."""

import cv2
import numpy as np

from svlr_tf.config import ModelConfig, ExperimentConfig
from svlr_tf.inference import Predictor
from svlr_tf.model.joint import SVLRModel
from tools import ask


def test_a_picture_goes_through_edge_boxes_and_the_resnet(tmp_path):
  rng = np.random.default_rng(0)
  picture = np.zeros((96, 128, 3), np.uint8)
  picture[20:70, 30:90] = (40, 160, 220)                    # a box with edges
  picture += rng.integers(0, 20, picture.shape, dtype=np.uint8)
  path = str(tmp_path / "photo.png")
  cv2.imwrite(path, picture)
  words = ["<pad>", "<unk>", "dog", "red", "what", "color", "is", "the", "yes", "no"]
  model_config = ModelConfig(word_vector_dim=4, embedding_dim=4, word_hidden_dim=4,
                             region_feature_dim=2048, region_hidden_dim=8,
                             num_object_classes=1, num_attribute_classes=1,
                             bimodal_dim=4)
  vectors = rng.standard_normal((len(words), 4)).astype(np.float32)
  vectors[0] = 0
  model = SVLRModel(model_config, vectors, np.array([[2]]), np.array([[3]]))
  config = ExperimentConfig(model=model_config)
  regions = ask.picture_regions(max_boxes=3, weights="none", crop_size=32)
  predictor = Predictor(model, config, words, ["dog"], ["red"], {"": ["yes", "no"]},
                        {"simulated": False}, picture_regions=regions)
  answer = predictor.answer(path, "What color is the dog?", ["red", "yes"])
  boxes = answer.regions.boxes
  assert answer.regions.picture == path and answer.regions.image_size == (128, 96)
  assert 1 <= len(boxes) <= 4 and answer.attention.shape == (2, len(boxes))
  assert [0, 0, 128, 96] in boxes.astype(int).tolist() or len(boxes) == 3
  fig = ask.attention_figure(answer)      # reads the picture file
  from svlr_tf.viz import draw
  out = draw.save_png(fig, str(tmp_path / "attention.png"))
  assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
