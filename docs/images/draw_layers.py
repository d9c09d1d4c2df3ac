"""Draws docs/images/layers.svg from tests/test_layers.py (LAYERS and the import graph).

Usage: python docs/images/draw_layers.py <repository root>
"""
import os, sys
ROOT = sys.argv[1]
sys.path.insert(0, os.path.join(ROOT, "tests")); sys.path.insert(0, ROOT)
import test_layers as t
mods = t._modules()
graph = {n: t._imports(n, p, mods) for n, p in mods.items()}
units = t._unit_graph(graph)
layers = list(reversed(t.LAYERS))  # top: entry points
what = {
  "tools": "tools/: prepare, check, ask, export, benchmark",
  "reproduce": "reproduce/: one module per paper result",
  "svlr_tf.inference": "inference/: Predictor, export bundle",
  "svlr_tf.training": "training/: task, trainer, selection, evaluator, experiment, grid, checkpoints",
  "svlr_tf.report": "report/: the results page",
  "svlr_tf.presets": "presets.py: tiny / default / paper",
  "svlr_tf.viz": "viz/: figures",
  "svlr_tf.world": "world/: the simulated dataset",
  "svlr_tf.evaluation": "evaluation/: accuracies, grounding, attention maps",
  "svlr_tf.data": "data/: prepared format, feature stores, tf.data input",
  "svlr_tf.text": "text/: tokens, tags, question bins, word vectors",
  "svlr_tf.model": "model/: one function per equation",
  "svlr_tf.tables": "tables.py: results tables",
  "svlr_tf.runtime": "runtime/: files, errors, workdir, distribute, provenance",
  "svlr_tf.config": "config.py: the experiment dataclasses",
  "svlr_tf": "svlr_tf/__init__: version, lazy Predictor",
}
W, H, GAP, ROWH, TOP, LEFT = 1180, 0, 22, 64, 70, 150
boxes = {}
for i, layer in enumerate(layers):
  y = TOP + i * (ROWH + GAP)
  n = len(layer); bw = (W - LEFT - 30 - (n - 1) * 20) / n
  for j, u in enumerate(sorted(layer)):
    x = LEFT + j * (bw + 20)
    boxes[u] = (x, y, bw, ROWH)
H = TOP + len(layers) * (ROWH + GAP) + 20
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Arial, sans-serif">',
       '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8a8a8a"/></marker></defs>',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       '<text x="20" y="30" font-size="20" font-weight="bold">svlr_tf: packages and what each may import</text>',
       '<text x="20" y="52" font-size="13" fill="#444">Each box imports only boxes of lower rows (grey arrows: the imports there are today). Checked by tests/test_layers.py.</text>']
for u, targets in sorted(units.items()):
  x, y, bw, bh = boxes[u]
  for tgt in sorted(targets):
    x2, y2, bw2, _ = boxes[tgt]
    out.append(f'<line x1="{x + bw / 2:.0f}" y1="{y + bh:.0f}" x2="{x2 + bw2 / 2:.0f}" y2="{y2:.0f}" stroke="#8a8a8a" stroke-opacity="0.45" stroke-width="1.2" marker-end="url(#a)"/>')
colors = ["#fde2e2", "#fdebd3", "#fff5cc", "#e6f4d7", "#d9f0ef", "#dde8fb", "#e7e0fa", "#f4dff2", "#eeeeee"]
for i, layer in enumerate(layers):
  y = TOP + i * (ROWH + GAP)
  level = len(layers) - 1 - i
  out.append(f'<text x="20" y="{y + ROWH / 2 + 5:.0f}" font-size="13" fill="#555">layer {level}</text>')
  for u in sorted(layer):
    x, y, bw, bh = boxes[u]
    out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{bw:.0f}" height="{bh}" rx="8" fill="{colors[i % len(colors)]}" stroke="#555"/>')
    name = u
    out.append(f'<text x="{x + bw / 2:.0f}" y="{y + 26:.0f}" font-size="15" font-weight="bold" text-anchor="middle">{name}</text>')
    desc = what[u]
    size = 11 if len(desc) * 6.2 < bw else max(8, int(11 * bw / (len(desc) * 6.4)))
    out.append(f'<text x="{x + bw / 2:.0f}" y="{y + 47:.0f}" font-size="{size}" text-anchor="middle" fill="#333">{desc}</text>')
out.append("</svg>")
open(os.path.join(ROOT, "docs", "images", "layers.svg"), "w").write("\n".join(out) + "\n")
print("ok", len(units), sum(map(len, units.values())))
