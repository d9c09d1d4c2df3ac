"""What code made a result: package versions and the git commit of svlr_tf.

Every results file records :func:`provenance`; a finished run whose record differs
from the running code is *stale* (:func:`stale_reason`): its numbers may not be
what this code gives.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
from typing import Optional

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _git(*args: str) -> Optional[str]:
  try:
    out = subprocess.run(["git", "-C", _ROOT, *args], capture_output=True, timeout=20,
                         check=True)
  except (OSError, subprocess.SubprocessError):
    return None
  return out.stdout.decode("utf-8", "replace")


@functools.lru_cache(maxsize=1)
def provenance() -> dict:
  """{"packages": {tensorflow, keras, numpy, svlr_tf}, "git": {"commit",
  "svlr_tf_tree", "dirty", "diff_sha1"} or None outside a git checkout}.

  ``svlr_tf_tree``: git's hash of the library's directory at the commit (a commit
  that changes only docs, tools or reproduce modules keeps it); ``dirty``: the
  library's tracked files differ from the commit; ``diff_sha1`` identifies that
  difference (two dirty trees with the same diff ran the same code).
  Computed once per process.
  """
  import keras
  import numpy as np
  import tensorflow as tf
  import svlr_tf
  packages = {"tensorflow": tf.__version__, "keras": keras.__version__,
              "numpy": np.__version__, "svlr_tf": svlr_tf.__version__}
  commit = _git("rev-parse", "HEAD")
  git = None
  if commit:
    tree = _git("rev-parse", "HEAD:svlr_tf") or ""
    diff = _git("diff", "HEAD", "--", "svlr_tf") or ""
    git = {"commit": commit.strip(), "svlr_tf_tree": tree.strip(),
           "dirty": bool(diff.strip()),
           "diff_sha1": hashlib.sha1(diff.encode()).hexdigest() if diff.strip() else None}
  return {"packages": packages, "git": git}


def stale_reason(recorded: Optional[dict], current: Optional[dict] = None) -> Optional[str]:
  """None if ``recorded`` (a results file's "provenance") matches ``current``
  (default: this process), else a short description of what differs."""
  current = current or provenance()
  if not recorded:
    return "made before provenance was recorded (unknown code version)"
  changes = []
  for name, version in current["packages"].items():
    old = recorded.get("packages", {}).get(name)
    if old != version:
      changes.append(f"{name} {old} -> {version}")
  old_git, git = recorded.get("git"), current["git"]
  if old_git and git:
    if old_git.get("svlr_tf_tree") != git["svlr_tf_tree"]:
      changes.append(f"svlr_tf changed: git commit {str(old_git.get('commit'))[:10]} "
                     f"-> {git['commit'][:10]}")
    elif old_git.get("diff_sha1") != git["diff_sha1"]:
      changes.append("uncommitted changes differ")
  return "; ".join(changes) or None
