"""The questions of the simulated world: VQA v1-style templates asked about a VQA
image, with 10 human answers and 18 multiple-choice options, and the official
question types.
"""

from __future__ import annotations

import os
from typing import Dict, List

import numpy as np

from svlr_tf.text.questions import question_type_of
from svlr_tf.world.appearance import Instance
from svlr_tf.world.classes import Classes
from svlr_tf.world.config import WorldConfig
from svlr_tf.world.images import VQAImage

QUESTION_TYPES_PATH = os.path.join(os.path.dirname(__file__), "question_types.txt")
# Counting questions ask about a class seen several times in the image with this
# probability (VQA v1: "2" is the most common count).
COUNT_MULTI_PREFERENCE = 0.7
# VQA v1's most popular answers (the "popular" multiple-choice options).
POPULAR_ANSWERS = ("yes", "no", "2", "1", "white", "3", "red", "blue", "black", "4")


def load_question_types(path: str = QUESTION_TYPES_PATH) -> List[str]:
  with open(path, encoding="utf-8") as f:
    return [line.strip() for line in f if line.strip()]


_IRREGULAR = {"man": "men", "woman": "women", "child": "children", "person": "people",
              "sheep": "sheep", "leaf": "leaves", "shelf": "shelves", "knife": "knives",
              "foot": "feet", "tooth": "teeth", "mouse": "mice", "fish": "fish",
              "deer": "deer", "broccoli": "broccoli", "clothing": "clothing",
              "furniture": "furniture", "food": "food", "grass": "grass",
              "bread": "bread", "cheese": "cheese"}


def plural(noun: str) -> str:
  if noun in _IRREGULAR:
    return _IRREGULAR[noun]
  if noun.endswith(("s", "sh", "ch", "x", "z")):
    return noun + "es"
  if noun.endswith("y") and noun[-2:-1] not in "aeiou":
    return noun[:-1] + "ies"
  return noun + "s"


def article(noun: str) -> str:
  return "an" if noun[0] in "aeiou" else "a"


