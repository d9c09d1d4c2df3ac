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
  question_text_fields(question, choices) -> the text fields of a VQA record
  pos_tag(tokens) -> [(token, Penn tag)]     pos_backend() -> str
  use_backend(name | None)
  lemmatize(word, pos)       wordnet() -> NLTK WordNet reader | None
  hypernym_chain(noun) -> [str]

Modules: ``tokens`` (tokenizer), ``wordnet_corpus`` (offline WordNet set-up,
hypernyms), ``lexicon`` (word lists of the lexicon taggers), ``taggers``
(part-of-speech backends and lemmas; process-global backend choice),
``questions`` (question bins, nouns / adjectives of questions and answers).
"""

from svlr_tf.text.lexicon import COLOR_WORDS
from svlr_tf.text.questions import (NUM_QUESTION_BINS, AnswerText, QuestionText,
                                    analyze_answer, analyze_question, question_bins,
                                    question_text_fields)
from svlr_tf.text.taggers import BACKENDS, lemmatize, pos_backend, pos_tag, use_backend
from svlr_tf.text.tokens import tokenize
from svlr_tf.text.wordnet_corpus import (LEXNAMES, WORDNET_SOURCE_DIR,
                                         build_wordnet_layout, cache_dir,
                                         hypernym_chain, wordnet)

__all__ = [
    "BACKENDS", "COLOR_WORDS", "LEXNAMES", "NUM_QUESTION_BINS", "WORDNET_SOURCE_DIR",
    "AnswerText", "QuestionText", "analyze_answer", "analyze_question",
    "build_wordnet_layout", "cache_dir", "hypernym_chain", "lemmatize",
    "pos_backend", "pos_tag", "question_bins", "tokenize", "use_backend", "wordnet",
]
