"""Part-of-speech tagging and lemmas, with a process-wide backend choice.

Part-of-speech backends (:func:`pos_backend`), best first:

- ``"nltk-perceptron"``: NLTK's averaged perceptron tagger, the paper's tagger,
  when its data is installed (``nltk.download("averaged_perceptron_tagger_eng")``).
- ``"wordnet-lexicon"``: a context-light lexicon tagger. Closed-class words
  (determiners, pronouns, prepositions, auxiliaries, wh-words, numbers, ...) come from
  a fixed list; color words are adjectives; any other word takes the WordNet part of
  speech (noun, adjective, verb, adverb) with the largest score: the sum of
  ``sense-tagged count (cntlist) + 0.25`` over the word's WordNet senses, verb
  scores divided by 4 for inflected forms ("building" -> "build") and 2 for base
  forms (ties: noun > adjective > verb > adverb). After a determiner, possessive,
  number or adjective a verb reading is replaced by the best noun / adjective
  reading ("what is the tall building made of"); after "to" or a modal the verb
  reading wins ("is it going to rain"). Words unknown to WordNet are nouns.
- ``"shipped-lexicon"``: no WordNet at all (also for lemmas): the closed-class
  list, short lists of common visual adjectives and verbs, suffix rules (-ous,
  -ful, -ive, -able, ... adjective; -ly adverb; -ing / -ed verb unless after a
  determiner) and nouns otherwise; lemmas by plural / comparative rules plus a
  few irregular plurals.

Penn Treebank tags are produced by every backend; ``NN*`` are nouns, ``JJ*``
adjectives. As with NLTK's tagger, quantifiers such as "many" are adjectives (JJ).

Process-global state: the chosen backend (:func:`use_backend`), the loaded
perceptron and per-word caches; :func:`use_backend` clears every cache registered
with :func:`register_cache`.
"""

from __future__ import annotations

import functools
from typing import Callable, List, Optional, Sequence, Tuple

from absl import logging

from svlr_tf.text.lexicon import (CLOSED_CLASS, COLOR_WORDS, NOMINAL_CONTEXT, NUMBER_RE,
                                  VERBAL_CONTEXT, WORD_RE, shipped_adjective_lemma,
                                  shipped_noun_lemma, shipped_tags)
from svlr_tf.text.wordnet_corpus import nltk_has, wordnet

BACKENDS = ("nltk-perceptron", "wordnet-lexicon", "shipped-lexicon")

_forced_backend: Optional[str] = None
_active_backend: Optional[str] = None
_perceptron = None

# Caches that depend on the backend; cleared by use_backend.
_backend_caches: List[Callable] = []


def register_cache(cached: Callable) -> Callable:
  """Registers a ``functools.lru_cache`` function to clear on :func:`use_backend`."""
  _backend_caches.append(cached)
  return cached


def use_backend(name: Optional[str]) -> None:
  """Forces a part-of-speech backend (one of :data:`BACKENDS`); None = automatic.

  Clears the per-word and per-text caches. Raises ValueError for an unknown or
  unavailable backend.
  """
  global _forced_backend, _active_backend
  if name is not None and name not in BACKENDS:
    raise ValueError(f"unknown part-of-speech backend {name!r}; one of {BACKENDS}")
  if name == "nltk-perceptron" and _load_perceptron() is None:
    raise ValueError("the NLTK averaged perceptron tagger data is not installed")
  if name == "wordnet-lexicon" and wordnet() is None:
    raise ValueError("WordNet is not available")
  _forced_backend = name
  _active_backend = None
  for cached in _backend_caches:
    cached.cache_clear()


def _load_perceptron():
  global _perceptron
  if _perceptron is None:
    if not (nltk_has("taggers/averaged_perceptron_tagger_eng/")
            or nltk_has("taggers/averaged_perceptron_tagger/")):
      return None
    try:
      from nltk.tag import PerceptronTagger
      _perceptron = PerceptronTagger()
    except Exception as err:
      logging.warning("NLTK perceptron tagger could not be loaded: %s", err)
      return None
  return _perceptron


def pos_backend() -> str:
  """Name of the active part-of-speech backend (logged once when chosen)."""
  global _active_backend
  if _active_backend is None:
    if _forced_backend is not None:
      _active_backend = _forced_backend
    elif _load_perceptron() is not None:
      _active_backend = "nltk-perceptron"
    elif wordnet() is not None:
      _active_backend = "wordnet-lexicon"
    else:
      _active_backend = "shipped-lexicon"
    logging.info("svlr_tf.text: part-of-speech backend %r (lemmatizer: %s)",
                 _active_backend,
                 "WordNet" if wordnet() is not None else "shipped rules")
    if _active_backend != "nltk-perceptron" and _forced_backend is None:
      logging.info("For the paper's NLTK tagger run "
                   "nltk.download('averaged_perceptron_tagger_eng').")
  return _active_backend


