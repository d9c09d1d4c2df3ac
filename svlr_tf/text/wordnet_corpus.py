"""WordNet, offline: the NLTK corpus reader and hypernym chains.

:func:`wordnet` uses an NLTK WordNet that ``nltk.data`` finds; otherwise it lays
out Debian's ``wordnet-base`` + ``wordnet-sense-index`` files
(``/usr/share/wordnet``, or ``$SVLR_TF_WORDNET_DIR``) as an NLTK corpus -- copies
(NLTK refuses linked files) plus the 45-line ``lexnames`` file -- in
``$SVLR_TF_CACHE/nltk_data`` (default ``~/.cache/svlr_tf/nltk_data``) and appends
that directory to ``nltk.data.path``. The reader is resolved once per process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import List, Optional

from absl import logging

WORDNET_SOURCE_DIR = "/usr/share/wordnet"

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


def nltk_has(resource: str) -> bool:
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
  if not (nltk_has("corpora/wordnet") or nltk_has("corpora/wordnet.zip")):
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
