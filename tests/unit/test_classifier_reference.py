"""The classifier's fast paths against straightforward references: same tokens, features, signals, reasons.

Each reference is the plain way to compute the same thing (one regex alternative per character
kind, one dict lookup per word, `re` itself for the patterns, every feature described); edge
cases are empty text, scripts written without spaces, mixed scripts, combining marks and very
long text, next to real requests.
"""

import math
import re
import unicodedata

import numpy as np
import pytest

from router.classifier import signals
from router.classifier.conversation import MAX_CHARS, Turn, bounded
from router.classifier.features import _CJK, _DIGITS, _LAYOUT, _MARKS, _OPTION_LINES, _UNSPACED, SIGNAL_PREFIX
from router.classifier.features import FeatureSpec, features, tokens
from router.classifier.normalise import normalise
from router.classifier.model import _describe, default_model
from router.classifier.records import read_records
from router.classifier.signals import SIGNALS, detect
from router.classifier.train import DATA

EDGE = [
    "", " ", "\n\n", "a", "?", "？", "1", "中", "ภาษาไทยไม่มีช่องว่างระหว่างคำ", "中文没有空格写一个函数吗？",
    "mixed 中文 and ไทย and हिन्दी, 12 ½ ¹² ٣٤ ০১২", "e\u0301te \u0301x", "İstanbul ﬁle Straße ＦＵＬＬ",
    "Which gas is inert?\nA. Oxygen\nB. Argon\n(c) none", "```python\ndef f(x):\n    return x == 1\n```",
    "Could a goldfish live in the Dead Sea? Tom is older than Jane. =SVERWEIS(A2;B:C) costs $12, 3 hours",
    ("could a goldfish live in the dead sea? 写一个函数 ภาษาไทย " * 120),  # very long
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    requests = [bounded(r.messages[-1].text, MAX_CHARS) for r in read_records(DATA / "dev.jsonl")[::20]]
    return EDGE + requests


def reference_tokens(text: str) -> list[str]:
    word = rf"[{_CJK}]|(?:[^\W\d_{_CJK}]|[{_MARKS}])+|\d+|[^\w\s]"
    return [_DIGITS.get(len(t), "000") if t.isdigit() else t for t in re.findall(word, text)]


def reference_features(turns: list[Turn], spec: FeatureSpec) -> dict[str, float]:
    out: dict[str, float] = {}
    for turn in turns:
        text = normalise(turn.text)
        if spec.option_lines == "drop":
            text = _OPTION_LINES.sub("", text)
        toks = reference_tokens(_LAYOUT.sub(" ", text))
        words = [t for t in toks if (len(t) > 1 or t.isalnum()) and (spec.digits != "none" or not t.isdigit())]
        names = ["w " + t for t in words]
        if spec.pairs:
            names += ["b " + a + " " + b for a, b in zip(words, words[1:])]
        if spec.triples:
            names += ["t " + " ".join(words[i : i + 3]) for i in range(len(words) - 2)]
        if spec.stems:
            names += ["p " + t[:5] for t in words if len(t) > 5]
        for w in words:
            if len(w) > 3 and (spec.word_trigrams or _UNSPACED.match(w)):
                names += ["c " + f"<{w}>"[i : i + 3] for i in range(len(w))]
        lexical = dict.fromkeys(names)
        exam = spec.exam_copy and len(re.findall(r"^[ \t]*\(?[a-j][.)][ \t]", normalise(turn.text), re.MULTILINE)) >= 2
        for name in [*lexical, *("x " + name for name in lexical if exam)]:
            out[name] = out.get(name, 0.0) + spec.lexical_norm * turn.weight / math.sqrt(len(lexical))
        if spec.question_norm:
            asked = reference_question(text)
            question = dict.fromkeys("q " + t for t in reference_tokens(_LAYOUT.sub(" ", asked))
                                     if (len(t) > 1 or t.isalnum()) and (spec.digits != "none" or not t.isdigit()))
            for name in question:
                out[name] = out.get(name, 0.0) + spec.question_norm * turn.weight / math.sqrt(len(question))
        for signal, hits, _ in reference_detect(text, toks):
            if signal.name not in spec.without_signals:
                name = SIGNAL_PREFIX + signal.name
                out[name] = out.get(name, 0.0) + turn.weight * turn.weight * hits / signal.cap
    return out


def reference_question(text: str) -> str:
    marks = [i for i, ch in enumerate(text) if ch in "?？"]
    if not marks:
        lines = [line for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""
    start = max((i for i, ch in enumerate(text[: marks[-1]]) if ch in "\n.!?。！？"), default=-1) + 1
    return text[start : marks[-1]]


def reference_detect(text: str, toks: list[str]) -> list[tuple[signals.Signal, int, str]]:
    out = []
    for signal in SIGNALS:
        found = [t for t in toks if t in signal.words or any(t.startswith(stem) for stem in signal.stems)][: signal.cap]
        runs = [tuple(toks[i : i + n]) for n in sorted({len(p) for p in signal.phrases}) for i in range(len(toks) - n + 1)]
        found += [" ".join(run) for run in runs if run in signal.phrases][: signal.cap - len(found)]
        if signal.pattern is not None and len(found) < signal.cap:
            scope = text[: max(text.rfind("?"), 0)] if signal.before_question else text
            found += [m.group(0).strip() for m in re.finditer(signal.pattern.source, scope, re.MULTILINE)][: signal.cap - len(found)]
        if found:
            out.append((signal, len(found), ", ".join(dict.fromkeys(s[:24] for s in found))))
    return out


def test_tokens_match_the_reference(texts):
    for text in texts:
        text = normalise(text)
        assert tokens(text) == reference_tokens(text), text[:80]


SPECS = [FeatureSpec(), default_model().spec, FeatureSpec(word_trigrams=True, digits="length"),
         FeatureSpec(pairs=False, stems=False, lexical_norm=2.0, without_signals=("numbers", "stated facts")),
         FeatureSpec(option_lines="drop", question_norm=0.5), FeatureSpec(digits="length", question_norm=1.0),
         FeatureSpec(option_lines="drop", exam_copy=True), FeatureSpec(triples=True, exam_copy=True)]


@pytest.mark.parametrize("spec", SPECS, ids=range(len(SPECS)))
def test_features_match_the_reference_bit_for_bit(texts, spec):
    for i, text in enumerate(texts):
        turns = [Turn(1.0, text), Turn(0.5, texts[i - 1]), Turn(0.5, text[::-1])]  # earlier turns add to the sums
        for some in (turns[:1], turns):
            got, want = features(some, spec), reference_features(some, spec)
            assert list(got) == list(want) and [v.hex() for v in got.values()] == [v.hex() for v in want.values()], text[:80]


def test_detect_matches_the_reference_across_cache_renewals(texts, monkeypatch):
    monkeypatch.setattr(signals, "_CACHE_LIMIT", 50)  # the token cache is replaced many times over
    monkeypatch.setattr(signals, "_token_hits", {})
    for text in texts:
        text = normalise(text)
        toks = tokens(text)
        want = reference_detect(text, toks)
        assert list(detect(text, toks)) == want, text[:80]
        assert list(detect(text, toks, without={"numbers", "code syntax"})) == [
            found for found in want if found[0].name not in {"numbers", "code syntax"}]


def test_reasons_match_describing_every_feature(texts):
    model = default_model()
    for text in texts:
        if not text.strip():
            continue
        logits, rows, values, _ = model.logits([Turn(1.0, text)])
        best = int(np.argmax(logits))
        weights = model.weights[rows]
        margin = np.array(list(values * (weights[:, best] - (weights.sum(axis=1) - weights[:, best]) / 3)))
        described = [_describe(model.names[row]) for row in rows]
        top = np.argsort(-margin, kind="stable")[:4]
        want = tuple(f"{described[i]} {margin[i]:+.2f}" for i in top if margin[i] > 0) or ("no feature favours it; prior",)
        if not described:
            want = ("no known features",)
        assert model.classify_turns([Turn(1.0, text)]).reasons == want, text[:80]