class QuestionMaker:
  """Asks VQA v1-style questions about a VQA image (templates -> raw questions).

  A raw question is a dict: question, question_type, answer_type, answer (the
  most common human answer), answers (10 human answers), choices (18), template,
  target (class), asks_about (the class the question is about if it is in the
  image, else None: "is there a X" with X absent).
  """

  def __init__(self, cfg: WorldConfig, classes: Classes):
    self.cfg, self.classes = cfg, classes
    self.types = load_question_types()
    self.templates = [t for t, _ in cfg.template_weights]
    w = np.array([w for _, w in cfg.template_weights])
    self.template_p = w / w.sum()
    self.agreement = dict(cfg.human_agreement)
    a = classes.attributes
    self.pools = {g: [a[t] for t in range(len(a)) if classes.attribute_groups[t] == g]
                  for g in set(classes.attribute_groups)}
    self.numbers = [str(i) for i in range(0, 11)]
    self.objects = list(classes.objects)
    self.answer_pool = sorted(set(self.objects) | set(a) | set(self.numbers)
                              | {"yes", "no"})
    self.kind_nouns = [k for k in ("person", "animal", "vehicle", "furniture", "food",
                                   "clothing", "plant", "structure", "fruit",
                                   "vegetable", "bird", "device", "container",
                                   "building") if k in classes.objects]

  # Each _t_* returns (question, answer, answer_type, plausible answers[, target])
  # or None when the template does not apply to the image / class.
  def _present(self, img: VQAImage) -> List[int]:
    return sorted({i.cls for i in img.instances})

  def _first(self, img: VQAImage, cls: int) -> Instance:
    return next(i for i in img.instances if i.cls == cls)

  def _group_answer(self, inst: Instance, group: str):
    vals = [t for t in inst.attributes if self.classes.attribute_groups[t] == group]
    return self.classes.attributes[vals[0]] if vals else None

  def _prior_plausible(self, cls: int, group: str, rng, n: int = 5) -> List[str]:
    ids = self.classes.group_values[cls].get(group)
    pool = self.pools.get(group, [])
    if ids is not None:
      p = self.classes.group_priors[cls][group]
      k = min(n, len(ids))
      return [self.classes.attributes[t] for t in rng.choice(ids, k, replace=False, p=p)]
    return list(rng.permutation(pool)[:n]) if pool else []

  def _t_color(self, img, cls, rng):
    inst = self._first(img, cls)
    ans = self._group_answer(inst, "color")
    if ans is None:
      return None
    name = self.classes.objects[cls]
    q = (f"What color is the {name}?" if rng.random() < 0.85
         else f"What is the color of the {name}?")
    return q, ans, "other", self._prior_plausible(cls, "color", rng)

  def _t_material(self, img, cls, rng):
    ans = self._group_answer(self._first(img, cls), "material")
    if ans is None:
      return None
    name = self.classes.objects[cls]
    return (f"What is the {name} made of?", ans, "other",
            self._prior_plausible(cls, "material", rng))

  def _t_doing(self, img, cls, rng):
    ans = self._group_answer(self._first(img, cls), "pose")
    if ans is None or self.classes.object_kinds[cls] not in ("person", "animal"):
      return None
    name = self.classes.objects[cls]
    return (f"What is the {name} doing?", ans, "other",
            self._prior_plausible(cls, "pose", rng))

  def _hypernym_kind(self, cls):
    name = self.classes.objects[cls]
    hs = [h for h in self.classes.object_hypernyms.get(name, []) if h in self.kind_nouns]
    kind = self.classes.object_kinds[cls]
    if kind in hs:
      return kind
    return hs[0] if hs else None

  def _t_kind(self, img, cls, rng):
    h = self._hypernym_kind(cls)
    if h is None:
      return None
    word = "kind" if rng.random() < 0.6 else "type"
    same = [self.classes.objects[c] for c in range(len(self.objects))
            if h in self.classes.object_hypernyms.get(self.classes.objects[c], [])]
    plaus = list(rng.permutation(same)[:6])
    return f"What {word} of {h} is this?", self.classes.objects[cls], "other", plaus

  def _t_animal(self, img, cls, rng):
    if self.classes.object_kinds[cls] != "animal" or "animal" not in self.objects:
      return None
    same = [o for c, o in enumerate(self.objects) if self.classes.object_kinds[c] == "animal"]
    return ("What animal is this?", self.classes.objects[cls], "other",
            list(rng.permutation(same)[:6]))

  def _t_this(self, img, cls, rng):
    main = img.instances[0].cls
    plaus = list(rng.choice(self.objects, 5, replace=False,
                            p=self.classes.vqa_weights))
    return "What is this?", self.classes.objects[main], "other", plaus

  def _t_on(self, img, cls, rng):
    present = [c for c in self._present(img) if c != cls]
    if not present:
      return None
    ans = self.classes.objects[int(rng.choice(present))]
    plaus = list(rng.choice(self.objects, 5, replace=False, p=self.classes.vqa_weights))
    return f"What is on the {self.classes.objects[cls]}?", ans, "other", plaus

  def _t_count(self, img, cls, rng):
    multi = [c for c in self._present(img)
             if sum(1 for i in img.instances if i.cls == c) > 1]
    if multi and rng.random() < COUNT_MULTI_PREFERENCE:
      cls = int(multi[int(rng.integers(len(multi)))])
    n = sum(1 for i in img.instances if i.cls == cls)
    name = plural(self.classes.objects[cls])
    if name == self.classes.objects[cls]:
      return None  # mass nouns ("furniture") are not counted
    return (f"How many {name} are there?", str(n), "number",
            [str(k) for k in (1, 2, 3, 4, 5)], cls)

  def _absent(self, img, rng) -> int:
    present = set(self._present(img))
    w = self.classes.vqa_weights.copy()
    w[list(present)] = 0
    return int(rng.choice(len(w), p=w / w.sum()))

  def _t_exists(self, img, cls, rng):
    yes = rng.random() < self.cfg.yes_probability
    c = cls if yes else self._absent(img, rng)
    name = self.classes.objects[c]
    if rng.random() < 0.75 or plural(name) == name:
      q = f"Is there {article(name)} {name}?"
    else:
      q = f"Are there any {plural(name)}?"
    return q, "yes" if yes else "no", "yes/no", ["yes", "no"]

  def _t_is_this(self, img, cls, rng):
    yes = rng.random() < self.cfg.yes_probability
    c = cls if yes else self._absent(img, rng)
    name = self.classes.objects[c]
    return f"Is this {article(name)} {name}?", "yes" if yes else "no", "yes/no", ["yes", "no"]

  def _t_attribute(self, img, cls, rng):
    inst = self._first(img, cls)
    groups = [g for g in ("color", "material", "pose", "pattern", "size", "state")
              if self._group_answer(inst, g) is not None]
    if not groups:
      return None
    g = groups[int(rng.integers(len(groups)))]
    true = {self.classes.attributes[t] for t in inst.attributes}
    yes = rng.random() < self.cfg.yes_probability
    if yes:
      value = self._group_answer(inst, g)
    else:
      options = [self.classes.attributes[t] for t in self.classes.group_values[cls][g]
                 if self.classes.attributes[t] not in true]
      if not options:
        return None
      value = options[int(rng.integers(len(options)))]
    name = self.classes.objects[cls]
    return f"Is the {name} {value}?", "yes" if yes else "no", "yes/no", ["yes", "no"]

  def _humans(self, answer: str, answer_type: str, plausible: List[str], rng) -> List[str]:
    agree = self.agreement[answer_type]
    out = []
    for _ in range(10):
      if rng.random() < agree:
        out.append(answer)
      elif answer_type == "yes/no":
        out.append("no" if answer == "yes" else "yes")
      elif answer_type == "number":
        out.append(str(max(0, int(answer) + int(rng.choice([-1, 1])))))
      else:
        alts = [p for p in plausible if p != answer] or [answer]
        out.append(alts[int(rng.integers(len(alts)))])
    return out

  def _choices(self, answer: str, plausible: List[str], humans: List[str], rng) -> List[str]:
    C = self.cfg.num_choices
    out = [answer]
    for a in list(dict.fromkeys(humans)) + list(plausible) + list(POPULAR_ANSWERS):
      if a not in out and len(out) < C:
        out.append(a)
    while len(out) < C:
      a = self.answer_pool[int(rng.integers(len(self.answer_pool)))]
      if a not in out:
        out.append(a)
    return [str(a) for a in rng.permutation(out)]

  def ask(self, img: VQAImage, rng) -> Dict:
    present = self._present(img)
    for _ in range(50):
      template = self.templates[int(rng.choice(len(self.templates), p=self.template_p))]
      cls = int(present[int(rng.integers(len(present)))])
      made = getattr(self, f"_t_{template}")(img, cls, rng)
      if made is not None:
        break
    else:
      made = self._t_exists(img, cls, rng)
      template = "exists"
    question, truth, answer_type, plausible = made[:4]
    if len(made) > 4:  # the template chose its own target
      cls = made[4]
    # The object the question is about, if it is in the image (grounding truth).
    asks_about = self.classes.objects[cls]
    if template == "this":
      asks_about = self.classes.objects[img.instances[0].cls]
    elif template in ("exists", "is_this") and truth == "no":
      asks_about = None  # about an absent class
    plausible = [str(p) for p in plausible]
    humans = self._humans(truth, answer_type, plausible, rng)
    counts = {a: humans.count(a) for a in humans}
    top = max(counts.values())
    answer = truth if counts.get(truth, 0) == top else sorted(
        a for a, c in counts.items() if c == top)[0]
    choices = self._choices(answer, plausible, humans, rng)
    return dict(question=question, question_type=question_type_of(question, self.types),
                answer_type=answer_type, answer=answer, answers=humans,
                choices=choices, label=choices.index(answer), template=template,
                target=self.classes.objects[cls], asks_about=asks_about)
