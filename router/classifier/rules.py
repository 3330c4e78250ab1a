"""The rules-only baseline: signal scores → category, with a softmax of the scores as confidence.

Kept next to the learned model so every result can be compared with what plain rules achieve
(`qwen-router eval-router FILE --classifier rules`).
"""

import math
from typing import Iterable, Sequence

from deployments.types import Message
from router.classifier.conversation import settled, user_turns
from router.classifier.result import Classification
from router.classifier.features import tokens
from router.classifier.normalise import normalise
from router.classifier.signals import detect
from serve_app.config import Category

_GENERAL_PRIOR = 0.9


def classify_rules(messages: Sequence[Message], *, context_turns: int = 2) -> Classification:
    """Sum each category's signal weights over the user turns; general wins ties and silence."""
    turns = user_turns(messages, context_turns)
    decided = settled(messages, turns)
    if decided is not None:
        return decided
    # General first: on a tie, max() keeps it, the safe default.
    scores: dict[Category, float] = {"general": _GENERAL_PRIOR, "math": 0.0, "code": 0.0, "reasoning": 0.0}
    evidence: dict[Category, list[tuple[float, str]]] = {c: [] for c in scores}
    for turn in turns:
        text = normalise(turn.text)
        for signal, hits, sample in detect(text, tokens(text)):
            gain = turn.weight * signal.weight * hits
            scores[signal.category] += gain
            evidence[signal.category].append((gain, f"{signal.name}: {sample}"))
    category = max(scores, key=lambda c: scores[c])
    reasons = tuple(reason for _, reason in sorted(evidence[category], reverse=True)[:3])
    return Classification(category, round(_softmax_top(scores.values()), 3), reasons or ("no specialist signal",))


def _softmax_top(scores: Iterable[float]) -> float:
    values = list(scores)
    top = max(values)
    return 1.0 / sum(math.exp(v - top) for v in values)
