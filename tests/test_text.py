"""Tests for svlr_tf.text: tokens, part-of-speech backends, bins, lemmas, WordNet."""

import os

import pytest

from svlr_tf import text
from svlr_tf.runtime.errors import DataError


def _has_wordnet():
  return text.wordnet() is not None


BACKENDS = ["shipped-lexicon", "wordnet-lexicon"]


@pytest.fixture(params=BACKENDS)
def backend(request):
  if request.param == "wordnet-lexicon" and not _has_wordnet():
    pytest.skip("WordNet is not available (/usr/share/wordnet absent)")
  text.use_backend(request.param)
  yield request.param
  text.use_backend(None)


@pytest.fixture
def wordnet_backend():
  if not _has_wordnet():
    pytest.skip("WordNet is not available (/usr/share/wordnet absent)")
  text.use_backend("wordnet-lexicon")
  yield
  text.use_backend(None)


# ---------------------------------------------------------------- tokenize


@pytest.mark.parametrize("raw, expected", [
    ("What color is the dog?", ["what", "color", "is", "the", "dog"]),
    ("What's on the man's T-shirt?",
     ["what", "'s", "on", "the", "man", "'s", "t-shirt"]),
    ("Don't they CAN'T won't", ["do", "n't", "they", "ca", "n't", "wo", "n't"]),
    ("It costs $1,000.50 at 10:30, ok!",
     ["it", "costs", "$", "1,000.50", "at", "10:30", "ok"]),
    ("the dogs' bowls... (2)", ["the", "dogs", "bowls", "2"]),
    ("Is it 3.5 o'clock?", ["is", "it", "3.5", "o'clock"]),
    ("Caf\u00e9 \u00c9CLAIR na\u00efve", ["caf\u00e9", "\u00e9clair", "na\u00efve"]),
    ("It\u2019s curly", ["it", "'s", "curly"]),
    ("hot_dog  \t\n  ", ["hot_dog"]),
    ("", []),
    ("?!...", []),
])
def test_tokenize(raw, expected):
  assert text.tokenize(raw) == expected


def test_tokenize_keeps_punctuation_on_request():
  assert text.tokenize("Is it red?", keep_punctuation=True) == [
      "is", "it", "red", "?"]


# ---------------------------------------------------------------- questions

# (question, bins, nouns, adjectives): the same under both fallback backends.
QUESTIONS = [
    ("What color is the fire hydrant?",
     [["what", "color"], ["hydrant"], ["fire"], ["is", "the"]],
     ["color", "fire", "hydrant"], []),
    ("How many people are in the picture?",
     [["how", "many"], ["people"], ["picture"], ["are", "in", "the"]],
     ["people", "picture"], ["many"]),
    ("Is the man wearing a hat?",
     [["is", "the"], ["man"], ["hat"], ["wearing", "a"]], ["man", "hat"], []),
    ("What is the man holding?",
     [["what", "is"], ["man"], [], ["the", "holding"]], ["man"], []),
    ("What is the dog's name?",
     [["what", "is"], ["dog"], ["name"], ["the", "'s"]], ["dog", "name"], []),
    ("Are there any bigger elephants?",
     [["are", "there"], ["elephants"], [], ["any", "bigger"]],
     ["elephant"], ["big"]),
    ("What kind of dog is this?",
     [["what", "kind"], ["dog"], [], ["of", "is", "this"]], ["kind", "dog"], []),
    ("What are the children eating?",
     [["what", "are"], ["children"], [], ["the", "eating"]], ["child"], []),
    ("Does the giraffe have spots?",
     [["does", "the"], ["giraffe"], ["spots"], ["have"]], ["giraffe", "spot"], []),
    ("Is the sky cloudy?",
     [["is", "the"], ["sky"], [], ["cloudy"]], ["sky"], ["cloudy"]),
    ("What type of food is on the plate?",
     [["what", "type"], ["food"], ["plate"], ["of", "is", "on", "the"]],
     ["type", "food", "plate"], []),
    ("What is the man wearing on his head?",
     [["what", "is"], ["man"], ["head"], ["the", "wearing", "on", "his"]],
     ["man", "head"], []),
    ("What is the building made of?",
     [["what", "is"], ["building"], [], ["the", "made", "of"]], ["building"], []),
    ("Which hand is he using to hold the umbrella?",
     [["which", "hand"], ["umbrella"], [],
      ["is", "he", "using", "to", "hold", "the"]], ["hand", "umbrella"], []),
    ("Is the door open?",
     [["is", "the"], ["door"], [], ["open"]], ["door"], ["open"]),
]


