"""svlr_tf.report: the page collects what is there, names what is missing, and
every figure it links exists and is a valid PNG."""

import json
import os
import re

import numpy as np
import pytest

from reproduce import registry
from svlr_tf.report import events
from svlr_tf.report import page
from svlr_tf.viz import draw, results as figures


def build_report(root, out):
  """The report of the registry's results (as reproduce.report hands them)."""
  return page.build_report(root, out, registry.report_sources(), registry.run_labels())


def _write(path, obj):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    json.dump(obj, f)


def _summaries(logdir, tag, steps, values):
  import tensorflow as tf
  writer = tf.summary.create_file_writer(logdir)
  with writer.as_default():
    for s, v in zip(steps, values):
      tf.summary.scalar(tag, v, step=s)
  writer.flush()


def fake_runs(root):
  cols = ["what color is the", "is the", "Overall"]
  rows = {"VQA Only": [40.0, 60.0, 50.0], "Joint SVLR": [45.0, 61.0, 55.5]}
  _write(f"{root}/table1/table1.json", {
      "columns": cols, "seeds": [0, 1], "dataset": "the embedded simulated dataset",
      "rows": {r: dict(zip(cols, v)) for r, v in rows.items()},
      "std": {r: dict(zip(cols, [1.0, 0.5, 0.25])) for r in rows}, "chance": 8.0})
  with open(f"{root}/table1/table1.md", "w") as f:
    f.write("| | Overall |\n|---|---:|\n| Joint SVLR | 55.50 ± 0.25 |\n")
  run = f"{root}/table1/seed0/joint_svlr"
  _summaries(f"{run}/validation", "vqa_accuracy/overall", [10, 20, 30], [40.0, 52.0, 51.0])
  # A resumed run writes a second event file; a step written twice keeps the last.
  _summaries(f"{run}/validation", "vqa_accuracy/overall", [30, 40], [53.0, 50.0])
  _write(f"{run}/results.json", {"best_step": 30})
  _write(f"{root}/fig5/fig5.json", {
      "dataset": "the embedded simulated dataset",
      "overall": {"Genome only": {"object_accuracy": [44.0, 0.5],
                                  "attribute_accuracy": [39.0, 1.0]},
                  "Joint SVLR (VR)": {"object_accuracy": [45.0, 0.5],
                                      "attribute_accuracy": [39.2, 1.0]}},
      "genome_frequency_edges": [10.0, 20.0], "vqa_bins": [[0, 0], [1, 19], [20, None]],
      "cells": {"vqa2_genome0": {"genome_only_accuracy": 10.0, "change": 2.5,
                                 "classes": 3},
                "vqa0_genome2": {"genome_only_accuracy": 50.0, "change": -0.5,
                                 "classes": 4}},
      "vqa_favoured_classes": {"classes": [], "genome_only_accuracy": None}})
  os.makedirs(f"{root}/table1/attention")
  with open(f"{root}/table1/attention/index.md", "w") as f:
    f.write("# pictures\n")
  fig = draw.new_figure()
  fig.axes[0].plot([0, 1], [0, 1])
  draw.save_png(fig, f"{root}/table1/attention/q1.png")
  with open(f"{root}/table1/attention/broken.png", "wb") as f:
    f.write(b"not a png")


def test_read_scalars_merges_event_files(tmp_path):
  fake_runs(str(tmp_path))
  steps, values = events.read_scalars(
      f"{tmp_path}/table1/seed0/joint_svlr/validation", "vqa_accuracy/overall")
  assert steps.tolist() == [10, 20, 30, 40]
  np.testing.assert_allclose(values, [40.0, 52.0, 53.0, 50.0])
  assert len(events.read_scalars(str(tmp_path / "nothing"), "x")[0]) == 0


def test_report_links_only_valid_pngs_and_names_missing_results(tmp_path):
  root = str(tmp_path / "runs")
  fake_runs(root)
  index, images = build_report(root, f"{root}/report")
  text = open(index).read()
  linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
  assert len(linked) == len(images) >= 4  # bars, heat map, curves, a picture
  for link in linked:
    path = os.path.join(root, "report", link)
    assert os.path.exists(path) and figures.is_png(path), link
  assert "broken.png" not in text
  # Paper beside ours; missing modules with their command.
  assert "| Joint SVLR, Overall | 65.3 | 55.50 ± 0.25 |" in text
  assert "40.0 -> 45.0 (+5.0, \"what color is the\")" in text
  assert "44.00 ± 0.50 -> 45.00 ± 0.50" in text
  assert "`python -m reproduce.table4`" in text
  assert "`python -m reproduce.pretraining`" in text
  assert "simulated" in text
  assert not figures.is_png(f"{root}/table1/attention/broken.png")


