"""What a classifier answers, and the low-confidence fallback the router applies to it."""

from dataclasses import dataclass

from serve_app.config import Category


@dataclass(frozen=True, slots=True)
class Classification:
    category: Category
    confidence: float
    reasons: tuple[str, ...]


def with_fallback(result: Classification, min_confidence: float, fallback: Category) -> Classification:
    """Send an unsure decision to the fallback route; a wrong specialist costs more than a generalist.

    The confidence stays the classifier's, so the route metadata shows why the fallback happened.
    """
    if result.confidence >= min_confidence or result.category == fallback:
        return result
    note = f"confidence {result.confidence:.2f} < min_confidence {min_confidence:.2f}: {result.category} → {fallback}"
    return Classification(fallback, result.confidence, (note, *result.reasons))
