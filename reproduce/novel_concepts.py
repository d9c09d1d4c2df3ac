r"""Beyond the paper: concepts never seen in VQA training (docs/novel_concepts.md).

    python -m reproduce.novel_concepts                        # embedded world, 3 seeds
    python -m reproduce.novel_concepts --preset tiny --seeds 1 --steps 20   # smoke test
    python -m reproduce.novel_concepts --data_dir DIR --preset paper        # real data
    python -m reproduce.novel_concepts --k 12 --concept_seed 1

K concepts (single-word object and attribute classes with Genome training
regions, one drawn with --concept_seed from each of K Genome-frequency strata)
are held out of VQA: every train and held-out question whose question, answer or
human answers name one is removed, and the distractor choices of the remaining
ones that name one are replaced by other training answers
(``svlr_tf.data.novel_concepts``).  The Genome splits are unchanged.  The rows of
Table 1 are trained on that split, and the test split is scored in two columns:
the questions that name a held-out concept ("novel") and the others ("seen").
Below: paired differences with 95% intervals over seeds and test questions
(``svlr_tf.evaluation.paired``).  The split is a derived prepared directory
``<workdir>/k<K>-seed<S>/data`` and the runs are beside it, so they are reused by
the same command and never meet Table 1's.  Writes ``novel_concepts.json`` and
``.md`` into --workdir.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from reproduce import common
from reproduce.registry import NOVEL_CONCEPTS
from svlr_tf.evaluation import paired
from svlr_tf.tables import Table, over_seeds

FLAGS = flags.FLAGS

# Its rows (Table 1's of the paper) and work directory: reproduce/registry.py
# (NOVEL_CONCEPTS).
KEY = NOVEL_CONCEPTS.key
ROWS = NOVEL_CONCEPTS.rows
NOVEL, SEEN = "novel", "seen"
CLAIMS = {   # column -> paired differences on its questions
    NOVEL: (paired.Claim("Joint SVLR", "VQA Only"),
            paired.Claim("Joint SVLR", "Joint Multitask"),
            paired.Claim("Joint Multitask", "VQA Only"),
            paired.Claim("Zero-Shot VQA", paired.CHANCE)),
    SEEN: (paired.Claim("Joint SVLR", "VQA Only"),
           paired.Claim("Joint SVLR", "Joint Multitask")),
}
# Default K per preset: the default world's K gives thousands of novel test
# questions (measured: docs/novel_concepts.md); tiny: a non-empty column.
DEFAULT_K = {"tiny": 3, "default": 12, "paper": 40}
# ------------------------------------------------------------------------------------

def define_flags():
  flags.DEFINE_integer("k", None, "Held-out concepts (default per preset: "
                       f"{DEFAULT_K}).", lower_bound=1)
  flags.DEFINE_integer("concept_seed", 0, "Seed of the choice of held-out concepts "
                       "and of the replacement distractors.", lower_bound=0)


def held_out_split(setup):
  """(the derived split's Setup, its directory, its record)."""
  from svlr_tf.data import novel_concepts as nc
  from svlr_tf.data.prepared import PreparedData
  k = FLAGS.k or DEFAULT_K[FLAGS.preset]
  try:
    concepts = nc.choose(nc.candidates(setup.data), k, FLAGS.concept_seed)
  except ValueError as e:
    common.fail(str(e))
  where = os.path.join(FLAGS.workdir, f"k{k}-seed{FLAGS.concept_seed}")
  record = nc.derive(setup.data, os.path.join(where, "data"), concepts, k,
                     FLAGS.concept_seed, log=lambda line: print(line, flush=True))
  data = PreparedData(os.path.join(where, "data"))
  from svlr_tf.presets import preset_config
  common.check_data(data, preset_config(FLAGS.preset).replace(
      **common.overrides()).data)
  print("Held out: " + ", ".join(f"{c['word']} ({c['genome_regions']})"
                                 for c in record["concepts"]), flush=True)
  return common.Setup(data, setup.strategy, setup.dataset), where, record


def tables(grid, questions, novel, seeds):
  """({column: Table}, {column: claims JSON}, Markdown of the claims)."""
  from svlr_tf.data.novel_concepts import type_accuracy
  accuracy = paired.grid_accuracies(grid, questions)
  types = questions.question_types
  columns = [t for t, _ in sorted(((t, -(types == t).sum()) for t in set(types)),
                                  key=lambda x: (x[1], x[0]))] + ["Overall"]
  out, claims, text = {}, {}, ""
  for name, mask in ((NOVEL, novel), (SEEN, ~novel)):
    per_seed = {}
    for row in grid.rows:
      cells = type_accuracy(accuracy[row.label], types, mask, columns)
      per_seed[row.label] = {str(s): {c: v[i] for c, v in cells.items() if v}
                             for i, s in enumerate(seeds)}
    shown = [c for c in columns if c == "Overall" or (mask & (types == c)).any()]
    out[name] = Table(f"Column \"{name}\": {int(mask.sum())} test questions, official "
                      f"accuracy (%), {over_seeds(seeds)}.", shown, per_seed)
    if not mask.any():
      claims[name] = []
      continue
    keep = np.flatnonzero(mask)
    subset = paired.TestQuestions([questions.question_ids[i] for i in keep],
                                  questions.human_answers, types[keep],
                                  questions.chance[keep])
    claims[name] = paired.claim_differences(
        CLAIMS[name], {k: v[:, keep] for k, v in accuracy.items()}, subset)
    text += "\n" + paired.markdown(
        claims[name], f"Paired differences on the {name} column (row A - row B, "
        f"points), 95% intervals over seeds {seeds} and its questions:")
  return out, claims, text


def main(argv):
  del argv
  source = common.start(NOVEL_CONCEPTS)
  setup, where, record = held_out_split(source)
  grid = common.run_grid(ROWS, setup, workdir=where)

  from svlr_tf.data.novel_concepts import forms_of, Concept, novel_mask
  from svlr_tf.runtime.files import iter_jsonl
  test = sorted((r for _, r in iter_jsonl(setup.data.path("vqa", "test.jsonl"))),
                key=lambda r: r["question_id"])
  questions = paired.TestQuestions.from_records(test)
  forms = forms_of(Concept(c["word"], tuple(c["classes"]), tuple(c["forms"]),
                           c["genome_regions"]) for c in record["concepts"])
  novel = novel_mask(test, forms)
  seeds = list(grid.seeds)
  by_column, claims, claims_text = tables(grid, questions, novel, seeds)
  concepts = ", ".join(f"{c['word']} ({c['genome_regions']} Genome regions)"
                       for c in record["concepts"])
  head = (f"Held-out concepts on {setup.dataset}: K={record['k']}, concept seed "
          f"{record['seed']}: {concepts}.\nVQA questions kept: train "
          f"{record['counts']['train']['kept']} of {record['counts']['train']['questions']}"
          f", held-out {record['counts']['heldout']['kept']} of "
          f"{record['counts']['heldout']['questions']}; distractors replaced: train "
          f"{record['counts']['train']['distractors_replaced']}, held-out "
          f"{record['counts']['heldout']['distractors_replaced']}.\n\n")
  markdown = head + "\n".join(t.markdown() for t in by_column.values()) + claims_text
  text = head + "\n".join(t.text() for t in by_column.values()) + claims_text
  notes = common.stale_note(grid)
  results = {"split": record, "workdir": where, "dataset": setup.dataset,
             "columns": {name: t.to_json() for name, t in by_column.items()},
             "paired_differences": claims,
             "config": grid.config(grid.rows[0].label).to_dict()}
  common.write_results(KEY, results, markdown + notes, text + notes)


if __name__ == "__main__":
  common.run(main, NOVEL_CONCEPTS, define_flags)
