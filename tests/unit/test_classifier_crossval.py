"""Grouped cross-validation: whole topics stay in one fold, folds are balanced and deterministic."""

from collections import Counter

import numpy as np

from deployments.types import Message, TextPart
from router.classifier.crossval import cross_validate, folds
from router.classifier.records import Record
from router.classifier.train import featurise

TEXTS = {
    "math": "Solve 2x + {n} = 11 for x",
    "code": "Write a python function that returns {n} items",
    "reasoning": "Knights tell the truth and knaves lie; puzzle number {n}: who lies?",
    "general": "Write a short poem about autumn number {n}",
}


def _records() -> list[Record]:
    out = []
    for label, text in TEXTS.items():
        source = "mmlu/poetry" if label == "general" else label
        for n in range(20):
            subject = f"{source}_{n % 4}" if source.startswith("mmlu/") else source
            out.append(Record(f"{label}-{n}", label, subject, (Message("user", (TextPart(text.format(n=n)),)),)))
    return out


def test_whole_topics_stay_in_one_fold_and_labels_spread_evenly():
    records = _records()
    fold = folds(records, k=4)
    for subject in {r.source for r in records if r.source.startswith("mmlu/")}:
        assert len({fold[i] for i, r in enumerate(records) if r.source == subject}) == 1
    for label in ("math", "code", "reasoning"):
        assert set(Counter(fold[i] for i, r in enumerate(records) if r.label == label).values()) == {5}
    assert np.array_equal(fold, folds(records, k=4))


def test_cross_validate_scores_every_label():
    records = _records()
    result = cross_validate(records, featurise(records), folds(records, k=4), l2=1e-5, signals_only_weight=0.3)
    assert set(result["f1"]) == {"math", "code", "reasoning", "general"}
    assert 0.0 <= result["macro_f1"] <= 1.0


def test_benchmark_items_and_authored_requests_are_also_scored_apart():
    records = _records()
    authored_code = [Record(f"authored/code-{n}", "code", "authored/code",
                            (Message("user", (TextPart(f"How do I read {n} lines of a file in python?"),)),)) for n in range(8)]
    result = cross_validate(records + authored_code, featurise(records + authored_code),
                            folds(records + authored_code, k=4), l2=1e-5, signals_only_weight=0.3)
    benchmarks_only = cross_validate(records, featurise(records), folds(records, k=4), l2=1e-5, signals_only_weight=0.3)
    assert benchmarks_only["authored_accuracy"] == 0.0
    assert benchmarks_only["benchmark_macro_f1"] == benchmarks_only["macro_f1"]
    assert 0.0 < result["authored_accuracy"] <= 1.0
