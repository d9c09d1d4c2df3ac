"""Questions and answers: tokens, the 4 question bins, lemmatized nouns / adjectives.

The paper: "The nouns and adjectives are extracted from the (Q,A) and lemmatized
using the part-of-speech tagger and WordNet lemmatizer in NLTK. We use the Stanford
Dependency Parser to parse the question into bins as detailed in [49]".

Question bins (Shih et al.): bin 1 the question-type words (the first two tokens),
bin 2 the nominal subject, bin 3 the other nouns, bin 4 the remaining words.
Interpretation (no dependency parser here): the nominal subject is the head of the
first noun run after the question-type words, i.e. the last noun of the first run
of consecutive nouns ("what color is the fire hydrant" -> "hydrant"; "fire" goes
to bin 3). A bin may be empty. Bins hold lowercased tokens, not lemmas.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import List, Sequence, Tuple

from svlr_tf.config import NUM_QUESTION_BINS
from svlr_tf.text.lexicon import WORD_RE
from svlr_tf.text.taggers import lemmatize, pos_tag, register_cache
from svlr_tf.text.tokens import tokenize


@dataclasses.dataclass
class QuestionText:
  """A processed question.

  Attributes:
    tokens: lowercased word tokens (punctuation dropped).
    bins: 4 token lists (Shih et al.): question type, nominal subject, other
      nouns, remaining words.
    nouns: lemmatized nouns, in order, without repeats.
    adjectives: lemmatized adjectives, in order, without repeats.
    tags: Penn Treebank tag of each token.
  """

  tokens: List[str]
  bins: List[List[str]]
  nouns: List[str]
  adjectives: List[str]
  tags: List[str]


@dataclasses.dataclass
class AnswerText:
  """A processed answer (tokens, lemmatized nouns / adjectives, tags)."""

  tokens: List[str]
  nouns: List[str]
  adjectives: List[str]
  tags: List[str]


def _nouns_and_adjectives(tagged) -> Tuple[tuple, tuple]:
  nouns, adjectives = [], []
  for token, tag in tagged:
    if not WORD_RE.match(token):
      continue
    if tag.startswith("NN"):
      lemma = lemmatize(token, "n")
      if lemma not in nouns:
        nouns.append(lemma)
    elif tag.startswith("JJ"):
      lemma = lemmatize(token, "a")
      if lemma not in adjectives:
        adjectives.append(lemma)
  return tuple(nouns), tuple(adjectives)


def question_bins(tagged: Sequence[Tuple[str, str]]) -> List[List[str]]:
  """The 4 bins of Shih et al. from tagged tokens (see the module docstring)."""
  type_words = [token for token, _ in tagged[:2]]
  rest = list(tagged[2:])
  is_noun = [tag.startswith("NN") for _, tag in rest]
  subject = None
  if any(is_noun):
    subject = is_noun.index(True)
    while subject + 1 < len(rest) and is_noun[subject + 1]:
      subject += 1
  bins = [type_words, [], [], []]
  for i, (token, _) in enumerate(rest):
    if i == subject:
      bins[1].append(token)
    elif is_noun[i]:
      bins[2].append(token)
    else:
      bins[3].append(token)
  return bins


@register_cache
@functools.lru_cache(maxsize=1 << 16)
def _analyze_question(question: str):
  tokens = tokenize(question)
  tagged = pos_tag(tokens)
  bins = question_bins(tagged)
  nouns, adjectives = _nouns_and_adjectives(tagged)
  return (tuple(tokens), tuple(tuple(b) for b in bins), nouns, adjectives,
          tuple(tag for _, tag in tagged))


@register_cache
@functools.lru_cache(maxsize=1 << 18)
def _analyze_answer(answer: str):
  tokens = tokenize(answer)
  tagged = pos_tag(tokens)
  nouns, adjectives = _nouns_and_adjectives(tagged)
  return tuple(tokens), nouns, adjectives, tuple(tag for _, tag in tagged)


def analyze_question(question: str) -> QuestionText:
  """Tokens, the 4 Shih et al. bins and the lemmatized nouns / adjectives.

  >>> analyze_question("What color is the fire hydrant?").bins
  [['what', 'color'], ['hydrant'], ['fire'], ['is', 'the']]
  """
  tokens, bins, nouns, adjectives, tags = _analyze_question(question)
  return QuestionText(list(tokens), [list(b) for b in bins], list(nouns),
                      list(adjectives), list(tags))


def analyze_answer(answer: str) -> AnswerText:
  """Tokens and lemmatized nouns / adjectives of an answer ("red" -> adjective)."""
  tokens, nouns, adjectives, tags = _analyze_answer(answer)
  return AnswerText(list(tokens), list(nouns), list(adjectives), list(tags))


NO_QUESTION_TYPE = "none of the above"  # VQA v1's type of a question no type prefixes


def question_type_of(question: str, types: Sequence[str]) -> str:
  """The longest official VQA v1 question type that prefixes the question (by words),
  else ``NO_QUESTION_TYPE``."""
  words = question.lower().rstrip("?").split()
  best = ""
  for t in types:
    tw = t.split()
    if words[:len(tw)] == tw and len(tw) > len(best.split()):
      best = t
  return best or NO_QUESTION_TYPE


# The text fields of a prepared VQA record, in record order (docs/architecture.md).
QUESTION_TEXT_FIELDS = ("question_bins", "question_nouns", "question_adjectives",
                        "choice_words", "choice_nouns", "choice_adjectives")


def question_text_fields(question: str, choices: Sequence[str]) -> dict:
  """The text fields of a VQA record (``QUESTION_TEXT_FIELDS``) from a question
  and its C choices: question_bins [4 x [str]], question_nouns / adjectives
  [str], choice_words / nouns / adjectives [C x [str]]. The one place question
  text becomes a record: the embedded world, tools.prepare_vqa and the
  Predictor read it."""
  q = analyze_question(question)
  answers = [analyze_answer(c) for c in choices]
  return {"question_bins": q.bins, "question_nouns": q.nouns,
          "question_adjectives": q.adjectives,
          "choice_words": [a.tokens for a in answers],
          "choice_nouns": [a.nouns for a in answers],
          "choice_adjectives": [a.adjectives for a in answers]}
