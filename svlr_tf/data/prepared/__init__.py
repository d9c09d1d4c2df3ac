"""Read and write the prepared format (docs/architecture.md, "Prepared format").

The embedded-world generator and the real-data tools write a prepared directory
with :class:`PreparedWriter`; everything downstream reads it with
:class:`PreparedData`, which validates every file and raises a one-line
``DataError`` naming the file (and the JSONL line) on bad input.

Splits are loaded into numpy arrays: :meth:`PreparedData.load_recognition`
gives sparse (CSR) labels whose batches are multi-hot targets (Eq. 1-2 of the
paper: H_j = annotated names plus their hypernyms), :meth:`PreparedData.load_vqa`
gives padded word-id arrays matching the "vqa" batch keys.  Parsed splits are
cached as ``.npz`` next to the JSONL.

Modules: ``layout`` (names and constants), ``writer``, ``splits`` (the loaded
split containers), ``records`` (typed JSONL record access), ``parse`` (JSONL to
arrays), ``cache`` (the parse cache), ``reader`` (:class:`PreparedData`).
"""

from svlr_tf.data.prepared.layout import (FEATURE_STORES, FORMAT, NUM_HUMAN_ANSWERS,
                                          NUM_QUESTION_BINS, PAD, PAD_ID,
                                          RECOGNITION_SPLITS, UNANNOTATED_VQA_SPLITS,
                                          UNK, UNK_ID, VERSION, VQA_SPLITS,
                                          class_name_words,
                                          feature_store_path)
from svlr_tf.data.prepared.reader import PreparedData
from svlr_tf.data.prepared.splits import VQA_TEXT_KEYS, RecognitionSplit, VQASplit
from svlr_tf.data.prepared.writer import PreparedWriter

__all__ = [
    "FEATURE_STORES", "FORMAT", "NUM_HUMAN_ANSWERS", "NUM_QUESTION_BINS", "PAD",
    "PAD_ID", "RECOGNITION_SPLITS", "UNANNOTATED_VQA_SPLITS", "UNK", "UNK_ID", "VERSION", "VQA_SPLITS",
    "VQA_TEXT_KEYS", "PreparedData", "PreparedWriter", "RecognitionSplit",
    "VQASplit", "class_name_words", "feature_store_path",
]
