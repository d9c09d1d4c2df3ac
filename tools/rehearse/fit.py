"""Tables of rehearsal records, and the linear fit to full size.

Each figure y of a stage (wall seconds, peak MB, disk MB, seconds to the first
training step, seconds per steady step) is fitted as y = a + b * fraction by
least squares over the rehearsals' fractions and evaluated at fraction 1. With
two fractions the line goes through both points.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

FIGURES = (("wall_s", "wall s"), ("cpu_s", "CPU s"), ("peak_rss_mb", "peak MB"), ("disk_added_mb", "disk MB"),
           ("first_step_s", "1st step s"), ("steady_step_s", "step s"),
           ("after_training_s", "eval s"))


def _fmt(value) -> str:
  if value is None:
    return "-"
  return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def stage_line(stage: dict) -> str:
  extra = ""
  if stage.get("first_step_s") is not None:
    extra = (f", first step at {stage['first_step_s']:.1f} s, steady "
             f"{_fmt(stage.get('steady_step_s'))} s/step")
  return (f"{stage['stage']}: {stage['wall_s']:.1f} s wall, {stage['cpu_s']:.1f} s CPU, "
          f"peak {stage['peak_rss_mb']:.0f} MB, +{stage['disk_added_mb']:.0f} MB disk, "
          f"load {stage['load_before']}-{stage['load_after']}{extra}")


def table(records: List[dict]) -> str:
  """One markdown table: a row per stage, a column group per record."""
  head = "| stage | " + " | ".join(
      f"{label} @{r['fraction']:.4g}" for r in records for _, label in FIGURES) + " |"
  lines = [head, "|" + "---|" * (1 + len(records) * len(FIGURES))]
  for name in _stage_names(records):
    cells = []
    for r in records:
      stage = _stage(r, name) or {}
      cells += [_fmt(stage.get(key)) for key, _ in FIGURES]
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def _stage_names(records):
  names = []
  for r in records:
    for s in r["stages"]:
      if s["stage"] not in names:
        names.append(s["stage"])
  return names


def _stage(record: dict, name: str) -> Optional[dict]:
  return next((s for s in record["stages"] if s["stage"] == name), None)


def linear_fit(xs, ys) -> Dict[str, float]:
  """y = a + b x by least squares; its value at x = 1 and the largest residual."""
  xs, ys = np.asarray(xs, float), np.asarray(ys, float)
  if len(set(xs.tolist())) < 2:
    raise ValueError("a fit needs two or more different fractions")
  b, a = np.polyfit(xs, ys, 1)
  residual = float(np.max(np.abs(a + b * xs - ys)))
  return {"a": float(a), "b": float(b), "at_full": float(a + b), "max_residual": residual}


def full_size(records: List[dict]) -> Dict[str, Dict[str, dict]]:
  """{stage: {figure: fit}} over the records (sorted by fraction)."""
  records = sorted(records, key=lambda r: r["fraction"])
  out = {}
  for name in _stage_names(records):
    out[name] = {}
    for key, _ in FIGURES:
      if key == "steady_step_s":  # per batch: no data size in it, only the load
        continue
      points = [(r["fraction"], _stage(r, name).get(key)) for r in records
                if _stage(r, name) and _stage(r, name).get(key) is not None]
      if len({x for x, _ in points}) < 2:
        continue
      fitted = linear_fit(*zip(*points))
      measured = [y for x, y in points if x == 1.0]
      fitted["measured"] = measured[0] if measured else None
      fitted["points"] = points
      out[name][key] = fitted
  return out


def full_size_table(records: List[dict]) -> str:
  """The per-stage measurements and the full-size values (markdown)."""
  fits = full_size(records)
  records = sorted(records, key=lambda r: r["fraction"])
  lines = [table(records), "",
           "| stage | RAM at full size (GB) | disk at full size (GB) | hours at full size "
           "(wall, under the load below) | CPU hours at full size | per fraction: peak MB "
           "/ wall s |",
           "|---|---|---|---|---|---|"]
  for name, figures in fits.items():
    def cell(key, scale):
      fitted = figures.get(key)
      if fitted is None:
        return "-"
      if fitted["measured"] is not None:
        return f"{fitted['measured'] * scale:.3g} (measured)"
      return f"{max(fitted['at_full'], 0) * scale:.3g} (extrapolated)"
    points = "; ".join(
        f"{r['fraction']:.4g}: {_fmt((_stage(r, name) or {}).get('peak_rss_mb'))} / "
        f"{_fmt((_stage(r, name) or {}).get('wall_s'))}" for r in records)
    lines.append(f"| {name} | {cell('peak_rss_mb', 1 / 1024)} | "
                 f"{cell('disk_added_mb', 1 / 1024)} | {cell('wall_s', 1 / 3600)} | "
                 f"{cell('cpu_s', 1 / 3600)} | {points} |")
  loads = [f"{r['fraction']:.4g}: load {min(s['load_before'] for s in r['stages'])}-"
           f"{max(s['load_after'] for s in r['stages'])}, nice {r.get('nice', 0)}, "
           f"{r.get('cpus')} CPUs" for r in records]
  lines += ["", "Measured under: " + "; ".join(loads)]
  for name, figures in fits.items():
    steps = [f"{r['fraction']:.4g}: {_fmt(_stage(r, name).get('steady_step_s'))} s "
             f"(load {_stage(r, name)['load_before']}-{_stage(r, name)['load_after']})"
             for r in records if _stage(r, name) and _stage(r, name).get("steady_step_s")]
    if steps:
      lines.append(f"{name} steady step (measured, not fitted): " + "; ".join(steps))
    for key in ("first_step_s", "after_training_s"):
      if key in figures:
        f = figures[key]
        lines.append(f"{name} {key}: {f['a']:.3g} + {f['b']:.3g} x fraction -> "
                     f"{f['at_full']:.3g} at full size")
  return "\n".join(lines)
