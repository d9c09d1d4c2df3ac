r"""Fig. 4 / Fig. 6: what the models look at, as pictures (Sec. 5.4).

    python -m reproduce.attention                       # embedded world, 12 questions
    python -m reproduce.attention --num_questions 24 --pick_seed 1
    python -m reproduce.attention --data_dir DIR --preset paper   # real COCO pictures

For N test questions (chosen across question types, seeded), draws the image
(the world's picture, or the COCO image with --data_dir) with its regions shaded
by each model's attention a(R) (Eq. 4) for its own predicted answer, the top
regions outlined with their weight, the question, the true answer, and each
model's answer (green right, red wrong): Joint SVLR beside VQA Only and Joint
Multitask, seed 0. Writes <workdir>/attention/q<question_id>.png,
attention/index.md (all pictures) and attention.json.

Uses the trained runs of ``reproduce.table1`` at the same --workdir (default
runs/table1): finished runs are reused, missing ones are trained first.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from reproduce import common
from svlr_tf.training.grid import Run

FLAGS = flags.FLAGS
common.define_common_flags("runs/table1")
flags.DEFINE_integer("num_questions", 12, "Questions to draw.", lower_bound=1)
flags.DEFINE_integer("pick_seed", 0, "Seed of the choice of questions.")
flags.adopt_module_key_flags(common)

# Table 1's rows with attention (same names and experiments: its runs are reused).
ROWS = (
    Run("Joint SVLR", "joint_svlr"),
    Run("VQA Only", "vqa_only"),
    Run("Joint Multitask", "joint_multitask"),
)


def index_markdown(entries, dataset: str) -> str:
  lines = [f"# What the models look at ({dataset})", "",
           "Each picture: the image with its regions shaded by a model's attention "
           "a(R) (Eq. 4) for the answer it chose; the three highest regions are "
           "outlined with their weight. Green: right answer, red: wrong.", ""]
  for e in entries:
    answers = "; ".join(f"{k}: {v['predicted']}{'' if v['correct'] else ' (wrong)'}"
                        for k, v in e["models"].items())
    lines += [f"## {e['question']} (true: {e['answer']})", "",
              f"question {e['question_id']}, type \"{e['question_type']}\"; {answers}",
              "", f"![question {e['question_id']}]({e['file']})", ""]
  return "\n".join(lines)


def main(argv):
  del argv
  setup = common.start("Attention pictures (Fig. 4 / 6)")
  from svlr_tf.data.boxes import load_boxes
  from svlr_tf.evaluation.attention_maps import pick_questions, split_attention
  from svlr_tf.runtime.files import atomic_write_text, iter_jsonl
  from svlr_tf.training.grid import restore_run
  from svlr_tf.viz import draw
  from svlr_tf.viz.attention_figure import Panel, question_figure
  from svlr_tf.world.picture import load_picture

  data_dir = setup.data.data_dir
  records = [r for _, r in iter_jsonl(os.path.join(data_dir, "vqa", "test.jsonl"))]
  picked = pick_questions(records, FLAGS.num_questions, FLAGS.pick_seed)
  boxes = load_boxes(data_dir, "vqa", {r["image_id"] for r in picked})
  print(f"{len(picked)} test questions of {len({r['question_type'] for r in picked})} "
        f"question types (pick seed {FLAGS.pick_seed})", flush=True)
  grid = common.run_grid(ROWS, setup)
  print(common.reuse_note(grid), flush=True)
  seed = grid.seeds[0]
  views = {}
  for row in grid.rows:
    trainer = restore_run(grid.run_dir(row.label, seed), setup.data)
    views[row.label] = split_attention(trainer, "test", [r["question_id"] for r in picked])

  out_dir = os.path.join(FLAGS.workdir, "attention")
  entries = []
  for r in picked:
    entry = boxes[r["image_id"]]
    image = load_picture(entry.file) if entry.file else None
    panels, models = [], {}
    for label, view in views.items():
      i = int(np.flatnonzero(view.question_ids == r["question_id"])[0])
      predicted = r["choices"][int(view.predicted[i])]
      correct = bool(view.predicted[i] == view.label[i])
      panels.append(Panel(label, view.attention_predicted[i], predicted, correct))
      models[label] = {"predicted": predicted, "correct": correct}
    fig = question_figure(image, entry.boxes, r["question"], r["answer"], panels,
                          image_size=(entry.width, entry.height),
                          caption=f"image {r['image_id']}, question {r['question_id']}, "
                                  f"seed {seed}" + ("" if image is not None
                                                    else " (picture not found)"))
    name = f"q{r['question_id']}.png"
    draw.save_png(fig, os.path.join(out_dir, name))
    entries.append({"question_id": r["question_id"], "image_id": r["image_id"],
                    "question": r["question"], "question_type": r["question_type"],
                    "answer": r["answer"], "file": name, "models": models})
    print(f"wrote {os.path.join(out_dir, name)}", flush=True)
  atomic_write_text(os.path.join(out_dir, "index.md"),
                    index_markdown(entries, setup.dataset))
  common.write_results("attention", {"dataset": setup.dataset, "seed": seed,
                                     "pick_seed": FLAGS.pick_seed, "questions": entries})
  print(f"index: {os.path.join(out_dir, 'index.md')}", flush=True)


if __name__ == "__main__":
  common.run(main)
