"""Text → sparse features: words, word pairs (and, as an option, triples), word stems, character n-grams and the signals.

Everything is lower-cased and NFKC-normalised (`normalise`). Digit runs are number-insensitive: by
default they are no lexical feature at all (the "numbers" signal counts them), so "houses numbered
1 to 4" reads like "houses numbered" and a digit does not mean math. Multiple-choice option labels,
code fences and other symbols are not lexical features (layout or notation: the signals read the
notation that matters, equations and code syntax). Chinese, Japanese and Korean characters count as
words of their own (their pairs are the character bigrams); runs of scripts written without spaces
(Thai, Lao, Khmer, Myanmar) and, as an option, every word also count by their character trigrams;
as an option, the words of the question a text ends with count again on their own; and, as an
option the shipped model takes, the words of a turn laid out as an exam count again under names of
their own, so one word can follow the benchmarks' label convention in an exam item and the chat
convention elsewhere. Words keep their combining marks (Devanagari and other Indic vowel signs,
Arabic and Hebrew points), so a Hindi word stays one word. Lexical features of a turn have a fixed
L2 norm (a long text is not louder; the turn's weight decides its share); signal features keep a
fixed scale, so the learned weight of, say, "math terms" applies in every language the signal's
lexicon covers. `FeatureSpec` names the choices; the artefact records the one it was trained with.
"""

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from router.classifier.conversation import Turn
from router.classifier.normalise import normalise
from router.classifier.signals import detect

SIGNAL_PREFIX = "s "
EXAM_PREFIX = "x "  # prefix of the exam-layout copies of lexical features (`FeatureSpec.exam_copy`)
# Letters with their combining marks (Indic vowel signs, Arabic/Hebrew points, Thai vowels).
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0963\u0971-\u0dff\u0e31-\u0e3a\u0e47-\u0e4e\u0eb1-\u0ecd\u102b-\u103e\u17b4-\u17d3"
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
# A word is a run of letters and marks, matched as possessive runs of each: the same tokens as
# `(?:letter|mark)+`, but without a backtracking point per character (twice as fast).
_TOKEN = re.compile(rf"[{_CJK}]|(?:[^\W\d_{_CJK}]++|[{_MARKS}]++)++|\d+|[^\w\s]")
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")  # Thai, Lao, Myanmar, Khmer
_DIGITS = {1: "0", 2: "00"}
# Layout, not topic: "A." / "(b)" option labels (benchmarks differ in style).
_LAYOUT = re.compile(r"^[ \t]*\(?[a-j][.)][ \t]", re.MULTILINE)
# Whole option lines of a multiple-choice layout, and an "Options:" heading.
_OPTION_LINES = re.compile(r"^[ \t]*(?:\(?[a-j][.)][ \t].*|options:[ \t]*)$", re.MULTILINE)
# Where a question begins: after the line or sentence before it (in normalised text: NFKC has made
# full-width ！ and ？ the ASCII marks, and `normalise` the Arabic question mark).
_QUESTION_STARTS = "\n.!?。"
_STEM = 5  # words longer than this also count by their first letters: functions ~ functional
_GRAM = 3


@dataclass(frozen=True)
class FeatureSpec:
    """Which lexical features a model reads (chosen by leave-one-source-out evaluation)."""

    pairs: bool = True
    triples: bool = False  # three words in a row, next to the pairs
    stems: bool = True
    word_trigrams: bool = False  # character trigrams of every word, not only of unspaced scripts
    digits: str = "none"  # "none": no lexical digit features; "length": 0 / 00 / 000 by digit count
    # A turn's lexical features have this L2 norm, next to signals of weight up to 1 each.
    lexical_norm: float = 1.0
    without_signals: tuple[str, ...] = ()  # signals the model does not read
    # Lettered option lines: "keep" reads them (their labels are layout), "drop" reads only the
    # question (what is asked decides the label; options full of dates or times say math).
    option_lines: str = "keep"
    # The words of the question a turn ends with (its last question, else its last line) also count
    # on their own, at this L2 norm: what is asked, apart from the material it is asked about. 0: not.
    question_norm: float = 0.0
    # A turn laid out as an exam (two or more lettered option lines) also counts its lexical
    # features under names of their own ("x " + name): the same words may follow the benchmarks'
    # label convention there (an item is labelled by its subject) and the chat convention elsewhere.
    exam_copy: bool = False

    def as_meta(self) -> dict[str, Any]:
        return {**asdict(self), "without_signals": list(self.without_signals)}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> "FeatureSpec":
        return cls(**{**meta, "without_signals": tuple(meta.get("without_signals", ()))})


