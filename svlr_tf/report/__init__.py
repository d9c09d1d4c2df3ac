"""One page with every result the work directories hold (``python -m reproduce.report``).

``sources``: where each reproduce module writes its results and the command that
makes them; ``events``: held-out curves from TensorBoard event files; ``page``:
collecting, drawing (svlr_tf.viz) and rendering ``index.md``.  Nothing here trains.
"""
