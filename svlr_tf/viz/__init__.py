"""Drawing: attention over image regions, heat maps and line charts, as PNG.

matplotlib with the Agg backend (no display needed; pyplot is never imported,
so nothing global changes in the caller's process).

  from svlr_tf.viz import draw
  fig = draw.new_figure(columns=2, rows=1, panel_size=(4.0, 3.6))
  draw.attention_panel(fig.axes[0], image, boxes, weights, top_k=3,
                       title="what color is the dog?\\npredicted: brown (true: brown)")
  draw.heat_map(ax, values, row_labels, col_labels, cell_text=None, cmap="RdBu_r",
                center=0.0, colorbar_label="accuracy change")
  draw.line_chart(ax, x, {"Joint SVLR": y1, "centre": y2}, xlabel, ylabel, title)
  draw.save_png(fig, path)          # atomic; returns path
  draw.to_array(fig)                # uint8 [H, W, 3] (TensorBoard images)

``image`` is uint8 [H, W, 3] (or None: a grey canvas of ``image_size``); ``boxes``
are [K, 4] pixel boxes [x, y, w, h] (the boxes files' format, docs/architecture.md);
``weights`` [K] an attention a(R) (Eq. 4) or any non-negative score.
"""
