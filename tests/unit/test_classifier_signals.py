"""Each deterministic signal, in English and in the other languages its lexicon covers."""

import pytest

from deployments.types import Message, TextPart
from router.classifier import classify_rules
from router.classifier.features import features, normalise, tokens
from router.classifier.conversation import Turn, bounded, user_turns
from router.classifier.signals import detect


def fired(text: str) -> set[str]:
    text = normalise(text)
    return {signal.name for signal, _, _ in detect(text, tokens(text))}


@pytest.mark.parametrize(
    "text,signal",
    [
        ("```python\nx = 1\n```", "code fence"),
        ("def parse(line):\n    return line", "code syntax"),
        ("items.append(x) if a == b", "code syntax"),
        ("Why does my Python script crash?", "programming terms"),
        ("¿Cómo depuro este programa?", "programming terms"),
        ("这段代码有问题", "programming terms"),
        ("Write a Go function that adds two numbers", "write-a-function request"),
        ("Schreibe eine Funktion, die zwei Zahlen addiert", "write-a-function request"),
        (r"Compute \frac{1}{2} + \sqrt{3}", "LaTeX"),
        ("Find $x^2 + y^2$ when x = 3", "LaTeX"),
        ("What is 17 * 23?", "equation"),
        ("Solve 3x + 5 = 20", "equation"),
        ("Ratkaise yhtälö", "math terms"),
        ("求解这个方程", "math terms"),
        ("Wie viele Äpfel bleiben übrig?", "math terms"),
        ("He bought 3 books", "numbers"),
        ("It costs $12 and takes 3 hours", "quantities"),
        ("Here is a riddle for you", "logic-puzzle cues"),
        ("Uno de ellos siempre miente", "logic-puzzle cues"),
        ("谁说谎了？", "logic-puzzle cues"),
        ("Riddle: what am I?", "logic-puzzle cues"),
        ("Is this a valid syllogism?", "logic-puzzle cues"),
        ("Tom is older than Jane but younger than Max", "relational clues"),
        ("My mother's brother's son", "relational clues"),
        ("Anna sitzt links von Ben", "relational clues"),
        ("小明比小红高", "relational clues"),
        ("Which gas is inert?\nA. Oxygen\nB. Argon\nC. Chlorine", "multiple-choice options"),
        ("Options:\n(A) red\n(B) blue", "multiple-choice options"),
        ("Ana sits left of Ben. Ben is not last. Who sits in the middle?", "stated facts"),
        ("小明比小红高。小红比小刚高。谁最矮？", "stated facts"),
        ("Could a goldfish survive in the Dead Sea?", "possibility question"),
        ("¿Pudo un romano beber café?", "possibility question"),
        ("孔子有可能用纸写过字吗？", "possibility question"),
        ("Write a poem about rain", "writing task"),
        ("Kirjoita runo sateesta", "writing task"),
    ],
)
def test_signal_fires(text, signal):
    assert signal in fired(text)


@pytest.mark.parametrize(
    "text,signal",
    [
        ("Bring $5 and I'll pay you $10 later", "LaTeX"),  # prices are not TeX
        ("```\nSolve for x\n```", "code fence"),  # a bare fence is layout, not code
        ("Write a script for a video about jazz", "write-a-function request"),
        ("The class met at noon", "code syntax"),
        ("What is the capital of Peru?", "numbers"),
        ("Plan A. First we eat, then we talk.", "multiple-choice options"),  # one lettered line is not a test
        ("The sun is left on all day", "relational clues"),
        ("Write a poem. Make it short and sad.", "stated facts"),  # statements, but no question after them
        ("What is a monad? Explain it simply.", "stated facts"),  # the statement follows the question
        ("Could you explain this error?", "possibility question"),
        ("What would a good name for my cat be?", "possibility question"),
    ],
)
def test_signal_stays_quiet(text, signal):
    assert signal not in fired(text)


def test_hits_are_capped():
    text = normalise("1 2 3 4 5 6 7 8 9 10 11 12")
    [(signal, hits, _)] = [found for found in detect(text, tokens(text)) if found[0].name == "numbers"]
    assert hits == signal.cap


def test_tokens_collapse_digits_and_split_cjk():
    assert tokens(normalise("Ｘ = 12345 写代码")) == ["x", "=", "000", "写", "代", "码"]


def test_option_labels_and_fences_are_not_lexical_features():
    """Lettered options are one signal (a multiple-choice test), never words: benchmarks differ in style."""
    plain = features([Turn(1.0, "Which is a prime?\n2\n4")])
    laid_out = features([Turn(1.0, "Which is a prime?\nA. 2\nB. 4")])
    assert laid_out.keys() - plain.keys() == {"s multiple-choice options"}
    assert "w `" not in features([Turn(1.0, "```\nhello\n```")])


def test_bounded_keeps_head_and_tail():
    text = "H" * 5000 + "T" * 5000
    cut = bounded(text, 1000)
    assert len(cut) == 1001 and cut.startswith("H" * 750) and cut.endswith("T" * 250)
    assert bounded("short", 1000) == "short"


def test_user_turns_latest_first_and_only_users():
    messages = [Message(role, (TextPart(text),)) for role, text in
                [("system", "sys"), ("user", "one"), ("assistant", "a"), ("user", "two"), ("user", "three")]]
    assert [(t.weight, t.text) for t in user_turns(messages, 1)] == [(1.0, "three"), (0.5, "two")]
    assert [t.text for t in user_turns(messages, 5)] == ["three", "two", "one"]
    assert [t.text for t in user_turns(messages, 0)] == ["three"]


@pytest.mark.parametrize(
    "text,expected",
    [("```python\nprint(1)\n```", "code"), ("Solve 2x + 3 = 11", "math"),
     ("Here is a riddle: who tells the truth?", "reasoning"), ("Tell me a joke", "general")],
)
def test_rules_baseline(text, expected):
    result = classify_rules([Message("user", (TextPart(text),))])
    assert result.category == expected and result.reasons
