"""Grounding a VQA batch in its image's regions: what Eq. 3-9 share.

The regions are embedded once per image (f_o, f_a), the question's and the
choices' nouns and adjectives with the word embedding, and each word set is
aligned with every region (max over the set, Eq. 3). The VQA model (Eq. 3-7)
and zero-shot VQA (Eq. 9) both start from this.
"""

from __future__ import annotations

from keras import ops

from svlr_tf.model.svlr import embed_word_ids
from svlr_tf.model.vqa import (attention_logits, attention_scores, max_alignment,
                               pool_alignments)

# The word-id fields of a "vqa" batch that Eq. 3 aligns with regions.
GROUNDED_WORDS = ("question_nouns", "question_adjectives", "choice_nouns",
                  "choice_adjectives")


def ground_words(vqa, object_embedding, attribute_embedding, word_embedding,
                 training=False, extra_ids=(), word_vectors=None,
                 attention_words=None):
  """Regions, word alignments and attention a(R) of a VQA batch (Eq. 3-4).

  Args:
    vqa: the "vqa" dict of docs/architecture.md "Batches": image_features
      [P, K, D], region_mask [P, K], question_nouns / question_adjectives
      [P, Lq], choice_nouns / choice_adjectives [P, C, La], optional valid [P].
    object_embedding, attribute_embedding: f_o and f_a (``RegionEmbedding``).
    word_embedding: g (``WordEmbedding``).
    training: batch norm mode. Batch norm statistics count only real regions
      of valid questions.
    extra_ids: more word-id tensors to embed with g in the same pass.
    word_vectors: optional [V', d] pretrained vectors that the batch's word
      ids index instead of the model's own table (open vocabulary, Sec. 3.2.1:
      g applies to any word with a vector).
    attention_words: the word embedding of the nouns / adjectives of Eq. 3
      (default g); ``extra_ids`` are always embedded with g.
  Returns: {"object_regions" [P, K, E], "attribute_regions" [P, K, E],
    "question_alignment" (nouns, adjectives), "answer_alignment" (nouns,
    adjectives), "attention" a(R) [P, C, K], "extra_embeddings" (one per
    ``extra_ids``)}.
  """
  region_mask = ops.cast(vqa["region_mask"], "bool")
  norm_mask = region_mask
  if "valid" in vqa:
    norm_mask = ops.logical_and(
        region_mask, ops.cast(vqa["valid"], "bool")[:, None])
  features = vqa["image_features"]
  # Once per image: [P, K, E], shared by all C choices.
  object_regions = object_embedding(features, training=training, mask=norm_mask)
  attribute_regions = attribute_embedding(features, training=training,
                                          mask=norm_mask)
  ids = [vqa[name] for name in GROUNDED_WORDS]
  extra = list(extra_ids)

  def embed(layer, id_list):
    if not id_list:
      return []
    if word_vectors is None:
      return embed_word_ids(layer, id_list)
    return [layer.embed_vectors(ops.take(word_vectors, ops.cast(i, "int32"),
                                         axis=0)) for i in id_list]

  if attention_words is None or attention_words is word_embedding:
    embedded = embed(word_embedding, ids + extra)
    embedded, extra_embeddings = embedded[:4], embedded[4:]
  else:
    embedded = embed(attention_words, ids)
    extra_embeddings = embed(word_embedding, extra)
  question_nouns, question_adjectives = ids[0][:, None], ids[1][:, None]
  question_nouns = max_alignment(object_regions, embedded[0][:, None],
                                 ops.not_equal(question_nouns, 0))
  question_adjectives = max_alignment(attribute_regions, embedded[1][:, None],
                                      ops.not_equal(question_adjectives, 0))
  answer_nouns = max_alignment(object_regions, embedded[2],
                               ops.not_equal(ids[2], 0))
  answer_adjectives = max_alignment(attribute_regions, embedded[3],
                                    ops.not_equal(ids[3], 0))
  logits = attention_logits(pool_alignments(question_nouns, answer_nouns),
                            pool_alignments(question_adjectives,
                                            answer_adjectives))
  return dict(
      object_regions=object_regions, attribute_regions=attribute_regions,
      question_alignment=(question_nouns, question_adjectives),
      answer_alignment=(answer_nouns, answer_adjectives),
      attention=attention_scores(logits, region_mask),
      extra_embeddings=extra_embeddings)
