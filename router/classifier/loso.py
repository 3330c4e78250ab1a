"""Model selection by leave-one-source-out evaluation: how the classifier does on a source it never saw.

A source is a whole data set: each benchmark of `train.jsonl` (gsm8k, math500, mbpp,
arena_hard_v2, bbh, mmlu, vicuna80, llava_coco90's text-only questions), the authored requests,
and each file of natural and of harness requests (`natural/<name>`, `harness/<name>`). For each
source, a model is fitted on all the others and scores the one held out (argmax, before the
router's low-confidence fallback). The figure every choice is made by is the macro-F1 of all
held-out predictions pooled; the mean of the per-source accuracies is reported beside it (each
source counts once, whatever its size).
Cross-validation inside the same sources promised more than traffic from elsewhere gives; this
asks the question that traffic asks. The dev and check sets are never read here.

    qwen-router train-router --leave-one-source-out [--candidates shipped no-stems ...] [--jobs 2]
"""

import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from router.classifier.embedding import TokenTable, wordllama_table
from router.classifier.evaluate import scores
from router.classifier.features import FeatureSpec
from router.classifier.records import Record
from router.classifier.train import LABELS, SHIPPED, TRAINING, Featurised, Settings, fit_on, training_records

# The shipped settings first, then the neighbours they were chosen against (the README gives the
# figures, and those of earlier rounds).
CANDIDATES: dict[str, Settings] = {
    "shipped": SHIPPED,
    "embedding-1": SHIPPED.but(embedding_scale=1.0),
    "hand-written-x8": SHIPPED.but(authored_weight=8.0, natural_weight=8.0),
    "all-hand-written-x8": SHIPPED.but(authored_weight=8.0, natural_weight=8.0, harness_weight=8.0),
    "hand-written-x32": SHIPPED.but(authored_weight=32.0, natural_weight=32.0),
    "harness-x4": SHIPPED.but(harness_weight=4.0),
    "harness-x32": SHIPPED.but(harness_weight=32.0),
    # The harness files still held out and scored, but never trained on: what they add elsewhere.
    "without-harness": SHIPPED.but(harness_weight=0.0),
    "l2-1e-7": SHIPPED.but(l2=1e-7),
    "l2-3e-7": SHIPPED.but(l2=3e-7),
    "l2-3e-6": SHIPPED.but(l2=3e-6),
    "l2-1e-5": SHIPPED.but(l2=1e-5),
    "signals-only-0.1": SHIPPED.but(signals_only_weight=0.1),
    "signals-only-1": SHIPPED.but(signals_only_weight=1.0),
    "no-possibility": SHIPPED.but(without_signals=("possibility question",)),
    "no-math-concepts": SHIPPED.but(without_signals=("math concepts",)),
    "no-exam-copy": SHIPPED.but(exam_copy=False),
    # The options signal reads the option lines, so without it they are dropped too.
    "no-multiple-choice": SHIPPED.but(without_signals=("multiple-choice options",), option_lines="drop"),
    # The settings of rounds 19 to 22: neither the options nor the exam copy, and L2 3e-7.
    "round-22": SHIPPED.but(without_signals=("multiple-choice options",), option_lines="drop", exam_copy=False,
                            l2=3e-7),
    "min-sources-3": SHIPPED.but(min_sources=3),
    # Its soft form: a feature few training data sets use is fitted at g / (g + k) of its value.
    "source-spread-1": SHIPPED.but(source_spread=1.0),
    "source-spread-4": SHIPPED.but(source_spread=4.0),
    "word-trigrams": SHIPPED.but(word_trigrams=True),
    # The lexical kinds one at a time: does a source's phrasing live in its word pairs or stems?
    "no-pairs": SHIPPED.but(pairs=False),
    "no-stems": SHIPPED.but(stems=False),
    # Three words in a row as well: without the pairs, held-out sources lose 0.012.
    "word-triples": SHIPPED.but(triples=True),
    # Without the copies of each request with half its lexical features dropped (round 25's settings).
    "no-word-dropout": SHIPPED.but(word_dropout=0.0),
    "word-dropout-0.7": SHIPPED.but(word_dropout=0.7),
    "question-words": SHIPPED.but(question_norm=0.5),
    # Words, pairs and stems at other norms: the signals, which every language and source
    # shares, weigh more or less against them at the same regularisation.
    "lexical-norm-0.5": SHIPPED.but(lexical_norm=0.5),
    "lexical-norm-1": SHIPPED.but(lexical_norm=1.0),
    "lexical-norm-2": SHIPPED.but(lexical_norm=2.0),
    "lexical-norm-3": SHIPPED.but(lexical_norm=3.0),
    "lexical-norm-6": SHIPPED.but(lexical_norm=6.0),
    "lexical-norm-8": SHIPPED.but(lexical_norm=8.0),
    "digit-lengths": SHIPPED.but(digits="length"),
    "previous": Settings(FeatureSpec(digits="length"), l2=1e-3, signals_only_weight=1.0, authored_weight=3.0,
                         natural_weight=3.0, embedding_scale=0.0),
}


