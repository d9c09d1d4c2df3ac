"""Word lists and rules of the lexicon taggers (see svlr_tf/text/taggers.py).

The closed-class list (determiners, pronouns, prepositions, auxiliaries,
wh-words, numbers, ...) and color words serve every lexicon tagger; the
shipped word lists, suffix rules and plural / comparative lemma rules serve the
``"shipped-lexicon"`` backend, which has no WordNet.
"""

from __future__ import annotations

import re
from typing import Tuple


def _tags(tag: str, words: str) -> dict:
  return {word: tag for word in words.split()}


CLOSED_CLASS = {
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
NOMINAL_CONTEXT = ("DT", "PRP$", "POS", "JJ", "JJR", "JJS", "CD")
VERBAL_CONTEXT = ("TO", "MD")
NUMBER_RE = re.compile(r"^\d+(?:[.,:/]\d+)*(?:st|nd|rd|th|s)?$")
WORD_RE = re.compile(r"^[^\W\d_]", re.UNICODE)


def shipped_noun_lemma(word: str) -> str:
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


def shipped_adjective_lemma(word: str) -> str:
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


def shipped_tags(word: str) -> Tuple[str, str, str]:
  if word in _SHIPPED_ADJECTIVES or shipped_adjective_lemma(word) != word:
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
  noun = "NNS" if shipped_noun_lemma(word) != word else "NN"
  return noun, noun, "VB"
