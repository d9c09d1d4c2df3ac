"""Question / answer text processing (Sec. 4 of the paper).

The paper: "The nouns and adjectives are extracted from the (Q,A) and lemmatized
using the part-of-speech tagger and WordNet lemmatizer in NLTK. We use the Stanford
Dependency Parser to parse the question into bins as detailed in [49]" (Shih et al.
2016, "Where to look").

Public API::

  tokenize(text, keep_punctuation=False) -> [str]
  analyze_question(question) -> QuestionText(tokens, bins [4 x [str]], nouns,
                                             adjectives, tags)
  analyze_answer(answer)     -> AnswerText(tokens, nouns, adjectives, tags)
  pos_tag(tokens) -> [(token, Penn tag)]     pos_backend() -> str
  lemmatize(word, pos)       wordnet() -> NLTK WordNet reader | None
  hypernym_chain(noun) -> [str]

WordNet offline: :func:`wordnet` uses an NLTK WordNet that ``nltk.data`` finds;
otherwise it lays out Debian's ``wordnet-base`` + ``wordnet-sense-index`` files
(``/usr/share/wordnet``, or ``$SVLR_TF_WORDNET_DIR``) as an NLTK corpus -- copies
(NLTK refuses linked files) plus the 45-line ``lexnames`` file -- in
``$SVLR_TF_CACHE/nltk_data`` (default ``~/.cache/svlr_tf/nltk_data``) and appends
that directory to ``nltk.data.path``.

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

Tokens follow the Penn Treebank / GloVe convention: lowercase, punctuation split
off (and dropped unless ``keep_punctuation``), clitics split ("don't" -> "do",
"n't"; "dog's" -> "dog", "'s"), numbers such as "1,000" / "3.5" / "10:30" and
hyphenated words such as "t-shirt" kept whole.

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
import os
import re
import shutil
import tempfile
import unicodedata
from typing import List, Optional, Sequence, Tuple

from absl import logging

BACKENDS = ("nltk-perceptron", "wordnet-lexicon", "shipped-lexicon")
NUM_QUESTION_BINS = 4
WORDNET_SOURCE_DIR = "/usr/share/wordnet"

# ----------------------------------------------------------------------------
# Tokenization
# ----------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"\d+(?:[.,:/]\d+)+"                # 1,000  3.5  10:30  1/2
    r"|[^\W_]+(?:['\-_][^\W_]+)*'?"     # words, t-shirt, don't, o'clock, dogs'
    r"|'(?:s|re|ve|ll|m|d)\b"           # a clitic written apart: dog 's
    r"|[^\w\s]",                        # any other single symbol
    re.UNICODE)
_CLITICS = ("'s", "'re", "'ve", "'ll", "'m", "'d")
_PUNCTUATION = set(".,?!;:\"'`()[]{}<>-\u2013\u2014\u2026/\\*|~^")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'",
                         "\u201c": '"', "\u201d": '"'})


def _split_clitic(word: str) -> List[str]:
  if word.endswith("'"):
    word = word[:-1]
    return [word] if word else []
  if word.endswith("n't") and len(word) > 3:
    return [word[:-3], "n't"]
  for clitic in _CLITICS:
    if word.endswith(clitic) and len(word) > len(clitic):
      return [word[:-len(clitic)], clitic]
  return [word]


def tokenize(text: str, keep_punctuation: bool = False) -> List[str]:
  """Lowercased Penn-Treebank-style tokens of ``text`` (see the module docstring).

  >>> tokenize("What's the man's T-shirt color?")
  ['what', "'s", 'the', 'man', "'s", 't-shirt', 'color']
  """
  text = unicodedata.normalize("NFKC", str(text)).translate(_QUOTES).lower()
  tokens = []
  for token in _TOKEN_RE.findall(text):
    if "'" in token and token[0] != "'":
      tokens.extend(_split_clitic(token))
    elif keep_punctuation or token not in _PUNCTUATION:
      tokens.append(token)
  return tokens


# ----------------------------------------------------------------------------
# WordNet
# ----------------------------------------------------------------------------

# The 45 WordNet lexicographer files: (number, name, synset type).
LEXNAMES = (
    "adj.all 3", "adj.pert 3", "adv.all 4", "noun.Tops 1", "noun.act 1",
    "noun.animal 1", "noun.artifact 1", "noun.attribute 1", "noun.body 1",
    "noun.cognition 1", "noun.communication 1", "noun.event 1",
    "noun.feeling 1", "noun.food 1", "noun.group 1", "noun.location 1",
    "noun.motive 1", "noun.object 1", "noun.person 1", "noun.phenomenon 1",
    "noun.plant 1", "noun.possession 1", "noun.process 1", "noun.quantity 1",
    "noun.relation 1", "noun.shape 1", "noun.state 1", "noun.substance 1",
    "noun.time 1", "verb.body 2", "verb.change 2", "verb.cognition 2",
    "verb.communication 2", "verb.competition 2", "verb.consumption 2",
    "verb.contact 2", "verb.creation 2", "verb.emotion 2", "verb.motion 2",
    "verb.perception 2", "verb.possession 2", "verb.social 2",
    "verb.stative 2", "verb.weather 2", "adj.ppl 3")
_WORDNET_REQUIRED = tuple(
    f"{kind}.{pos}" for kind in ("data", "index")
    for pos in ("noun", "verb", "adj", "adv")) + tuple(
        f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))
_WORDNET_OPTIONAL = ("index.sense", "cntlist.rev")
_LAYOUT_MARKER = ".svlr_tf_layout"
_LAYOUT_VERSION = "svlr_tf-wordnet-layout-3"


def cache_dir() -> str:
  """``$SVLR_TF_CACHE/nltk_data``, or ``~/.cache/svlr_tf/nltk_data``."""
  root = os.environ.get("SVLR_TF_CACHE") or os.path.join(
      os.path.expanduser("~"), ".cache", "svlr_tf")
  return os.path.join(root, "nltk_data")


def _layout_is_valid(corpus_dir: str) -> bool:
  names = _WORDNET_REQUIRED + ("lexnames",)
  if not all(os.path.isfile(os.path.join(corpus_dir, n)) for n in names):
    return False
  marker = os.path.join(corpus_dir, _LAYOUT_MARKER)
  if not os.path.isfile(marker):
    return True  # not made by us: trust it
  with open(marker, encoding="utf-8") as f:
    return f.read().startswith(_LAYOUT_VERSION)


def build_wordnet_layout(source_dir: str, nltk_data_dir: str) -> Optional[str]:
  """Lays out WordNet 3.0 dictionary files as an NLTK corpus.

  Creates ``<nltk_data_dir>/corpora/wordnet/`` with copies (~36 MB) of the files of
  ``source_dir`` and a ``lexnames`` file. Links do not work: NLTK >= 3.10 refuses
  corpus files that are symlinks resolving outside the corpus root or that have
  more than one hard link. An existing valid layout is kept. The directory is
  built under a temporary name and renamed into place, so concurrent processes
  never see half a layout.

  Returns:
    ``nltk_data_dir``, or None if ``source_dir`` lacks a WordNet file.
  """
  if not all(os.path.isfile(os.path.join(source_dir, n))
             for n in _WORDNET_REQUIRED):
    return None
  corpora = os.path.join(nltk_data_dir, "corpora")
  target = os.path.join(corpora, "wordnet")
  if _layout_is_valid(target):
    return nltk_data_dir
  os.makedirs(corpora, exist_ok=True)
  if os.path.isfile(os.path.join(target, _LAYOUT_MARKER)):
    shutil.rmtree(target)  # our own stale layout (missing files, old version)
  tmp = tempfile.mkdtemp(prefix=".wordnet.", dir=corpora)
  try:
    for name in _WORDNET_REQUIRED + _WORDNET_OPTIONAL:
      src = os.path.join(os.path.abspath(source_dir), name)
      if not os.path.isfile(src):
        continue
      shutil.copyfile(src, os.path.join(tmp, name))
    with open(os.path.join(tmp, "lexnames"), "w", encoding="utf-8") as f:
      for number, entry in enumerate(LEXNAMES):
        name, kind = entry.split()
        f.write(f"{number:02d}\t{name}\t{kind}\n")
    with open(os.path.join(tmp, _LAYOUT_MARKER), "w", encoding="utf-8") as f:
      f.write(f"{_LAYOUT_VERSION} {os.path.abspath(source_dir)}\n")
    os.chmod(tmp, 0o755)
    try:
      os.rename(tmp, target)
    except OSError:  # another process won the race
      if not _layout_is_valid(target):
        raise
  finally:
    if os.path.isdir(tmp):
      shutil.rmtree(tmp, ignore_errors=True)
  return nltk_data_dir


def _nltk_has(resource: str) -> bool:
  import nltk
  try:
    nltk.data.find(resource)
    return True
  except LookupError:
    return False


_wordnet_reader = None
_wordnet_resolved = False


def wordnet():
  """An NLTK WordNet corpus reader, or None when no WordNet can be found.

  Order: an NLTK wordnet that ``nltk.data`` finds; else the Debian files laid out
  by :func:`build_wordnet_layout` in :func:`cache_dir` (appended to
  ``nltk.data.path``, so ``nltk.corpus.wordnet`` and ``WordNetLemmatizer`` work
  too); else None. Resolved once per process.
  """
  global _wordnet_reader, _wordnet_resolved
  if _wordnet_resolved:
    return _wordnet_reader
  _wordnet_resolved = True
  import nltk
  if not (_nltk_has("corpora/wordnet") or _nltk_has("corpora/wordnet.zip")):
    source = os.environ.get("SVLR_TF_WORDNET_DIR", WORDNET_SOURCE_DIR)
    try:
      root = build_wordnet_layout(source, cache_dir())
    except OSError as err:
      logging.warning("Could not lay out WordNet from %s: %s", source, err)
      root = None
    if root is None:
      logging.warning(
          "WordNet not found (no NLTK wordnet, no files in %s); text processing "
          "uses the shipped lexicon. Install it with nltk.download('wordnet') or "
          "apt-get install wordnet-base wordnet-sense-index.", source)
      return None
    if root not in nltk.data.path:
      nltk.data.path.append(root)
  try:
    from nltk.corpus import wordnet as wn
    wn.ensure_loaded()
    wn.synsets("dog", "n")
  except Exception as err:  # a broken corpus must not break text processing
    logging.warning("WordNet could not be loaded: %s", err)
    return None
  _wordnet_reader = wn
  return wn


def hypernym_chain(noun: str, all_paths: bool = False) -> List[str]:
  """Hypernym names of the first noun synset of ``noun``, most specific first.

  "dog" -> ["canine", "carnivore", "placental", "mammal", ..., "entity"] (the
  longest path to the root). The name
  of a synset is its first lemma with "_" replaced by a space; the synset of
  ``noun`` itself is not included. Multi-word nouns ("tennis racket") and plurals
  work. ``all_paths`` merges every hypernym path (ordered by distance, then
  name) instead of taking the longest path (ties: the first). Returns [] without
  WordNet or synset.
  """
  wn = wordnet()
  if wn is None:
    return []
  synsets = wn.synsets(noun.strip().lower().replace(" ", "_"), "n")
  if not synsets:
    return []
  synset = synsets[0]
  if not all_paths:
    path = max(synset.hypernym_paths(), key=len)  # root ... synset
    return [_synset_name(s) for s in reversed(path[:-1])]
  distance = {}
  for path in synset.hypernym_paths():
    for depth, s in enumerate(reversed(path[:-1]), 1):
      name = _synset_name(s)
      distance[name] = min(distance.get(name, depth), depth)
  return sorted(distance, key=lambda name: (distance[name], name))


def _synset_name(synset) -> str:
  return synset.lemma_names()[0].replace("_", " ")


# ----------------------------------------------------------------------------
# Lexicons
# ----------------------------------------------------------------------------


def _tags(tag: str, words: str) -> dict:
  return {word: tag for word in words.split()}


_CLOSED_CLASS = {
    **_tags("DT", "a an the this that these those some any each every no "
            "another all both either neither half none"),
    **_tags("PRP", "i me you he him she it we us they them myself yourself "
            "himself herself itself ourselves themselves"),
    **_tags("PRP$", "my your his her its our their"),
    **_tags("WP", "what who whom"), "whose": "WP$", "which": "WDT",
    **_tags("WRB", "how where when why"),
    **_tags("IN", "in on at of for with by from about above below under over "
            "behind between into onto near through during inside outside "
            "beside besides across against along around among after before "
            "like than off upon within without toward towards underneath "
            "beneath atop via since until because if while whether though "
            "although as per except unlike"),
    **_tags("RP", "up down out away"),
    "to": "TO", "there": "EX",
    **_tags("CC", "and or but nor yet"),
    **_tags("MD", "can could will would shall should may might must ca wo "
            "'ll 'd"),
    **_tags("VBZ", "is does has 's"), **_tags("VBP", "are am do have 're 've 'm"),
    **_tags("VBD", "was were did had"), "be": "VB", "been": "VBN",
    "being": "VBG", "doing": "VBG", "having": "VBG", "done": "VBN",
    **_tags("RB", "not n't very too also just only here now then really still "
            "ever never always often again else so almost"),
    **_tags("UH", "yes yeah yep nope ok okay"),
    **_tags("JJ", "many much few several other"), **_tags("JJR", "more less"),
    **_tags("JJS", "most least"),
    **_tags("CD", "zero one two three four five six seven eight nine ten "
            "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen "
            "nineteen twenty thirty forty fifty sixty seventy eighty ninety "
            "hundred thousand million billion"),
}
COLOR_WORDS = frozenset(
    "red orange yellow green blue purple pink brown black white gray grey "
    "silver gold golden beige tan maroon navy teal turquoise violet indigo "
    "magenta cyan crimson blond blonde".split())
# Visual adjectives for the shipped lexicon (used only without WordNet).
_SHIPPED_ADJECTIVES = frozenset(
    "big small large little tall short long wide narrow high low old new young "
    "wet dry hot cold warm cool clean dirty empty full open closed round square "
    "flat fat thin thick heavy dark bright happy sad good bad real fake safe "
    "fresh ripe raw sunny cloudy rainy snowy foggy busy striped plaid wooden "
    "electric digital soft hard smooth rough sharp loud quiet fast slow pretty "
    "ugly beautiful cute asleep awake alive dead male female same different "
    "front back top bottom middle first second third last next wild calm "
    "healthy broken natural modern ready sliced".split())
# Verbs and -ing nouns for the shipped lexicon (used only without WordNet).
_SHIPPED_VERBS = frozenset(
    "say see look hold wear eat play ride sit stand fly make take go use get "
    "made held worn sat stood seen taken eaten gone built put cut left said "
    "wore ate rode flew".split())
_SHIPPED_VERBS_BASE = frozenset(
    "say see look hold wear eat play ride sit stand fly make take go use "
    "get put cut".split())
_SHIPPED_ING_NOUNS = frozenset(
    "thing king ring wing string spring ceiling building clothing painting "
    "morning evening wedding railing frosting icing sibling pudding stuffing "
    "topping dumpling ping".split())
_ADJECTIVE_SUFFIXES = ("ous", "ful", "ive", "able", "ible", "ical", "less",
                       "ish", "ic", "ary")
_IRREGULAR_PLURALS = {
    "men": "man", "women": "woman", "children": "child", "feet": "foot",
    "teeth": "tooth", "mice": "mouse", "geese": "goose", "knives": "knife",
    "leaves": "leaf", "shelves": "shelf", "wolves": "wolf", "loaves": "loaf",
    "halves": "half", "calves": "calf", "scarves": "scarf", "wives": "wife",
    "lives": "life", "oxen": "ox", "sheep": "sheep", "fish": "fish",
    "people": "people", "police": "police", "bus": "bus", "gas": "gas",
    "glasses": "glass", "skis": "ski", "buses": "bus"}
_NOMINAL_CONTEXT = ("DT", "PRP$", "POS", "JJ", "JJR", "JJS", "CD")
_VERBAL_CONTEXT = ("TO", "MD")
_NUMBER_RE = re.compile(r"^\d+(?:[.,:/]\d+)*(?:st|nd|rd|th|s)?$")
_WORD_RE = re.compile(r"^[^\W\d_]", re.UNICODE)


def _shipped_noun_lemma(word: str) -> str:
  if word in _IRREGULAR_PLURALS:
    return _IRREGULAR_PLURALS[word]
  if len(word) <= 3 or word.endswith(("ss", "us", "is", "ous")):
    return word
  if word.endswith("ies"):
    return word[:-3] + "y"
  if word.endswith(("ches", "shes", "xes", "sses", "zes", "oes")):
    return word[:-2]
  if word.endswith("s"):
    return word[:-1]
  return word


def _shipped_adjective_lemma(word: str) -> str:
  for suffix in ("est", "er"):
    stem = word[:-len(suffix)]
    if word.endswith(suffix) and len(stem) >= 2:
      if stem in _SHIPPED_ADJECTIVES:
        return stem
      if stem + "e" in _SHIPPED_ADJECTIVES:
        return stem + "e"
      if len(stem) >= 3 and stem[-1] == stem[-2] and stem[:-1] in _SHIPPED_ADJECTIVES:
        return stem[:-1]
      if stem.endswith("i") and stem[:-1] + "y" in _SHIPPED_ADJECTIVES:
        return stem[:-1] + "y"
  return word


# ----------------------------------------------------------------------------
# Part-of-speech backends
# ----------------------------------------------------------------------------

_forced_backend: Optional[str] = None
_active_backend: Optional[str] = None
_perceptron = None


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
  for cached in (_open_class_tags, lemmatize, _analyze_question, _analyze_answer):
    cached.cache_clear()


def _load_perceptron():
  global _perceptron
  if _perceptron is None:
    if not (_nltk_has("taggers/averaged_perceptron_tagger_eng/")
            or _nltk_has("taggers/averaged_perceptron_tagger/")):
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


@functools.lru_cache(maxsize=1 << 16)
def _open_class_tags(word: str) -> Tuple[str, str, str]:
  """Context-free tags of a word: (best, best non-verb, best verb-first)."""
  if word in _CLOSED_CLASS:
    tag = _CLOSED_CLASS[word]
    return tag, tag, tag
  if _NUMBER_RE.match(word) or word[:1].isdigit():
    return "CD", "CD", "CD"
  if not _WORD_RE.match(word):
    return "SYM", "SYM", "SYM"
  if word in COLOR_WORDS:
    return "JJ", "JJ", "JJ"
  if pos_backend() == "shipped-lexicon" or wordnet() is None:
    return _shipped_tags(word)
  scores = _wordnet_scores(word)
  if not scores:
    return "NN", "NN", "NN"
  ranked = sorted(scores, key=lambda p: (-scores[p], _POS_ORDER.index(p)))
  best = ranked[0]
  nominal = next((p for p in ranked if p in ("n", "a")), best)
  verbal = "v" if "v" in scores else best
  return (_penn_tag(word, best), _penn_tag(word, nominal),
          _penn_tag(word, verbal))


def _shipped_tags(word: str) -> Tuple[str, str, str]:
  if word in _SHIPPED_ADJECTIVES or _shipped_adjective_lemma(word) != word:
    return "JJ", "JJ", "JJ"
  if word in _SHIPPED_VERBS:
    return ("VBN" if word.endswith("n") or word not in _SHIPPED_VERBS_BASE
            else "VB"), "NN", "VB"
  if word in _SHIPPED_ING_NOUNS:
    return "NN", "NN", "NN"
  if word.endswith("ly") and len(word) > 4:
    return "RB", "RB", "RB"
  if word.endswith(_ADJECTIVE_SUFFIXES) and len(word) > 5:
    return "JJ", "JJ", "JJ"
  if word.endswith("ing") and len(word) >= 5:
    return "VBG", "NN", "VBG"
  if word.endswith("ed") and len(word) > 4:
    return "VBN", "JJ", "VBN"
  noun = "NNS" if _shipped_noun_lemma(word) != word else "NN"
  return noun, noun, "VB"


def pos_tag(tokens: Sequence[str]) -> List[Tuple[str, str]]:
  """Penn Treebank tags of lowercased tokens with the active backend."""
  tokens = list(tokens)
  if pos_backend() == "nltk-perceptron":
    return list(_load_perceptron().tag(tokens))
  tagged = []
  previous = None
  for token in tokens:
    tag, nominal_tag, verbal_tag = _open_class_tags(token)
    if token not in _CLOSED_CLASS:
      if tag.startswith("VB") and previous in _NOMINAL_CONTEXT:
        tag = nominal_tag
      elif previous in _VERBAL_CONTEXT:
        tag = verbal_tag
    if token == "'s" and previous is not None and previous.startswith("NN"):
      tag = "POS"
    tagged.append((token, tag))
    previous = tag
  return tagged


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
    return _shipped_noun_lemma(word)
  if pos == "a":
    return _shipped_adjective_lemma(word)
  return word


# ----------------------------------------------------------------------------
# Questions and answers
# ----------------------------------------------------------------------------


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
    if not _WORD_RE.match(token):
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


@functools.lru_cache(maxsize=1 << 16)
def _analyze_question(question: str):
  tokens = tokenize(question)
  tagged = pos_tag(tokens)
  bins = question_bins(tagged)
  nouns, adjectives = _nouns_and_adjectives(tagged)
  return (tuple(tokens), tuple(tuple(b) for b in bins), nouns, adjectives,
          tuple(tag for _, tag in tagged))


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
