"""Accuracy, macro-F1, per-label precision/recall/F1, confusion and latency of a classifier.

The classifier is judged as the router uses it: low-confidence answers take the fallback route
(`min_confidence`, `fallback_category` of RouterConfig), and latency covers the whole decision.
"""

import time
from typing import Any, Callable, Sequence

import numpy as np

from deployments.types import Message
from router.classifier.records import Record
from router.classifier.result import Classification, with_fallback
from serve_app.config import CATEGORIES, Category

ClassifyFn = Callable[[Sequence[Message]], Classification]


def evaluate(
    records: Sequence[Record], classify: ClassifyFn, *, min_confidence: float, fallback: Category
) -> dict[str, Any]:
    """Classify every record once, timing each decision; the metrics as one JSON-ready dict."""
    predicted, latencies_ms = decide(records, classify, min_confidence=min_confidence, fallback=fallback)
    metrics = scored(records, predicted)
    metrics["latency_ms"] = {
        "p50": round(float(np.percentile(latencies_ms, 50)), 4),
        "p99": round(float(np.percentile(latencies_ms, 99)), 4),
    }
    return metrics


def decide(
    records: Sequence[Record], classify: ClassifyFn, *, min_confidence: float, fallback: Category
) -> tuple[list[Category], list[float]]:
    """Each record's category after the fallback, and how long each decision took (ms)."""
    predicted: list[Category] = []
    latencies_ms = []
    for record in records:
        start = time.perf_counter()
        result = with_fallback(classify(record.messages), min_confidence, fallback)
        latencies_ms.append((time.perf_counter() - start) * 1000)
        predicted.append(result.category)
    return predicted, latencies_ms


def scored(records: Sequence[Record], predicted: Sequence[Category]) -> dict[str, Any]:
    """`scores` of the records' labels, and per language where the records name theirs (`lang`)."""
    metrics = scores([r.label for r in records], predicted)
    languages = sorted({r.lang for r in records if r.lang})
    if languages:
        metrics["per_language"] = {}
        for lang in languages:
            members = [(r.label, p) for r, p in zip(records, predicted) if r.lang == lang]
            result = scores([g for g, _ in members], [p for _, p in members])
            metrics["per_language"][lang] = {
                "n": result["n"], "accuracy": result["accuracy"], "macro_f1": result["macro_f1"],
                "f1": {label: row["f1"] for label, row in result["per_label"].items() if row["support"]},
            }
    return metrics


def scores(gold: Sequence[Category], predicted: Sequence[Category]) -> dict[str, Any]:
    """Metrics over the five categories; a label absent from both gold and predictions is left out."""
    labels = [c for c in CATEGORIES if c in gold or c in predicted]
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, predicted):
        confusion[g][p] += 1
    per_label = {}
    for label in labels:
        tp = confusion[label][label]
        predicted_n = sum(confusion[g][label] for g in labels)
        support = sum(confusion[label].values())
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": support}
    scored = [label for label in labels if per_label[label]["support"]]
    n = len(gold)
    return {
        "n": n,
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / n, 4) if n else 0.0,
        "macro_f1": round(sum(per_label[label]["f1"] for label in scored) / len(scored), 4) if scored else 0.0,
        "per_label": per_label,
        "confusion": confusion,
    }


def report(metrics: dict[str, Any]) -> str:
    """The metrics as a terminal table (the same numbers as the --json output)."""
    labels = list(metrics["per_label"])
    lines = [
        f"n={metrics['n']}  accuracy={metrics['accuracy']:.4f}  macro-F1={metrics['macro_f1']:.4f}  "
        f"latency p50={metrics['latency_ms']['p50']:.3f} ms p99={metrics['latency_ms']['p99']:.3f} ms",
        "",
        f"{'label':<10} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}",
    ]
    for label, row in metrics["per_label"].items():
        lines.append(f"{label:<10} {row['precision']:>9.4f} {row['recall']:>7.4f} {row['f1']:>7.4f} {row['support']:>8}")
    lines += ["", "confusion (rows: gold, columns: predicted)", " " * 10 + "".join(f"{p:>10}" for p in labels)]
    for gold in labels:
        lines.append(f"{gold:<10}" + "".join(f"{metrics['confusion'][gold][p]:>10}" for p in labels))
    if "per_language" in metrics:
        lines += ["", "per language (F1 of each label present)", f"{'lang':<6} {'n':>4} {'accuracy':>8}  f1"]
        for lang, row in metrics["per_language"].items():
            f1 = "  ".join(f"{label} {value:.2f}" for label, value in row["f1"].items())
            lines.append(f"{lang:<6} {row['n']:>4} {row['accuracy']:>8.4f}  {f1}")
    return "\n".join(lines)