@pytest.mark.parametrize("question, bins, nouns, adjectives", QUESTIONS)
def test_analyze_question(backend, question, bins, nouns, adjectives):
  q = text.analyze_question(question)
  assert q.bins == bins
  assert q.nouns == nouns
  assert q.adjectives == adjectives
  assert len(q.bins) == text.NUM_QUESTION_BINS
  assert sorted(sum(q.bins, [])) == sorted(q.tokens)
  assert len(q.tags) == len(q.tokens)


def test_question_bins_edge_cases(backend):
  assert text.analyze_question("What?").bins == [["what"], [], [], []]
  assert text.analyze_question("").bins == [[], [], [], []]
  # no noun after the question-type words: empty subject bin
  assert text.analyze_question("What is this?").bins == [
      ["what", "is"], [], [], ["this"]]


def test_question_bins_from_tags():
  tagged = [("is", "VBZ"), ("the", "DT"), ("tennis", "NN"), ("racket", "NN"),
            ("near", "IN"), ("the", "DT"), ("net", "NN")]
  assert text.question_bins(tagged) == [
      ["is", "the"], ["racket"], ["tennis", "net"], ["near", "the"]]


# ---------------------------------------------------------------- answers


@pytest.mark.parametrize("answer, nouns, adjectives", [
    ("red", [], ["red"]),
    ("dog", ["dog"], []),
    ("yes", [], []),
    ("no", [], []),
    ("2", [], []),
    ("two", [], []),
    ("2 dogs", ["dog"], []),
    ("white and black", [], ["white", "black"]),
    ("on table", ["table"], []),
    ("tennis racket", ["tennis", "racket"], []),
    ("Giraffes", ["giraffe"], []),
    ("wooden", [], ["wooden"]),
    ("blue and white striped", [], ["blue", "white", "striped"]),
    ("standing", [], []),
])
def test_analyze_answer(backend, answer, nouns, adjectives):
  a = text.analyze_answer(answer)
  assert a.nouns == nouns
  assert a.adjectives == adjectives
  assert a.tokens == text.tokenize(answer)


def test_results_are_fresh_copies(backend):
  first = text.analyze_answer("red dog")
  first.nouns.append("cat")
  first.tokens.clear()
  again = text.analyze_answer("red dog")
  assert again.nouns == ["dog"] and again.tokens == ["red", "dog"]


def test_wordnet_lexicon_uses_sense_counts(wordnet_backend):
  tags = dict(text.pos_tag(["building"]))
  assert tags["building"] == "NN"                      # noun count > verb
  assert dict(text.pos_tag(["sitting"]))["sitting"] == "VBG"
  assert text.pos_tag(["is", "it", "going", "to", "rain"])[-1] == ("rain", "VB")
  assert text.pos_tag(["the", "rain"])[-1] == ("rain", "NN")
  assert text.analyze_answer("skateboards").nouns == ["skateboard"]
  assert text.analyze_answer("an unheardofword").nouns == ["unheardofword"]


def test_lemmatize(backend):
  assert text.lemmatize("dogs", "n") == "dog"
  assert text.lemmatize("women", "n") == "woman"
  assert text.lemmatize("bigger", "a") == "big"
  assert text.lemmatize("grass", "n") == "grass"


# ---------------------------------------------------------------- backends


def test_default_backend_is_fixed_and_others_are_explicit(monkeypatch):
  text.use_backend(None)
  assert text.taggers.DEFAULT_BACKEND == "wordnet-lexicon"
  if _has_wordnet():  # the same default whatever else is installed
    assert text.pos_backend() == "wordnet-lexicon"
  monkeypatch.setattr(text.taggers, "nltk_has", lambda resource: False)
  monkeypatch.setattr(text.taggers, "_perceptrons", {})
  with pytest.raises(DataError, match="averaged_perceptron_tagger_eng"):
    text.use_backend("nltk-perceptron")
  with pytest.raises(ValueError, match="unknown"):
    text.use_backend("stanford")
  text.use_backend("shipped-lexicon")
  try:
    assert text.pos_backend() == "shipped-lexicon"
  finally:
    text.use_backend(None)


def _write_model(path, model):
  import pickle
  with open(path, "wb") as f:
    pickle.dump(model, f, protocol=2)
  import hashlib
  return hashlib.sha256(path.read_bytes()).hexdigest()


