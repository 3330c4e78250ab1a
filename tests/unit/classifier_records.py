"""Labelled requests from named sources, a few per label: the training data of the LOSO and fit tests."""

from deployments.types import Message, TextPart
from router.classifier.records import Record

TEXTS = {
    "math": "Solve 2x + {n} = 11 for x",
    "code": "Write a python function that returns {n} items",
    "reasoning": "Knights tell the truth and knaves lie; puzzle number {n}: who lies?",
    "general": "Write a short poem about autumn number {n}",
}


def labelled_records(sources: tuple[str, ...]) -> list[Record]:
    """Three requests per label from each source."""
    return [Record(f"{source}-{label}-{n}", label, source, (Message("user", (TextPart(text.format(n=n)),)),))
            for source in sources for label, text in TEXTS.items() for n in range(3)]
