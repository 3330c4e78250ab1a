"""The faster alternation finds exactly what `re` finds: the same matches, spans and order."""

import random
import re

import pytest

from router.classifier.alternation import Alternation, _alternatives, _head
from router.classifier.conversation import MAX_CHARS, bounded
from router.classifier.normalise import normalise
from router.classifier.records import read_records
from router.classifier.signals import SIGNALS
from router.classifier.train import DATA


def assert_same(alternation: Alternation, text: str) -> None:
    expected = [(m.span(), m.group(0)) for m in re.compile(alternation.source, re.MULTILINE).finditer(text)]
    assert [(m.span(), m.group(0)) for m in alternation.finditer(text)] == expected, (alternation.source, text)


@pytest.mark.parametrize(
    "source,text",
    [
        ("ab|a|abc", "abc ab a"),  # a shorter alternative first wins where both match
        ("abc|ab|a", "abc ab a"),
        ("方程|方程式", "方程式 方程"),
        ("方程式|方程", "方程式 方程"),
        ("cat|dog|car|c", "car cat cx dog"),  # alternatives with one first character, apart
        ("tells? the truth|tell me", "tell the truth, tells the truth, tell me"),  # a quantified last literal
        (r"\$\d|\.x|\\y", "$5 .x \\y"),
        (r"\-a|-b|\-c", "-a -b -c"),  # one character written two ways
        (r"[|(]x|a[)]|b", "|x (x a) b"),  # "|" and parentheses inside a class
        (r"\d+x|1y|[a-c]z|bq", "12x 1y bz bq 1x"),  # literals a class also matches
        (r"\d|1y|[a-c]|bq", "1y 21y bq abq"),
        (r"1y|\d|bq|[a-c]", "1y 21y bq abq"),
        (r"\dx|1y|\dz|\d", "1y 1z 1x 2"),  # a class shared only by neighbours
        (r"\d\s?x|\dy|\d+z|[$£€]\s?\d|[ab]+c", "1 x 1y 12z $ 3 £4 € abc bc"),  # plain classes spelled out
        (r".a|ba", "ba\nba xa"),
        (r"^foo|bar|^[ \t]*baz", "foo bar\n  baz foo\nfoo"),  # anchors
        (r"could(?<!\wcould) a|can(?<![\w,] can) b", "could a xcould a, can b ,can b"),  # look-behinds
        ("(?:ab|ac)", "ab ac ad"),
        ("(?:ab)|(?:ac)", "ab ac ad"),
        ("(?:a)b|c", "ab c"),
        (r"(?=[ab])(?:a1|b2)", "a1 b2 c3"),  # not an alternation: compiled as it is
        ("x|", "axb"),  # an empty alternative matches everywhere
        ("alpha|beta", ""),
        ("中|文|ab", "中文ab中" * 500),  # long, no spaces
        ("über|ü|niño|ñ|x", "über ü niño ñ x ü"),
    ],
)
def test_matches_what_re_matches(source, text):
    assert_same(Alternation(source, re.MULTILINE), text)


def test_literal_heads():
    assert _head(r"tells? the") == ([("t", "t"), ("e", "e"), ("l", "l"), ("l", "l")], "s? the")
    assert _head(r"\$\d") == ([("$", r"\$")], r"\d")
    assert _head(r"(?:a)b") == ([], "(?:a)b")
    assert _alternatives(r"(?:a|[|)]|(b|c))") == ["a", r"\|", r"\)", "(b|c)"]
    assert _alternatives(r"(?:a)|(?:b)") == ["(?:a)", "(?:b)"]
    assert _alternatives(r"[$€]\d|[a-c]x|[ab]?y") == [r"\$\d", r"€\d", "[a-c]x", "[ab]?y"]


def test_a_phrase_list_gets_one_search_per_first_character():
    assert len(Alternation("alpha|beta|apple|中文|文字")._parts) == 3  # a, b, and the other scripts
    assert len(Alternation(r"^alpha|beta")._parts) == 1  # an anchor may start anywhere
    assert Alternation(r"\d\s?x|\d\s?y|[$€]\d")._parts[0].pattern == r"\d(?:\s?x|\s?y)"


@pytest.mark.parametrize("source,flags", [("ab|cd", re.IGNORECASE), ("(?i)ab|cd", 0), ("(a)|b", 0)])
def test_refuses_what_it_cannot_keep_exact(source, flags):
    with pytest.raises(ValueError):
        Alternation(source, flags)


def _texts_for(source: str, rng: random.Random) -> list[str]:
    """Texts full of the pattern's literal heads, cut and glued with the characters around them."""
    heads = ["".join(char for char, _ in _head(alternative)[0]) for alternative in _alternatives(source)]
    glue = [" ", "", ", ", ". ", "?", "\n", "1", "2 ", "a", "x ", "中", "$", "=", ":", "(", ")"]
    texts = [" ".join(heads), "".join(heads), "\n".join(heads)]
    for _ in range(60):
        parts = [rng.choice(heads)[: rng.randint(1, 12)] + rng.choice(glue) for _ in range(rng.randint(1, 30))]
        texts.append("".join(parts))
    return texts


@pytest.fixture(scope="module")
def dev_texts() -> list[str]:
    texts = [normalise(bounded(r.messages[-1].text, MAX_CHARS)) for r in read_records(DATA / "dev.jsonl")]
    return texts + ["", " ", "?", "ภาษาไทยไม่มีช่องว่าง", "中文没有空格写一个函数吗？", "mixed 中文 ไทย हिन्दी 12 ½", "x" * 20_000]


@pytest.mark.parametrize("signal", [s for s in SIGNALS if s.pattern is not None], ids=lambda s: s.name)
def test_every_signal_pattern_matches_what_re_matches(signal, dev_texts):
    rng = random.Random(signal.name)
    for text in dev_texts + _texts_for(signal.pattern.source, rng):
        assert_same(signal.pattern, text)
