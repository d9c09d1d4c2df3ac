"""Data layer: feature store, prepared format, tf.data pipelines.

Import submodules directly (``from svlr_tf.data import feature_store``); this
package does not import TensorFlow eagerly so writers stay light.
"""
