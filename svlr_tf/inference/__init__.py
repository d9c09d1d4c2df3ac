"""Using a trained model: ``Predictor`` (answer, recognize) and the export bundle."""

from svlr_tf.inference.predictor import Predictor, answer_vocabulary
from svlr_tf.inference.results import (Answer, Recognition, RegionWords,
                                       Regions)

__all__ = ["Predictor", "answer_vocabulary", "Answer", "Recognition",
           "RegionWords", "Regions"]
