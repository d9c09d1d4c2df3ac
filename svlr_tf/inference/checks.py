"""What ``Predictor.answer`` and ``Predictor.recognize`` accept, checked before the
model runs: one-line ``ValueError`` for a question without words, empty or repeated
choices, no words to score; and what a long question loses to the word window.

The model reads a question as 4 bins of at most ``max_question_words`` (Lq) words
each (question type, nominal subject, other nouns, the rest; Sec. 3.3) plus at most
Lq nouns and Lq adjectives, and an answer as at most ``max_answer_words`` (La)
words (docs/interpretations.md). Longer ones are cut, as in training; the notes
say so instead of leaving it silent.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from svlr_tf import text

BIN_NAMES = ("question-type words", "nominal subject", "other nouns",
             "remaining words")


def check_question(question) -> str:
  """The question as a string; ValueError if it is empty or has no words."""
  if question is None or not str(question).strip():
    raise ValueError("the question is empty")
  question = str(question)
  if not text.tokenize(question):
    raise ValueError(f"the question {_short(question)!r} has no words")
  return question


def check_choices(choices: Sequence) -> List[str]:
  """The choices as strings; ValueError for none, an empty one, one without
  words, or two that the model cannot tell apart (the same words)."""
  if isinstance(choices, str):
    raise ValueError(f"choices must be a list of answers, not the string "
                     f"{_short(choices)!r}")
  choices = [str(c) for c in choices]
  if not choices:
    raise ValueError("no choices to rank")
  seen = {}
  for i, choice in enumerate(choices, 1):
    if not choice.strip():
      raise ValueError(f"choice {i} of {len(choices)} is empty")
    tokens = tuple(text.tokenize(choice))
    if not tokens:
      raise ValueError(f"choice {i} {_short(choice)!r} has no words")
    if tokens in seen:
      raise ValueError(f"choices {seen[tokens]} and {i} are the same answer "
                       f"({choices[seen[tokens] - 1]!r}, {choice!r})")
    seen[tokens] = i
  return choices


def check_words(words: Sequence) -> List[str]:
  """The words or phrases to score; ValueError for none or an empty one."""
  if isinstance(words, str):
    words = [words]
  words = [str(w) for w in words]
  if not words:
    raise ValueError("no words to score")
  for i, word in enumerate(words, 1):
    if not text.tokenize(word):
      raise ValueError(f"word {i} of {len(words)} ({_short(word)!r}) has no letters "
                       "or digits")
  return words


def window_notes(question: "text.QuestionText", answers: Sequence["text.AnswerText"],
                 choices: Sequence[str], lq: int, la: int) -> List[str]:
  """One line for each part of the question (and each choice) that the word
  windows Lq / La cut, naming the dropped words."""
  notes = []
  parts = list(zip(BIN_NAMES, question.bins)) + [("nouns", question.nouns),
                                                   ("adjectives", question.adjectives)]
  cut = [f"{name}: {' '.join(words[lq:])}" for name, words in parts
         if len(words) > lq]
  if cut:
    notes.append(f"the question was cut to the model's word window ({lq} words per "
                 f"part, data.max_question_words); not read: {'; '.join(cut)}")
  long_choices = [(c, a) for c, a in zip(choices, answers)
                  if max(len(a.tokens), len(a.nouns), len(a.adjectives)) > la]
  if long_choices:
    shown = ", ".join(repr(c) for c, _ in long_choices[:3])
    more = f" and {len(long_choices) - 3} more" if len(long_choices) > 3 else ""
    notes.append(f"{len(long_choices)} choice(s) cut to the model's {la} words per "
                 f"answer (data.max_answer_words): {shown}{more}")
  return notes


def _short(value: str, limit: Optional[int] = 40) -> str:
  return value if len(value) <= limit else value[:limit] + "..."
