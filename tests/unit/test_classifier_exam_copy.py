"""Lexical features of an exam-layout turn counted again under names of their own (`FeatureSpec.exam_copy`)."""

import pytest

from router.classifier.conversation import Turn
from router.classifier.features import EXAM_PREFIX, FeatureSpec, features
from router.classifier.model import _describe

SPEC = FeatureSpec(lexical_norm=4.0, exam_copy=True)  # the shipped choice: option lines read
EXAM = "Which gas do plants take in?\nA. oxygen\nB. carbon dioxide\nC. helium\nD. neon"


def copies(text: str, spec: FeatureSpec = SPEC, weight: float = 1.0) -> dict[str, float]:
    return {name: value for name, value in features([Turn(weight, text)], spec).items() if name.startswith(EXAM_PREFIX)}


def test_an_exam_turn_counts_its_lexical_features_twice_at_the_same_values():
    out = features([Turn(1.0, EXAM)], SPEC)
    shared = {name: value for name, value in out.items() if name[0] in "wbp"}
    assert copies(EXAM) == {EXAM_PREFIX + name: value for name, value in shared.items()}
    # The shared names keep the norm they have without the copies.
    assert sum(v * v for v in shared.values()) == pytest.approx(4.0**2)
    assert {name: value for name, value in features([Turn(1.0, EXAM)], FeatureSpec(lexical_norm=4.0)).items()
            if name[0] in "wbp"} == shared


def test_signals_are_not_copied_and_the_turn_weight_applies():
    assert not any(name.startswith(EXAM_PREFIX + "s ") for name in copies(EXAM))
    assert copies(EXAM, weight=0.5)[EXAM_PREFIX + "w plants"] == pytest.approx(0.5 * copies(EXAM)[EXAM_PREFIX + "w plants"])


@pytest.mark.parametrize("text", [
    "Which gas do plants take in? Oxygen or carbon dioxide?",
    "Plan for today:\na) buy milk",  # one lettered line is a list, not an exam
    "Give me three options:\n1. red\n2. blue",  # numbered lines are not lettered options
])
def test_other_layouts_get_no_copies(text):
    assert copies(text) == {}


def test_off_by_default_and_described_in_reasons():
    assert copies(EXAM, FeatureSpec()) == {}
    assert _describe(EXAM_PREFIX + "w plants") == "word 'plants' in an exam layout"


def test_dropped_option_lines_still_mark_the_layout():
    """The layout is read before the option lines are dropped, so the question's words are copied."""
    dropped = copies(EXAM, FeatureSpec(option_lines="drop", exam_copy=True))
    assert EXAM_PREFIX + "w plants" in dropped and EXAM_PREFIX + "w helium" not in dropped
    assert EXAM_PREFIX + "w helium" in copies(EXAM)
