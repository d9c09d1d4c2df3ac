"""The SVLR model (Sec. 3-4): SVLR module, recognition, VQA, zero-shot, joint."""

from svlr_tf.model.joint import SVLRModel
from svlr_tf.model.joint_loss import LOSS_NAMES, joint_loss
from svlr_tf.model.optimizer import (build_optimizer, learning_rate_schedule,
                                     weight_decay_loss)
from svlr_tf.model.recognition import (ClassVectors, attribute_loss,
                                       class_embeddings, object_margin_loss,
                                       recognition_scores)
from svlr_tf.model.svlr import (RegionEmbedding, WordEmbedding,
                                average_word_embedding, embed_word_ids,
                                masked_average)
from svlr_tf.model.vqa import (BimodalScorer, answer_margin_loss,
                               answer_representation, attention_logits,
                               attention_scores, image_representation,
                               max_alignment, pool_alignments,
                               question_representation)
from svlr_tf.model.zero_shot import zero_shot_scores

__all__ = [
    "LOSS_NAMES", "SVLRModel", "joint_loss", "build_optimizer",
    "learning_rate_schedule", "weight_decay_loss", "ClassVectors",
    "attribute_loss", "class_embeddings", "object_margin_loss",
    "recognition_scores", "RegionEmbedding", "WordEmbedding",
    "average_word_embedding", "embed_word_ids", "masked_average",
    "BimodalScorer", "answer_margin_loss", "answer_representation",
    "attention_logits", "attention_scores", "image_representation",
    "max_alignment", "pool_alignments", "question_representation",
    "zero_shot_scores",
]
