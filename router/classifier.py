"""Which specialist should answer: a request → category, confidence and the reasons.

This is the rules classifier: clear, deterministic signals (an image part; code fences, code
syntax and programming terms; equations, LaTeX and math terms; logic-puzzle cues), scored and
normalised into a confidence. It is pure Python and regexes: microseconds per request, nothing
imported that a router replica would have to load. It reads only user turns (an operator's
system prompt must not decide the route), the latest one fully weighted, a few earlier ones at
half weight so that a follow-up keeps its topic, and at most `MAX_CHARS` of each.
"""

import math
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from deployments.types import Message
from serve_app.config import Category

MAX_CHARS = 4000
_EARLIER_TURN_WEIGHT = 0.5
_GENERAL_PRIOR = 0.9


@dataclass(frozen=True, slots=True)
class Classification:
    category: Category
    confidence: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Signal:
    category: Category
    name: str
    pattern: re.Pattern[str]
    weight: float
    cap: int = 1  # matches counted at most this many times


def _signal(category: Category, name: str, pattern: str, weight: float, cap: int = 1) -> _Signal:
    return _Signal(category, name, re.compile(pattern, re.IGNORECASE | re.MULTILINE), weight, cap)


_SIGNALS: tuple[_Signal, ...] = (
    _signal("code", "code fence", r"```", 4.0),
    _signal(
        "code",
        "code syntax",
        r"^\s*(def |class \w+|import \w+|from \w+ import|#include|public static|fn \w+\(|func \w+\(|"
        r"SELECT .+ FROM|CREATE TABLE|const \w+ =|let \w+ =|function \w+\()|\w+\(.*\)\s*[{:]\s*$|;\s*$",
        1.5,
        cap=3,
    ),
    _signal(
        "code",
        "programming terms",
        r"\b(python|javascript|typescript|java|c\+\+|c#|rust|golang|kotlin|swift|sql|bash|shell script|"
        r"regex|function|method|compile[rsd]?|debug|bug|stack ?trace|exception|api|script|source code|"
        r"code|program|algorithm|array|linked list|recursion|git|docker|kubernetes|html|css|json|"
        r"dataframe|pandas|numpy|react|django|flask|endpoint|unit tests?|refactor)\b",
        1.0,
        cap=4,
    ),
    _signal("code", "write-a-function request", r"\bwrite an? (\w+ )?(function|program|script|class|query)\b", 2.5),
    _signal("math", "LaTeX", r"\\(frac|sqrt|int|sum|prod|cdot|times|binom|log|sin|cos|tan|pi|infty|le|ge|neq)\b|\$[^$\n]+\$", 2.5, cap=2),
    _signal("math", "equation", r"\d\s*[-+*/^×÷]\s*\(?\d|\b[a-z]\s*\^\s*\d|\b\d*[xyz]\s*[-+=]\s*\d", 1.2, cap=3),
    _signal(
        "math",
        "math terms",
        r"\b(solve|equation|integral|derivative|differentiate|probability|prove|theorem|calculate|"
        r"compute|how many|how much|sum of|product of|remainder|divisible|prime|polynomial|fraction|"
        r"percent(age)?|area|perimeter|triangle|circle|radius|angle|matrix|vector|integers?|"
        r"real numbers?|expected value|average|ratio|factorial|logarithm|simplify|evaluate)\b",
        1.0,
        cap=4,
    ),
    _signal("math", "numbers", r"(?<![\w.])\d+(\.\d+)?(?![\w.])", 0.4, cap=5),
    _signal("math", "quantities", r"[$£€]\s?\d|\b\d+(\.\d+)?\s?(%|percent|dollars|cents|hours|miles|km|kg)\b", 0.8, cap=2),
    _signal(
        "reasoning",
        "logic-puzzle cues",
        r"\b(riddle|puzzle|tells? the truth|lies|lie|lying|liars?|knaves?|deduce|deduction|"
        r"valid argument|premises?|conclusion follows|logically|must be true|which of the following is true|"
        r"in what order|arrange(d)? in|fixed order|ranked|constraints?|step by step|"
        r"what (day|date) (is|was|will)|turn (left|right)|take \d+ steps?|who (is|was) (the )?\w+est)\b",
        1.6,
        cap=3,
    ),
    _signal("reasoning", "multiple-choice deduction", r"^\s*\(?[A-G]\)\s", 0.5, cap=2),
)


def classify(messages: Sequence[Message], *, context_turns: int = 2) -> Classification:
    """Decide the category of a request from its user turns (and whether it carries images)."""
    if any(message.images for message in messages):
        return Classification("vision", 1.0, ("image attached",))
    user_turns = [m.text for m in messages if m.role == "user"]
    if not user_turns or not any(t.strip() for t in user_turns):
        return Classification("general", 1.0, ("no user text",))
    latest, earlier = user_turns[-1], user_turns[-1 - context_turns : -1] if context_turns else []
    # General first: on a tie, max() keeps it, the safe default.
    scores: dict[Category, float] = {"general": _GENERAL_PRIOR, "math": 0.0, "code": 0.0, "reasoning": 0.0}
    evidence: dict[Category, list[tuple[float, str]]] = {c: [] for c in scores}
    for weight, text in [(1.0, latest)] + [(_EARLIER_TURN_WEIGHT, t) for t in earlier]:
        for signal, hits, sample in _matches(_bounded(text)):
            gain = weight * signal.weight * hits
            scores[signal.category] += gain
            evidence[signal.category].append((gain, f"{signal.name}: {sample}"))
    category = max(scores, key=lambda c: scores[c])
    confidence = _softmax_top(scores.values())
    reasons = tuple(reason for _, reason in sorted(evidence[category], reverse=True)[:3])
    return Classification(category, round(confidence, 3), reasons or ("no specialist signal",))


def _matches(text: str) -> Iterable[tuple[_Signal, int, str]]:
    for signal in _SIGNALS:
        found = [m.group(0).strip() for _, m in zip(range(signal.cap), signal.pattern.finditer(text))]
        if found:
            yield signal, len(found), ", ".join(dict.fromkeys(s[:24] for s in found))


def _bounded(text: str) -> str:
    """Head and tail of a long text: the question is usually at one end of a pasted document."""
    if len(text) <= MAX_CHARS:
        return text
    half = MAX_CHARS // 2
    return text[:half] + "\n" + text[-half:]


def _softmax_top(scores: Iterable[float]) -> float:
    values = list(scores)
    top = max(values)
    return 1.0 / sum(math.exp(v - top) for v in values)
