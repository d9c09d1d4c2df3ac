r"""Table 4: word neighbours before and after joint training (Sec. 5.5).

    python -m reproduce.table4                       # embedded dataset (GloVe 50-d input)
    python -m reproduce.table4 --data_dir DIR --preset paper   # real data (word2vec input)

For each query word, its 5 nearest neighbours by cosine similarity after mean
centring (Sec. 5.5) among the words that can be grounded (class-name words, nouns
and adjectives of VQA questions and answers), in the pretrained input vectors and
in g(w) of Joint SVLR after joint training, side by side.  The Joint SVLR runs are
Table 1's (``--runs runs/table1``): reused when there, trained there otherwise.
Queries: the paper's (column, counter, horn, meat, monitor) where they are
candidates, then the most frequent object and attribute names of Genome train.

So the table is not read by eye alone: the mean WordNet path similarity between a
query and its top-5 neighbours (noun senses; svlr_tf.evaluation.word_neighbours),
for the shown queries and for every single-word class name, input vs g (g: mean ±
std over seeds).  Writes ``table4.json`` and ``table4.md`` into --workdir.
"""

from __future__ import annotations

import numpy as np
from absl import flags

from reproduce import common
from svlr_tf.evaluation import word_neighbours as wn
from svlr_tf.training.grid import Run
from svlr_tf.tables import mean_std

FLAGS = flags.FLAGS
common.define_common_flags("runs/table4")
flags.DEFINE_string("runs", "runs/table1",
                    "Where the Joint SVLR runs live (shared with reproduce.table1).")
flags.DEFINE_integer("k", 5, "Neighbours per query.", lower_bound=1)
flags.adopt_module_key_flags(common)  # list them in --help

ROW = Run("Joint SVLR", "joint_svlr")


def frequency_order(data):
  """Object and attribute names, most Genome train regions first."""
  rec = data.load_recognition("train")
  objects = np.bincount(rec.object_ids, minlength=len(data.objects))
  attributes = np.bincount(rec.attribute_ids, minlength=len(data.attributes))
  by = lambda names, counts: [names[i] for i in np.argsort(-counts, kind="stable")]
  return by(data.objects, objects), by(data.attributes, attributes)


def neighbour_words(vectors, words, queries, k):
  rows = wn.nearest_neighbours(vectors, [words.index(q) for q in queries], k)
  return [[words[j] for j in row] for row in rows]


def main(argv):
  del argv
  if FLAGS.experiments:
    common.fail("--experiments: Table 4 reads the Joint SVLR runs only")
  setup = common.start("Table 4")
  from svlr_tf.training.grid import restore_run
  data = setup.data
  grid = common.run_grid([ROW], setup, workdir=FLAGS.runs, select=False)
  d = grid.config(ROW.label).data
  train = data.load_vqa("train", d.max_question_words, d.max_answer_words, d.num_choices)
  ids = wn.candidate_word_ids(data, [train])
  words = [data.words[i] for i in ids]
  objects, attributes = frequency_order(data)
  queries = wn.choose_queries(words, objects, attributes)
  class_words = sorted({w for w in objects + attributes if w in set(words)})
  if not wn.wordnet_available():
    print("WordNet is not installed: the path-similarity numbers are missing "
          "(apt-get install wordnet-base wordnet-sense-index)", flush=True)

  spaces = {"input": data.word_vectors[ids]}
  for seed in grid.seeds:
    trainer = restore_run(grid.run_dir(ROW.label, seed), data,
                          log=lambda line: print(line, flush=True))
    spaces[f"g seed {seed}"] = np.asarray(trainer.model.word_embedding(ids))
  neighbours, similarity = {}, {}
  for name, vectors in spaces.items():
    shown = neighbour_words(vectors, words, queries, FLAGS.k)
    everything = neighbour_words(vectors, words, class_words, FLAGS.k)
    neighbours[name] = dict(zip(queries, shown))
    similarity[name] = {"shown": wn.neighbour_similarity(queries, shown),
                        "class_names": wn.neighbour_similarity(class_words, everything)}

  g_names = [n for n in spaces if n != "input"]
  summary = {}
  for subset in ("shown", "class_names"):
    values = [similarity[n][subset]["mean"] for n in g_names]
    values = [v for v in values if v is not None]
    summary[subset] = {"input": similarity["input"][subset]["mean"],
                       # 4 decimals: 2 would round a 0.004 spread over seeds to 0
                       "g": mean_std(values, digits=4) if values else None}
  first = g_names[0]
  overlap = np.mean([len(set(neighbours["input"][q]) & set(neighbours[first][q]))
                     / FLAGS.k for q in queries])
  out = {
      "dataset": setup.dataset, "word_vectors": data.meta.get("word_vectors", ""),
      "k": FLAGS.k, "candidates": len(words), "queries": queries,
      "class_name_queries": len(class_words), "seeds": list(grid.seeds),
      "neighbours": neighbours, "wordnet_path_similarity": similarity,
      "summary": summary, "shown_seed": first,
      "overlap_input_g": round(float(overlap), 3),
      "paper": {q: {"word2vec": a, "SVLR": b} for q, (a, b) in wn.PAPER_TABLE4.items()},
  }
  text = render(out)
  common.write_results("table4", out, text)


def _fmt(x):
  if x is None:
    return "n/a"
  if isinstance(x, (list, tuple)):
    return "n/a" if x[0] is None else (f"{x[0]:.3f}" if x[1] is None
                                       else f"{x[0]:.3f} ± {x[1]:.3f}")
  return f"{x:.3f}"


def render(out) -> str:
  vectors = out["word_vectors"] or "pretrained"
  g = out["shown_seed"]
  lines = [f"Table 4 on {out['dataset']}: {out['k']} nearest neighbours (cosine after "
           f"mean centring) among {out['candidates']} groundable words; input = "
           f"{vectors} vectors, g = Joint SVLR ({g}).", "",
           f"| word | input ({vectors}) | g after joint training |", "|---|---|---|"]
  for q in out["queries"]:
    lines.append(f"| {q} | {', '.join(out['neighbours']['input'][q])} | "
                 f"{', '.join(out['neighbours'][g][q])} |")
  s = out["summary"]
  lines += ["", "Mean WordNet path similarity of a query to its top-"
            f"{out['k']} neighbours (noun senses; higher = closer in WordNet), "
            f"g over seeds {out['seeds']}:", "",
            "| queries | input | g |", "|---|---:|---:|",
            f"| the {len(out['queries'])} above | {_fmt(s['shown']['input'])} | "
            f"{_fmt(s['shown']['g'])} |",
            f"| all {out['class_name_queries']} single-word class names | "
            f"{_fmt(s['class_names']['input'])} | {_fmt(s['class_names']['g'])} |", "",
            f"Neighbours shared by input and g ({g}): "
            f"{100 * out['overlap_input_g']:.0f}%.", "",
            "The paper's Table 4 (real data):", "",
            "| word | word2vec | SVLR |", "|---|---|---|"] + [
                f"| {q} | {', '.join(v['word2vec'])} | {', '.join(v['SVLR'])} |"
                for q, v in out["paper"].items()]
  return "\n".join(lines) + "\n"


if __name__ == "__main__":
  common.run(main)
