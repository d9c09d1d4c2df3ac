"""Evaluation: the official VQA accuracy (``vqa_eval``) and recognition metrics."""
