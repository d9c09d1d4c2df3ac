"""``python -m tools.serve``: the demo page (see ``tools/serve/__main__.py``)."""
