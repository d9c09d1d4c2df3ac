"""The jobs of ``python -m tools.prepare_genome`` (the tool itself:
tools/prepare_genome.py): reading the Genome files (``annotations``), cleaning
the objects (``cleaning``), the overlap with VQA images (``overlap``), classes,
hypernyms and the split (``classes``)."""
