"""Tokenization of questions, answers and class names.

Tokens follow the Penn Treebank / GloVe convention: lowercase, punctuation split
off (and dropped unless ``keep_punctuation``), clitics split ("don't" -> "do",
"n't"; "dog's" -> "dog", "'s"), numbers such as "1,000" / "3.5" / "10:30" and
hyphenated words such as "t-shirt" kept whole.
"""

from __future__ import annotations

import re
import unicodedata
from typing import List

# The padding and unknown words of every vocabulary (the prepared format's word 0 and 1).
PAD = "<pad>"
UNK = "<unk>"

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
