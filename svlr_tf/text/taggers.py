"""Part-of-speech tagging and lemmas, with a process-wide backend choice.

The backend is an explicit choice, the same on every machine: the default is
:data:`DEFAULT_BACKEND` whatever else is installed, and a backend that cannot
run is a one-line error, never a silent fall-back (docs/interpretations.md,
entry 15). Worlds and prepared data record it in ``meta.json``
(``pos_backend``).

Part-of-speech backends (:func:`pos_backend`):

- ``"nltk-perceptron"``: NLTK's averaged perceptron tagger with NLTK's own
  model, the paper's tagger, where its data is installed
  (``nltk.download("averaged_perceptron_tagger_eng")``; no package registry
  ships it, so it needs network once).
- ``"perceptron-2013"``: NLTK's averaged perceptron tagger code
  (``nltk.tag.PerceptronTagger``) with Matthew Honnibal's 2013 Penn Treebank
  model, from which NLTK's tagger was ported, shipped by the PyPI package
  ``textblob-aptagger==0.2.0`` (MIT licence; ``trontagger-0.1.0.pickle``, read
  with an unpickler that admits only plain containers, checked by SHA-256).
  Not NLTK's own model (it tags 2 of the 19 tokens of NLTK's tagger doctests
  differently: "jumps" NNS, "red" NN); optional.
- ``"wordnet-lexicon"`` (default): a context-light lexicon tagger. Closed-class words
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
import hashlib
import importlib.util
import io
import os
import pickle
from typing import Callable, List, Optional, Sequence, Tuple

from absl import logging

from svlr_tf.text.lexicon import (CLOSED_CLASS, COLOR_WORDS, NOMINAL_CONTEXT, NUMBER_RE,
                                  VERBAL_CONTEXT, WORD_RE, shipped_adjective_lemma,
                                  shipped_noun_lemma, shipped_tags)
from svlr_tf.runtime.errors import DataError
from svlr_tf.text.wordnet_corpus import nltk_has, wordnet

BACKENDS = ("perceptron-2013", "nltk-perceptron", "wordnet-lexicon",
            "shipped-lexicon")
DEFAULT_BACKEND = "wordnet-lexicon"

# The 2013 model: package, file and digest (textblob-aptagger 0.2.0 on PyPI).
PERCEPTRON_2013_PACKAGE = "textblob_aptagger"
PERCEPTRON_2013_FILE = "trontagger-0.1.0.pickle"
PERCEPTRON_2013_SHA256 = (
    "1109164b3d28dce58f96b763128bab2fd8754c3921fd3330de2724ac6d1ada7c")
PERCEPTRON_2013_INSTALL = "pip install textblob-aptagger==0.2.0"

_forced_backend: Optional[str] = None
_active_backend: Optional[str] = None
_perceptrons = {}

# Caches that depend on the backend; cleared by use_backend.
_backend_caches: List[Callable] = []


def register_cache(cached: Callable) -> Callable:
  """Registers a ``functools.lru_cache`` function to clear on :func:`use_backend`."""
  _backend_caches.append(cached)
  return cached


def use_backend(name: Optional[str]) -> None:
  """Sets the part-of-speech backend (one of :data:`BACKENDS`); None = default.

  Clears the per-word and per-text caches. Raises ValueError for an unknown
  backend and DataError (naming the missing file) for one that cannot run
  (the default is checked when it is first used, by :func:`pos_backend`).
  """
  global _forced_backend, _active_backend
  if name is not None and name not in BACKENDS:
    raise ValueError(f"unknown part-of-speech backend {name!r}; one of {BACKENDS}")
  if name is not None:
    _check_available(name)
  _forced_backend = name
  _active_backend = None
  for cached in _backend_caches:
    cached.cache_clear()


def _check_available(name: str) -> None:
  """Raises DataError if backend ``name`` cannot run on this machine."""
  if name in ("perceptron-2013", "nltk-perceptron"):
    _load_perceptron(name)
  if name != "shipped-lexicon" and wordnet() is None:
    raise DataError(
        "wordnet", f"the {name!r} part-of-speech backend needs WordNet 3.0 "
        "(apt-get install wordnet-base wordnet-sense-index, or "
        "nltk.download('wordnet'))")


class _PlainUnpickler(pickle.Unpickler):
  """Unpickles dicts, lists, tuples, strings, numbers and sets only."""

  def find_class(self, module, name):
    if module in ("builtins", "__builtin__") and name in ("set", "frozenset"):
      return {"set": set, "frozenset": frozenset}[name]
    raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def perceptron_2013_path() -> str:
  """Path of the 2013 model file; DataError if its package is not installed."""
  spec = importlib.util.find_spec(PERCEPTRON_2013_PACKAGE)  # not imported
  if spec is None or not spec.submodule_search_locations:
    raise DataError(PERCEPTRON_2013_FILE, "the 'perceptron-2013' part-of-speech "
                    f"model is not installed ({PERCEPTRON_2013_INSTALL})")
  return os.path.join(list(spec.submodule_search_locations)[0],
                      PERCEPTRON_2013_FILE)


def _read_perceptron_2013():
  """NLTK's PerceptronTagger holding the 2013 model's weights."""
  path = perceptron_2013_path()
  try:
    with open(path, "rb") as f:
      raw = f.read()
  except OSError as err:
    raise DataError(path, f"cannot read the part-of-speech model ({err.strerror}; "
                    f"{PERCEPTRON_2013_INSTALL})") from None
  if hashlib.sha256(raw).hexdigest() != PERCEPTRON_2013_SHA256:
    raise DataError(path, "is not the pinned part-of-speech model "
                    f"(SHA-256 differs; {PERCEPTRON_2013_INSTALL})")
  weights, tagdict, classes = _PlainUnpickler(io.BytesIO(raw),
                                              encoding="latin1").load()
  from nltk.tag.perceptron import PerceptronTagger
  tagger = PerceptronTagger(load=False)
  tagger.model.weights = weights
  tagger.model.classes = tagger.classes = set(classes)
  tagger.tagdict = tagdict
  return tagger


def _load_perceptron(name: str = "nltk-perceptron"):
  """The perceptron tagger of backend ``name``; DataError if it cannot load."""
  if name not in _perceptrons:
    if name == "perceptron-2013":
      _perceptrons[name] = _read_perceptron_2013()
    else:
      if not (nltk_has("taggers/averaged_perceptron_tagger_eng/")
              or nltk_has("taggers/averaged_perceptron_tagger/")):
        raise DataError("averaged_perceptron_tagger_eng", "NLTK's tagger data is "
                        "not installed (nltk.download("
                        "'averaged_perceptron_tagger_eng'))")
      from nltk.tag import PerceptronTagger
      _perceptrons[name] = PerceptronTagger()
  return _perceptrons[name]


def pos_backend() -> str:
  """Name of the part-of-speech backend in use (:data:`DEFAULT_BACKEND` unless
  :func:`use_backend` chose another); logged once. DataError if it cannot run."""
  global _active_backend
  if _active_backend is None:
    name = _forced_backend or DEFAULT_BACKEND
    _check_available(name)
    _active_backend = name
    logging.info("svlr_tf.text: part-of-speech backend %r (lemmatizer: %s)",
                 _active_backend,
                 "WordNet" if wordnet() is not None else "shipped rules")
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
  backend = pos_backend()
  if backend in ("perceptron-2013", "nltk-perceptron"):
    return list(_load_perceptron(backend).tag(tokens))
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
