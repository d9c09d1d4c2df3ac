"""Analytic FLOP count of one training step (for ``tools/benchmark/``).

Counts every matrix multiplication of the forward pass of ``SVLRModel`` on one
training batch (``docs/architecture.md``, "Batches"), as multiply-adds (MACs):

  f_o, f_a on the VQA regions    2 x P K (D H + H E)              Sec. 3.1
  f_o, f_a on the Genome regions 2 x M (D H + H E)                Sec. 3.1
  g on the class words           (|O| + |T|) Lc (d Hw + Hw E)     Sec. 3.2.1
  g on the question / answer words
                                 (P 4 Lq + 2 P Lq + 3 P C La) (d Hw + Hw E)
  region class scores            (P K + M) E (|O| + |T|)          Sec. 3.2.1
  attention                      2 P (Lq + C La) K E              Eq. 3
  image representation           P C K (|O| + |T|)                Eq. 5
  W1 on f(I)                     P C (|O| + |T|) B                Eq. 6
  W2 on [q(Q); a(A)]             P (4 E) B + P C E B              Eq. 6
  W3                             P C B                            Eq. 7

with P questions, C choices, K regions per image, M Genome regions, D region
feature width, H region hidden width, E embedding width, d word-vector width,
Hw word hidden width, B bimodal width, Lq / La padded question / answer word
lists, Lc padded class-name words (the trainer pads class names to La).

Conventions (the usual ones for dense networks):

* g runs on every padded word position: the model embeds the padded id tensors
  as they are (``svlr_tf.model.svlr.embed_word_ids``), pads included.
* W2 [q; a] is W2_q q once per question plus W2_a a once per (question,
  choice), as ``BimodalScorer`` computes it.
* Element-wise work (batch norms, ReLU, softmax, masks, averages, the sort of
  the Eq. 1 loss, Adam) is left out: it is a few percent at paper scale.
* FLOPs = 2 x MACs; a training step (forward + backward) = 3 x forward. The
  backward pass is counted as twice the forward although the gradient with
  respect to the (constant) region features is not needed; that is the
  standard convention and slightly overstates the work of the first layer.

At the paper's dimensions (``world_preset_config("paper")``) this gives about
65 G MACs forward and 390 GFLOP per training step of ``joint_svlr``
(``train_step_flops``); leaving out the input gradients that are never
computed (constant region features and word vectors) gives about 300 GFLOP
(``train_step_flops(..., needed_only=True)``).
"""

from __future__ import annotations

from typing import Dict, Optional

from svlr_tf.config import ExperimentConfig

# Tasks of each term: a term is counted when its task is trained.
_VQA_TERMS = ("region_embedding_vqa", "word_embedding_text", "class_scores_vqa",
              "attention", "image_representation", "bimodal_w1", "bimodal_w2",
              "bimodal_w3")
_RECOGNITION_TERMS = ("region_embedding_genome", "class_scores_genome")


def forward_macs(config: ExperimentConfig,
                 class_words: Optional[int] = None) -> Dict[str, int]:
  """Multiply-adds of each matmul group of the forward pass of one step.

  Args:
    config: the experiment (model dimensions, batch sizes, alphas: a task with
      zero weight gets no batch, so its terms are 0).
    class_words: Lc, padded words per class name (default: the data config's
      ``max_answer_words``, which is what the trainer uses).
  Returns:
    {term: MACs}, the terms of the module docstring; "total" is their sum.
  """
  m, d = config.model, config.data
  lc = d.max_answer_words if class_words is None else int(class_words)
  p, c, k, mr = d.vqa_batch_size, d.num_choices, d.regions_per_image, d.recognition_batch_size
  lq, la = d.max_question_words, d.max_answer_words
  e, h, dim = m.embedding_dim, m.region_hidden_dim, m.region_feature_dim
  classes = m.num_object_classes + m.num_attribute_classes
  bins = m.num_question_bins
  bd = m.bimodal_dim
  region_mlp = dim * h + h * e            # one region through f_o (or f_a)
  word_mlp = m.word_vector_dim * m.word_hidden_dim + m.word_hidden_dim * e
  text_words = p * bins * lq + 2 * p * lq + 3 * p * c * la
  terms = {
      "region_embedding_vqa": 2 * p * k * region_mlp,
      "region_embedding_genome": 2 * mr * region_mlp,
      "word_embedding_classes": 0 if m.multitask else classes * lc * word_mlp,
      "word_embedding_text": text_words * word_mlp,
      "class_scores_vqa": p * k * e * classes,
      "class_scores_genome": mr * e * classes,
      "attention": 2 * p * (lq + c * la) * k * e,
      "image_representation": p * c * k * classes,
      "bimodal_w1": p * c * classes * bd,
      "bimodal_w2": p * bins * e * bd + p * c * e * bd,
      "bimodal_w3": p * c * bd,
  }
  if not config.uses_vqa:
    terms.update({t: 0 for t in _VQA_TERMS})
  if not config.uses_recognition:
    terms.update({t: 0 for t in _RECOGNITION_TERMS})
  terms = {name: int(v) for name, v in terms.items()}
  terms["total"] = sum(terms.values())
  return terms


def constant_input_grad_macs(config: ExperimentConfig,
                             class_words: Optional[int] = None) -> int:
  """MACs of the backward pass that a step does not need.

  The first layers of f_o, f_a (on the region features) and of g (on the frozen
  word vectors) have constant inputs, so their input gradients are never
  computed; the "x3" convention counts them anyway. This is that surplus.
  """
  m, d = config.model, config.data
  terms = forward_macs(config, class_words)
  region_first = m.region_feature_dim * m.region_hidden_dim
  region_total = m.region_feature_dim * m.region_hidden_dim + (
      m.region_hidden_dim * m.embedding_dim)
  word_first = m.word_vector_dim * m.word_hidden_dim
  word_total = word_first + m.word_hidden_dim * m.embedding_dim
  regions = (terms["region_embedding_vqa"] + terms["region_embedding_genome"])
  words = terms["word_embedding_classes"] + terms["word_embedding_text"]
  return int(regions * region_first // region_total + words * word_first // word_total)


def train_step_flops(config: ExperimentConfig, class_words: Optional[int] = None,
                     needed_only: bool = False) -> int:
  """FLOPs of one training step: 2 (FLOP per MAC) x 3 (forward + backward).

  With ``needed_only`` the backward pass leaves out the input gradients of
  layers with constant inputs (:func:`constant_input_grad_macs`).
  """
  macs = 3 * forward_macs(config, class_words)["total"]
  if needed_only:
    macs -= constant_input_grad_macs(config, class_words)
  return 2 * macs
