"""Short single-purpose modules: none outside tests reaches 600 lines (issue 27.5:
tools/prepare_genome.py was split along its jobs into tools/genome/)."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = 600


def test_no_module_outside_tests_reaches_600_lines():
  long = {}
  for package in ("svlr_tf", "tools", "reproduce"):
    for directory, _, files in os.walk(os.path.join(ROOT, package)):
      for name in files:
        if name.endswith(".py"):
          path = os.path.join(directory, name)
          with open(path, encoding="utf-8") as f:
            lines = sum(1 for _ in f)
          if lines >= LIMIT:
            long[os.path.relpath(path, ROOT)] = lines
  assert not long, f"modules of {LIMIT} lines or more: {long}"