@dataclass(frozen=True)
class HeldOut:
    predicted: np.ndarray  # per record, label index
    sources: tuple[str, ...]  # per record

    def report(self, y: np.ndarray) -> dict[str, Any]:
        gold = [LABELS[i] for i in y]
        pooled = scores(gold, [LABELS[i] for i in self.predicted])
        per_source = {}
        for source in sorted(set(self.sources)):
            members = np.array([s == source for s in self.sources])
            result = scores([g for g, m in zip(gold, members) if m], [LABELS[i] for i in self.predicted[members]])
            per_source[source] = {
                "n": int(members.sum()), "accuracy": result["accuracy"],
                "recall": {label: row["recall"] for label, row in result["per_label"].items() if row["support"]},
            }
        return {
            "pooled_macro_f1": pooled["macro_f1"],
            "pooled_accuracy": pooled["accuracy"],
            "pooled_f1": {label: row["f1"] for label, row in pooled["per_label"].items()},
            "mean_source_accuracy": round(float(np.mean([s["accuracy"] for s in per_source.values()])), 4),
            "per_source": per_source,
        }


def leave_one_source_out(data: Featurised, settings: Settings, jobs: int = 1) -> HeldOut:
    """Every record's prediction by the model fitted on all the other sources; `jobs` folds at a
    time, in forked processes (the folds are independent, and each fit runs on one core)."""
    sources = data.sets
    held_out = [np.array([s == source for s in sources]) for source in sorted(set(sources))]
    data.design(settings.spec)  # featurised once, before any fork, so every worker shares it
    if jobs == 1:
        fold_predictions = [_fold(data, settings, test) for test in held_out]
    else:
        fold_predictions = _in_forked_workers(data, settings, held_out, jobs)
    predicted = np.zeros(len(sources), dtype=np.int64)
    for test, fold in zip(held_out, fold_predictions):
        predicted[test] = fold
    return HeldOut(predicted, sources)


def _fold(data: Featurised, settings: Settings, test: np.ndarray) -> np.ndarray:
    fitted, keep = fit_on(data, np.flatnonzero(~test), settings)
    return fitted.logits(data.design(settings.spec).rows(np.flatnonzero(test)), keep).argmax(axis=1)


# What forked workers read: set before the pool forks, so the featurised data (hundreds of MB)
# reaches them by copy-on-write memory instead of being serialised for every fold.
_FORKED: tuple[Featurised, Settings] | None = None


def _forked_fold(test: np.ndarray) -> np.ndarray:
    assert _FORKED is not None
    return _fold(*_FORKED, test)


def _in_forked_workers(data: Featurised, settings: Settings, held_out: list[np.ndarray], jobs: int) -> list[np.ndarray]:
    global _FORKED
    _FORKED = (data, settings)
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_forked_fold, held_out))
    finally:
        _FORKED = None


def featurised(records: Sequence[Record], candidates: Iterable[Settings]) -> Featurised:
    """The records featurised once, embedded only if a candidate reads embeddings."""
    table = None
    if any(settings.embedding_scale for settings in candidates):
        tokenizer_json, vectors = wordllama_table()
        table = TokenTable.from_json(tokenizer_json, vectors)
    return Featurised(records, table)


def run(
    train_paths: Iterable[Path] = TRAINING,
    names: Sequence[str] = tuple(CANDIDATES),
    output: Path | None = None,
    log: Callable[[str], None] = print,
    jobs: int = 1,
) -> dict[str, Any]:
    """Each named candidate's leave-one-source-out figures; the per-source table of the first."""
    unknown = [name for name in names if name not in CANDIDATES]
    if unknown:
        raise ValueError(f"unknown candidates {unknown}; choose from {list(CANDIDATES)}")
    records = training_records(train_paths)
    data = featurised(records, [CANDIDATES[name] for name in names])
    log(f"{len(records)} requests from {len(set(data.sets))} sources")
    log(f"{'candidate':<18} {'pooled macro-F1':>15} {'mean source acc':>15} " + " ".join(f"{label:>9}" for label in LABELS)
        + f" {'seconds':>8}")
    results: dict[str, Any] = {}
    for name in names:
        start = time.perf_counter()
        result = leave_one_source_out(data, CANDIDATES[name], jobs).report(data.y)
        results[name] = {"settings": CANDIDATES[name].as_meta(), **result}
        log(f"{name:<18} {result['pooled_macro_f1']:>15.4f} {result['mean_source_accuracy']:>15.4f} "
            + " ".join(f"{result['pooled_f1'][label]:>9.4f}" for label in LABELS) + f" {time.perf_counter() - start:>8.1f}")
    first = results[names[0]]
    log(f"\nper source, {names[0]}:")
    log(f"{'source':<18} {'n':>5} {'accuracy':>8} " + " ".join(f"{label:>9}" for label in LABELS))
    for source, row in first["per_source"].items():
        log(f"{source:<18} {row['n']:>5} {row['accuracy']:>8.4f} "
            + " ".join(f"{row['recall'][label]:>9.4f}" if label in row["recall"] else f"{'':>9}" for label in LABELS))
    if output is not None:
        output.write_text(json.dumps(results, indent=2) + "\n")
    return results
