"""The embedded dataset: a simulated Visual Genome + VQA v1 world (docs/world.md).

  generate(preset, out_dir, seed=0, overwrite=False) -> out_dir
  ensure_world(preset, root=None) -> data_dir

Simulated: real words, WordNet hypernyms and GloVe vectors, but region features
from a documented simulated backbone instead of photographs.
"""


def generate(preset, out_dir, seed=0, overwrite=False, **kwargs):
  """See :func:`svlr_tf.world.build.generate`."""
  from svlr_tf.world import build as _g  # lazy: keeps `python -m` clean
  return _g.generate(preset, out_dir, seed=seed, overwrite=overwrite, **kwargs)


def ensure_world(preset, root=None, **kwargs):
  """See :func:`svlr_tf.world.build.ensure_world`."""
  from svlr_tf.world import build as _g  # lazy: keeps `python -m` clean
  return _g.ensure_world(preset, root, **kwargs)
