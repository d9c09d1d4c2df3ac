"""reproduce.sensitivity at the tiny preset: two points of the grid, four rows."""

import json
import os

import pytest

from tests.training.test_entry_points import _run


@pytest.mark.slow
def test_sensitivity_tiny_two_points_and_reuse(tmp_path):
  args = ["-m", "reproduce.sensitivity", "--preset", "tiny", "--seeds", "1",
          "--steps", "4", "--points", "x1,x4", "--workdir", str(tmp_path / "s")]
  proc = _run(args, cwd=tmp_path, timeout=1800)  # 8 tiny runs and 2 worlds
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = json.load(open(tmp_path / "s" / "sensitivity.json"))
  assert list(out["points"]) == ["x1", "x4"]
  for point in out["points"].values():
    claims = [d["claim"] for d in point["paired_differences"]]
    assert claims == ["VQA Only - Language Only", "Joint Multitask - VQA Only",
                      "Joint SVLR - VQA Only"]
    assert set(point["heldout"]) == {"Language Only", "VQA Only", "Joint Multitask",
                                     "Joint SVLR"}
  # The x4 world has four times the VQA train questions, the same held-out split size.
  counts = {}
  for name in ("x1", "x4"):
    data_dir = out["points"][name]["data_dir"]
    counts[name] = {split: sum(1 for _ in open(os.path.join(data_dir, "vqa",
                                                            f"{split}.jsonl")))
                    for split in ("train", "heldout")}
  assert counts["x4"]["train"] == 4 * counts["x1"]["train"]
  assert counts["x4"]["heldout"] == counts["x1"]["heldout"]
  table = (tmp_path / "s" / "sensitivity.md").read_text()
  assert "| x1 | x1 | preset |" in table and "| x4 | x4 | preset |" in table
  again = _run(args, cwd=tmp_path, timeout=900)
  assert again.returncode == 0, again.stderr[-3000:]
  assert again.stdout.count("done already") == 8  # every run reused


def test_sensitivity_refuses_an_unknown_point(tmp_path):
  proc = _run(["-m", "reproduce.sensitivity", "--preset", "tiny", "--points", "x3",
               "--workdir", str(tmp_path / "s")], cwd=tmp_path)
  assert proc.returncode == 1 and "--points: unknown ['x3']" in proc.stderr