def _wordnet_scores(word: str) -> dict:
  """WordNet part-of-speech scores of ``word``: {"n"|"a"|"v"|"r": score}.

  score = sum over the WordNet lemmas of ``word`` of (sense-tagged count + 0.25).
  A verb's count covers all its forms, so verb scores are divided by
  :data:`_VERB_DISCOUNT` (4 for an inflected form such as "building" -> "build",
  2 for a base form): VQA text is mostly nouns and adjectives.
  """
  wn = wordnet()
  scores = {}
  for pos in ("n", "a", "v", "r"):
    lemmas = wn._morphy(word, pos)
    if not lemmas:
      continue
    score = 0.0
    for lemma in set(lemmas):
      for entry in wn.lemmas(lemma, pos):
        try:
          score += entry.count() + 0.25
        except (OSError, LookupError, ValueError):  # no cntlist.rev
          score += 0.25
    if pos == "v":
      score /= _VERB_DISCOUNT[word in lemmas]
    if score > 0:
      scores[pos] = score
  return scores


_POS_ORDER = ("n", "a", "v", "r")
_VERB_DISCOUNT = {False: 4.0, True: 2.0}  # {is a base form: divisor}


def _penn_tag(word: str, pos: str) -> str:
  if pos == "n":
    return "NN" if lemmatize(word, "n") == word else "NNS"
  if pos == "a":
    lemma = lemmatize(word, "a")
    if lemma != word and word.endswith("est"):
      return "JJS"
    if lemma != word and word.endswith("er"):
      return "JJR"
    return "JJ"
  if pos == "v":
    if word.endswith("ing"):
      return "VBG"
    if lemmatize(word, "v") != word:
      return "VBZ" if word.endswith("s") else "VBN"
    return "VB"
  return "RB"


@register_cache
@functools.lru_cache(maxsize=1 << 16)
def _open_class_tags(word: str) -> Tuple[str, str, str]:
  """Context-free tags of a word: (best, best non-verb, best verb-first)."""
  if word in CLOSED_CLASS:
    tag = CLOSED_CLASS[word]
    return tag, tag, tag
  if NUMBER_RE.match(word) or word[:1].isdigit():
    return "CD", "CD", "CD"
  if not WORD_RE.match(word):
    return "SYM", "SYM", "SYM"
  if word in COLOR_WORDS:
    return "JJ", "JJ", "JJ"
  if pos_backend() == "shipped-lexicon" or wordnet() is None:
    return shipped_tags(word)
  scores = _wordnet_scores(word)
  if not scores:
    return "NN", "NN", "NN"
  ranked = sorted(scores, key=lambda p: (-scores[p], _POS_ORDER.index(p)))
  best = ranked[0]
  nominal = next((p for p in ranked if p in ("n", "a")), best)
  verbal = "v" if "v" in scores else best
  return (_penn_tag(word, best), _penn_tag(word, nominal),
          _penn_tag(word, verbal))


def pos_tag(tokens: Sequence[str]) -> List[Tuple[str, str]]:
  """Penn Treebank tags of lowercased tokens with the active backend."""
  tokens = list(tokens)
  if pos_backend() == "nltk-perceptron":
    return list(_load_perceptron().tag(tokens))
  tagged = []
  previous = None
  for token in tokens:
    tag, nominal_tag, verbal_tag = _open_class_tags(token)
    if token not in CLOSED_CLASS:
      if tag.startswith("VB") and previous in NOMINAL_CONTEXT:
        tag = nominal_tag
      elif previous in VERBAL_CONTEXT:
        tag = verbal_tag
    if token == "'s" and previous is not None and previous.startswith("NN"):
      tag = "POS"
    tagged.append((token, tag))
    previous = tag
  return tagged


@register_cache
@functools.lru_cache(maxsize=1 << 17)
def lemmatize(word: str, pos: str = "n") -> str:
  """Lemma of ``word`` as a noun ("n"), adjective ("a"), verb ("v") or adverb ("r").

  NLTK's ``WordNetLemmatizer`` (shortest WordNet base form) when WordNet is
  available and the backend is not ``"shipped-lexicon"``, else the shipped
  plural / comparative rules.
  """
  if pos_backend() != "shipped-lexicon" and wordnet() is not None:
    from nltk.stem import WordNetLemmatizer
    return WordNetLemmatizer().lemmatize(word, pos)
  if pos == "n":
    return shipped_noun_lemma(word)
  if pos == "a":
    return shipped_adjective_lemma(word)
  return word
