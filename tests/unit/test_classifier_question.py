"""The question a turn ends with, as features of its own (`FeatureSpec.question_norm`)."""

import math

import pytest

from router.classifier.conversation import Turn
from router.classifier.features import FeatureSpec, features

SPEC = FeatureSpec(question_norm=0.5)


def question_words(text: str, spec: FeatureSpec = SPEC) -> dict[str, float]:
    return {name: value for name, value in features([Turn(1.0, text)], spec).items() if name.startswith("q ")}


def test_the_last_question_counts_from_the_end_of_the_sentence_before_it():
    text = "Tom has 3 apples. Is that a lot? He eats one. How many apples are left? Answer briefly."
    assert list(question_words(text)) == ["q how", "q many", "q apples", "q are", "q left"]
    assert sum(v * v for v in question_words(text).values()) == pytest.approx(0.5**2)


def test_without_a_question_mark_the_last_line_is_what_is_asked():
    text = "Here is my data:\n1, 2, 3\n\nSort it in Rust\n"
    assert list(question_words(text)) == ["q sort", "q it", "q in", "q rust"]


def test_a_question_on_its_own_line_ends_at_the_line_before_it_in_any_script():
    assert list(question_words("表格如下\n这个公式对吗？")) == [f"q {c}" for c in "这个公式对吗"]
    assert list(question_words("(A) red\nWhich one fits?")) == ["q which", "q one", "q fits"]


def test_question_words_follow_the_digit_choice_and_the_turn_weight():
    assert list(question_words("How much is 12 times 4?")) == ["q how", "q much", "q is", "q times"]
    lengths = question_words("How much is 12 times 4?", FeatureSpec(question_norm=0.5, digits="length"))
    assert "q 00" in lengths and "q 0" in lengths
    earlier = features([Turn(0.5, "Which one fits?")], SPEC)
    assert earlier["q which"] == pytest.approx(0.5 * 0.5 / math.sqrt(3))


def test_off_by_default():
    assert not question_words("How many apples are left?", FeatureSpec())