def test_perceptron_2013_backend_reads_a_plain_pinned_model(tmp_path, monkeypatch):
  if not _has_wordnet():
    pytest.skip("WordNet is not available (/usr/share/wordnet absent)")
  # A two-class model: "dog" is in the tag dictionary; any other word gets the
  # class with the larger bias weight.
  model = tmp_path / "model.pickle"
  weights = {"bias": {"JJ": 1.0, "NN": 0.5}}
  digest = _write_model(model, (weights, {"dog": "NN"}, {"JJ", "NN"}))
  monkeypatch.setattr(text.taggers, "perceptron_2013_path", lambda: str(model))
  monkeypatch.setattr(text.taggers, "_perceptrons", {})
  monkeypatch.setattr(text.taggers, "PERCEPTRON_2013_SHA256", "0" * 64)
  with pytest.raises(DataError, match="SHA-256"):
    text.use_backend("perceptron-2013")
  monkeypatch.setattr(text.taggers, "PERCEPTRON_2013_SHA256", digest)
  text.use_backend("perceptron-2013")
  try:
    assert text.pos_backend() == "perceptron-2013"
    assert text.pos_tag(["red", "dog"]) == [("red", "JJ"), ("dog", "NN")]
    answer = text.analyze_answer("red dog")
    assert (answer.nouns, answer.adjectives) == (["dog"], ["red"])
  finally:
    text.use_backend(None)


def test_perceptron_2013_refuses_a_pickle_with_code(tmp_path, monkeypatch):
  import os as os_module
  model = tmp_path / "model.pickle"
  digest = _write_model(model, (os_module.getcwd, {}, set()))
  monkeypatch.setattr(text.taggers, "perceptron_2013_path", lambda: str(model))
  monkeypatch.setattr(text.taggers, "_perceptrons", {})
  monkeypatch.setattr(text.taggers, "PERCEPTRON_2013_SHA256", digest)
  import pickle
  with pytest.raises(pickle.UnpicklingError, match="refusing"):
    text.use_backend("perceptron-2013")


def test_perceptron_2013_missing_package_is_one_line(monkeypatch):
  import importlib.util
  monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
  with pytest.raises(DataError, match="textblob-aptagger==0.2.0"):
    text.taggers.perceptron_2013_path()


# ---------------------------------------------------------------- WordNet


def test_build_wordnet_layout(tmp_path):
  source = tmp_path / "wordnet"
  source.mkdir()
  names = [f"{kind}.{pos}" for kind in ("data", "index")
           for pos in ("noun", "verb", "adj", "adv")]
  names += [f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")]
  for name in names + ["index.sense"]:
    (source / name).write_text(name + "\n")
  out = tmp_path / "nltk_data"
  assert text.build_wordnet_layout(str(source), str(out)) == str(out)
  corpus = out / "corpora" / "wordnet"
  for name in names + ["index.sense"]:
    assert (corpus / name).read_text() == name + "\n"
    assert not (corpus / name).is_symlink()
  assert not (corpus / "cntlist.rev").exists()  # optional and absent
  lexnames = (corpus / "lexnames").read_text().splitlines()
  assert len(lexnames) == 45
  assert lexnames[0] == "00\tadj.all\t3"
  assert lexnames[3] == "03\tnoun.Tops\t1"
  assert lexnames[29] == "29\tverb.body\t2"
  assert lexnames[44] == "44\tadj.ppl\t3"
  # a valid layout is kept as is
  stamp = os.stat(corpus / "lexnames").st_mtime_ns
  assert text.build_wordnet_layout(str(source), str(out)) == str(out)
  assert os.stat(corpus / "lexnames").st_mtime_ns == stamp
  # an incomplete source gives None
  (source / "data.noun").unlink()
  assert text.build_wordnet_layout(str(source), str(tmp_path / "x")) is None


def test_hypernym_chain():
  if not _has_wordnet():
    pytest.skip("WordNet is not available (/usr/share/wordnet absent)")
  chain = text.hypernym_chain("dog")
  assert chain[0] == "canine" and chain[-1] == "entity"
  assert chain.index("mammal") < chain.index("animal")
  assert "dog" not in chain
  assert text.hypernym_chain("dogs") == chain
  assert "racket" in text.hypernym_chain("tennis racket")
  assert text.hypernym_chain("zzqxw") == []
  person = text.hypernym_chain("person", all_paths=True)
  assert {"organism", "causal agent"} <= set(person)
  assert person[-1] in ("entity", "object", "whole")
