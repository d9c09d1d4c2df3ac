"""Word-less against grounded answers under Eq. 9 (hand-made scores)."""

import numpy as np
import pytest

from svlr_tf.evaluation import zero_shot_analysis as zsa


class Split:
  def __init__(self, nouns, adjectives):
    self.choice_nouns = np.asarray(nouns)
    self.choice_adjectives = np.asarray(adjectives)


def test_wordless_choices():
  nouns = [[[0, 0], [5, 0], [0, 0]]]
  adjectives = [[[0, 0], [0, 0], [0, 7]]]
  np.testing.assert_array_equal(zsa.wordless_choices(Split(nouns, adjectives)),
                                [[True, False, False]])


# Question 0 (yes/no, answer "yes" = choice 0), question 1 (other, answer "red" =
# choice 1). Choice 0 is word-less in both, choices 1 and 2 grounded.
SCORES = np.array([[-0.1, 0.4, -0.5], [0.0, 0.3, 0.2]])
WORDLESS = np.array([[True, False, False], [True, False, False]])
ACCURACY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
YES_NO = np.array([True, False])


def test_score_distributions():
  out = zsa.score_distributions(SCORES, WORDLESS, ACCURACY, YES_NO)
  assert out["wordless"]["choices"] == 2 and out["grounded"]["choices"] == 4
  assert out["wordless"]["mean"] == pytest.approx(-0.05)
  assert out["wordless"]["positive"] == 0.0 and out["wordless"]["zero"] == 0.5
  assert out["grounded"]["positive"] == 0.75
  assert out["grounded_wins"] == 1.0 and out["picked_wordless"] == 0.0
  assert out["accuracy"] == {"overall": 50.0, "yes/no": 0.0, "other": 100.0}


def test_offset_sweep():
  # Offset 0 is Eq. 9 as written: "red" wins both (50%). -0.2: 0.4 - 0.2 still
  # beats "yes" (-0.1), 0.3 - 0.2 still beats 0.0 (50%). -0.45: question 0 picks
  # 0.4 - 0.45 = -0.05 > -0.1 (wrong), question 1 picks the word-less 0.0 over
  # -0.15 (wrong): 0%. -0.6: "yes" wins question 0, the word-less 0.0 still
  # wins question 1: 50%. No offset gets both right.
  assert zsa.offset_sweep(SCORES, WORDLESS, ACCURACY, [0.0, -0.2, -0.45, -0.6]) == [
      50.0, 50.0, 0.0, 50.0]
