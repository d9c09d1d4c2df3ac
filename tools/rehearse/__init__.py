r"""A rehearsal of the real-data recipe at a fraction of its size, measured.

    python -m tools.rehearse --fraction 1/16 --dir /scratch/rehearse-16 --steps 30
    python -m tools.rehearse --fit a.json,b.json     # grow the figures to full size

Writes synthetic inputs in the released layouts (``tools.rehearse.inputs``),
runs the real tools on them as subprocesses in the recipe's order
(docs/real_data.md), and records each stage's wall time, CPU time, peak
resident memory and disk, plus training's time to the first step and steady
step time, in ``<dir>/rehearsal.json`` and a printed table. ``--fit`` fits each
figure linearly in the fraction (y = a + b x fraction, least squares) and prints
the full-size table of docs/real_data.md.
"""