DEFAULT_SPEC = FeatureSpec()


def tokens(text: str) -> list[str]:
    """Tokens of normalised text: words, single CJK characters, digit runs (0 / 00 / 000), single symbols."""
    return [_DIGITS.get(len(t), "000") if t.isdigit() else t for t in _TOKEN.findall(text)]


def features(turns: Iterable[Turn], spec: FeatureSpec = DEFAULT_SPEC) -> dict[str, float]:
    """The weighted sum of the turns' features, in a deterministic order.

    An earlier turn's signals count at its weight squared: it lends its topic to a follow-up
    ("now make it faster"), but a strong signal in an old turn must not outvote a new question.
    """
    out: dict[str, float] = {}
    for turn in turns:
        text = normalise(turn.text)
        exam = spec.exam_copy and len(_LAYOUT.findall(text)) >= 2
        if spec.option_lines == "drop":
            text = _OPTION_LINES.sub("", text)
        toks = tokens(_LAYOUT.sub(" ", text))
        lexical = _lexical(toks, spec)
        if lexical:
            value = spec.lexical_norm * turn.weight / math.sqrt(len(lexical))
            if exam:  # the copies at the same values: the shared names keep their weight
                lexical |= dict.fromkeys(EXAM_PREFIX + name for name in lexical)
            if not out:  # the first turn's names are all new: the same sums, in C
                out = dict.fromkeys(lexical, value)
            else:
                for name in lexical:
                    out[name] = out.get(name, 0.0) + value
        if spec.question_norm:
            _add_question(out, text, spec.question_norm * turn.weight, spec.digits == "none")
        for signal, hits, _ in detect(text, toks, without=spec.without_signals):
            name = SIGNAL_PREFIX + signal.name
            out[name] = out.get(name, 0.0) + turn.weight * turn.weight * hits / signal.cap
    return out


def _add_question(out: dict[str, float], text: str, norm: float, drop_digits: bool) -> None:
    """Adds the words of the text's last question (else of its last non-empty line) as "q" features:
    the stretch before its last question mark, back to the end of the line or sentence before it
    ("Is the following sentence plausible?", "How many apples are left?")."""
    end = text.rfind("?")
    if end >= 0:
        question = text[max(text.rfind(c, 0, end) for c in _QUESTION_STARTS) + 1 : end]
    else:
        question = next((line for line in reversed(text.splitlines()) if line.strip()), "")
    words = dict.fromkeys("q " + t for t in _words(tokens(_LAYOUT.sub(" ", question)), drop_digits))
    for name in words:
        out[name] = out.get(name, 0.0) + norm / math.sqrt(len(words))


def _words(toks: list[str], drop_digits: bool) -> list[str]:
    """The tokens that are words: no symbols, and no digit runs when digits are no lexical feature.

    Symbols are single characters that are not alphanumeric; a word with marks (हिन्दी) is no symbol."""
    return [t for t in toks if (len(t) > 1 or t.isalnum()) and not (drop_digits and t.isdigit())]


def _lexical(toks: list[str], spec: FeatureSpec) -> dict[str, None]:
    """Distinct feature names in first-seen order (a dict, so sums run in the same order every run)."""
    words = _words(toks, spec.digits == "none")
    names = ["w " + t for t in words]
    if spec.pairs:
        names += [f"b {a} {b}" for a, b in zip(words, words[1:])]
    if spec.triples:
        names += [f"t {a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:])]
    if spec.stems:
        names += ["p " + t[:_STEM] for t in words if len(t) > _STEM]
    # One search of all the words first: most texts have no unspaced script, so no word is checked.
    if spec.word_trigrams or _UNSPACED.search("".join(words)):
        for word in words:
            if len(word) > _GRAM and (spec.word_trigrams or _UNSPACED.match(word)):
                padded = f"<{word}>"
                names += ["c " + padded[i : i + _GRAM] for i in range(len(padded) - _GRAM + 1)]
    return dict.fromkeys(names)
