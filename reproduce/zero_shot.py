r"""Zero-shot VQA (Sec. 3.4, Sec. 5.2): recognition training only, VQA by Eq. 9.

    python -m reproduce.zero_shot                    # embedded dataset, 3 seeds
    python -m reproduce.zero_shot --data_dir DIR --preset paper

The SVLR module is trained on Genome object and attribute labels only (the
``genome_only`` experiment: alpha_ans = 0); no question or answer is seen.  Each of
the 18 choices of a test question is scored by Eq. 9 and the best one is the
prediction.  Prints official accuracy per question type next to chance (a uniformly
random choice scored with the official metric; 1/18 = 5.56% when exactly one choice
matches the humans) and writes ``zero_shot.json`` into --workdir.
Paper (real VQA v1 val): 16.4% overall against 5.6% chance.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from reproduce import common

FLAGS = flags.FLAGS
common.define_common_flags("runs/zero_shot")
flags.adopt_module_key_flags(common)  # list them in --help


def main(argv):
  del argv
  data, strategy, dataset = common.start()
  from svlr_tf.experiment import config_for_data, run_experiment
  from svlr_tf.trainer import VQAScorer

  per_seed = []
  for seed in range(FLAGS.seeds):
    cfg = config_for_data(FLAGS.preset, "genome_only", data, seed, FLAGS.steps)
    workdir = os.path.join(FLAGS.workdir, f"seed{seed}", "genome_only")
    print(f"== Genome only (seed {seed}) -> {workdir}", flush=True)
    per_seed.append(run_experiment(cfg, data, workdir, strategy=strategy,
                                   log=lambda line: print(line, flush=True),
                                   zero_shot=True))

  # Chance per question type: the mean official accuracy of the 18 choices.
  test = data.load_vqa("test", cfg.data.max_question_words, cfg.data.max_answer_words,
                       cfg.data.num_choices)
  scorer = VQAScorer(test)
  types = np.asarray(test.question_type_names)[test.question_type]
  chance = {t: round(100.0 * float(scorer.choice_accuracy[types == t].mean()), 2)
            for t in sorted(set(types.tolist()))}
  chance["Overall"] = scorer.chance()

  columns = sorted(chance, key=lambda t: (t == "Overall", -(types == t).sum()))
  acc = {}
  for col in columns:
    values = [r["zero_shot_test"]["overall"] if col == "Overall"
              else r["zero_shot_test"]["per_question_type"].get(col) for r in per_seed]
    acc[col] = common.mean_std([v for v in values if v is not None])
  out = {
      "columns": columns,
      "zero_shot": {c: acc[c][0] for c in columns},
      "std": {c: acc[c][1] for c in columns},
      "chance": chance,
      "seeds": list(range(FLAGS.seeds)),
      "recognition_test": [{k: v for k, v in r["recognition_test"].items()
                            if k != "object_accuracy_per_class"} for r in per_seed],
      "dataset": dataset,
      "config": cfg.to_dict(),
      "paper": {"Overall": 16.4, "chance": 5.6},
  }
  common.write_results("zero_shot", out)
  print(f"\nZero-shot VQA on {out['dataset']} (official accuracy %, test split, "
        f"seeds {out['seeds']}):")
  print(common.markdown_table(columns, {"Zero-Shot VQA": out["zero_shot"],
                                        "Chance": chance},
                              {"Zero-Shot VQA": out["std"]}))
  print("Paper (real VQA v1 val): 16.4 overall, chance 5.6.")


if __name__ == "__main__":
  common.run(main)
