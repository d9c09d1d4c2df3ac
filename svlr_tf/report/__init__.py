"""One page with every result the work directories hold (``python -m reproduce.report``).

``sources``: how one result is found and shown (the caller, ``reproduce.report``,
hands the page its sources: which results, their paper numbers, their commands);
``events``: held-out curves from TensorBoard event files; ``page``: collecting,
drawing (svlr_tf.viz) and rendering ``index.md``.  Nothing here trains.
"""
