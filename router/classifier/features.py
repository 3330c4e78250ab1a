"""Text → sparse features: words, word pairs, word stems, and the deterministic signals.

Everything is lower-cased and NFKC-normalised; digit runs collapse to their length (1, 2, 3+
digits), so the model learns "there is a number here", not which one; multiple-choice option
labels, code fences and other symbols are not lexical features (layout or notation: the signals
read the notation that matters, equations and code syntax). CJK characters count as
words of their own. Lexical features of a turn have a fixed L2 norm (a long text is not louder;
the turn's weight decides its share); signal features keep a fixed scale, so the learned weight
of, say, "math terms" applies in every language the signal's lexicon covers.
"""

import math
import re
import unicodedata
from typing import Iterable

from router.classifier.conversation import Turn
from router.classifier.signals import detect

SIGNAL_PREFIX = "s "
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W\d_]+|\d+|[^\w\s]")
_DIGITS = {1: "0", 2: "00"}
# Layout, not topic: "A." / "(b)" option labels (benchmarks differ in style).
_LAYOUT = re.compile(r"^[ \t]*\(?[a-j][.)][ \t]", re.MULTILINE)
_STEM = 5  # words longer than this also count by their first letters: functions ~ functional
# A turn's lexical features have this L2 norm, next to signals of weight up to 1 each. Larger
# values fit the training sources better under cross-validation but let English words drown the
# signals that carry other languages (at 2.0 the multilingual check set scored 0.78-0.85).
LEXICAL_NORM = 1.0


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> list[str]:
    """Tokens of normalised text: words, single CJK characters, digit runs, single symbols."""
    return [_DIGITS.get(len(t), "000") if t.isdigit() else t for t in _TOKEN.findall(text)]


def features(turns: Iterable[Turn]) -> dict[str, float]:
    """The weighted sum of the turns' features, in a deterministic order.

    An earlier turn's signals count at its weight squared: it lends its topic to a follow-up
    ("now make it faster"), but a strong signal in an old turn must not outvote a new question.
    """
    out: dict[str, float] = {}
    for turn in turns:
        text = normalise(turn.text)
        toks = tokens(_LAYOUT.sub(" ", text))
        lexical = _lexical(toks)
        if lexical and not out:
            out = dict.fromkeys(lexical, LEXICAL_NORM * turn.weight / math.sqrt(len(lexical)))
        elif lexical:
            value = LEXICAL_NORM * turn.weight / math.sqrt(len(lexical))
            for name in lexical:
                out[name] = out.get(name, 0.0) + value
        for signal, hits, _ in detect(text, toks):
            name = SIGNAL_PREFIX + signal.name
            out[name] = out.get(name, 0.0) + turn.weight * turn.weight * hits / signal.cap
    return out


def _lexical(toks: list[str]) -> dict[str, None]:
    """Distinct feature names in first-seen order (a dict, so sums run in the same order every run)."""
    toks = [t for t in toks if t.isalnum()]  # symbols are layout or notation, which the signals read
    names = ["w " + t for t in toks]
    names += ["b " + a + " " + b for a, b in zip(toks, toks[1:])]
    names += ["p " + t[:_STEM] for t in toks if len(t) > _STEM]
    return dict.fromkeys(names)