def test_report_finds_results_written_in_table1s_directory(tmp_path):
  # reproduce.all runs fig5 in Table 1's directory (to reuse its Genome-only runs).
  root = str(tmp_path / "runs")
  fake_runs(root)
  os.replace(f"{root}/fig5/fig5.json", f"{root}/table1/fig5.json")
  index, images = build_report(root, f"{root}/report")
  text = open(index).read()
  assert "44.00 ± 0.50 -> 45.00 ± 0.50" in text
  assert "`python -m reproduce.fig5`" not in text.split("## Table 1")[0]
  assert sum("curves_" in p for p in images) == 1  # table1/ drawn once


def test_reproduce_report_prints_one_line_without_tensorflows_start_up_log(tmp_path):
  """As the other entry points: TensorFlow (imported by TensorBoard's event reader)
  starts without its C++ start-up log."""
  import subprocess
  import sys
  root = str(tmp_path / "runs")
  fake_runs(root)
  repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  proc = subprocess.run([sys.executable, "-m", "reproduce.report", "--runs_root", root],
                        cwd=tmp_path, env=dict(env, PYTHONPATH=repo),
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.startswith("wrote ") and len(proc.stdout.splitlines()) == 1
  assert proc.stderr == "", proc.stderr


def test_report_names_no_absolute_path_and_links_only_inside_its_directory(tmp_path):
  import shutil
  root = str(tmp_path / "runs")
  fake_runs(root)
  index, images = build_report(root, f"{root}/report")
  text = open(index).read()
  page = open(f"{root}/report/index.html").read()
  for content in (text, page):
    assert str(tmp_path) not in content
  assert "Collected from the runs directory `runs/`" in text
  linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
  assert linked and not [l for l in linked if l.startswith(("..", "/"))]
  assert "figures/attention_q1.png" in linked  # the module's picture, copied
  # The HTML embeds every picture: nothing to resolve, no link out of the page.
  sources = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', page)
  assert len(sources) == len(linked)
  assert all(s.startswith("data:image/png;base64,") for s in sources)
  assert "<table>" in page and '<nav class="contents">' in page
  # A copy elsewhere, the runs gone: the Markdown's links still resolve.
  copy = str(tmp_path / "elsewhere" / "report")
  shutil.copytree(f"{root}/report", copy)
  shutil.rmtree(root)
  for link in linked:
    assert figures.is_png(os.path.join(copy, link)), link


CHROMIUM = "/usr/bin/chromium"
IMAGE_PROBE = """<script>window.addEventListener("load", () => {
  const out = document.createElement("pre"); out.id = "image-probe";
  out.textContent = JSON.stringify([...document.images].map(
      i => [i.complete, i.naturalWidth, i.naturalHeight]));
  document.body.appendChild(out); });</script>"""


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no chromium (apt install chromium)")
def test_a_copied_html_report_shows_every_picture_in_chromium(tmp_path):
  """Headless Chromium opens a copy of index.html in another directory (the runs
  root deleted) and every <img> has loaded (natural width > 0)."""
  import shutil
  import subprocess
  root = str(tmp_path / "runs")
  fake_runs(root)
  _, images = build_report(root, f"{root}/report")
  copy = tmp_path / "copy"
  copy.mkdir()
  shutil.copy(f"{root}/report/index.html", copy / "index.html")
  shutil.rmtree(root)
  page = (copy / "index.html").read_text()
  (copy / "probe.html").write_text(page.replace("</body>", IMAGE_PROBE + "</body>"))
  proc = subprocess.run(
      [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
       f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
       (copy / "probe.html").as_uri()],
      capture_output=True, text=True, timeout=120)
  found = re.search(r'<pre id="image-probe">([^<]*)</pre>', proc.stdout)
  assert found, proc.stderr[-2000:]
  loaded = json.loads(found.group(1))
  assert len(loaded) == len(images) >= 4
  assert all(complete and width > 0 and height > 0 for complete, width, height in loaded)
