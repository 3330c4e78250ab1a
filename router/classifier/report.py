"""The figures a trained artefact is recorded with: dev and the check sets, as the router decides.

Every set is scored after the low-confidence fallback; a set whose records name their language
(`lang`) is also scored per language. `model_metrics.json` keeps these figures and the files'
hashes, and a unit test holds the shipped artefact to them exactly.
"""

import hashlib
from pathlib import Path
from typing import Any

from router.classifier.evaluate import decide, scored
from router.classifier.model import LinearModel
from router.classifier.records import read_records
from serve_app.config import Category

TESTS_DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
# The figure of record for natural traffic first, then the regression sets.
CHECK_SETS = {
    "natural_check": TESTS_DATA / "routing_natural_check.jsonl",
    "natural": TESTS_DATA / "routing_natural.jsonl",
    "multilingual": TESTS_DATA / "routing_multilingual.jsonl",
}


def check_set_figures(
    model: LinearModel, dev: Path, check_sets: dict[str, Path] | None, min_confidence: float, fallback: Category
) -> dict[str, Any]:
    """{"sets": {name: metrics}, "sha256": {name: file hash}, ...} for dev and each check set."""
    paths = {"dev": dev, **(CHECK_SETS if check_sets is None else check_sets)}
    sets = {name: set_figures(model, path, min_confidence, fallback) for name, path in paths.items()}
    return {"sets": sets, "sha256": {name: _sha256(path) for name, path in paths.items()},
            "min_confidence": min_confidence, "fallback_category": fallback}


def set_figures(model: LinearModel, path: Path, min_confidence: float, fallback: Category) -> dict[str, Any]:
    """A set's metrics as the router decides (no latency: timing is the machine's, not the artefact's)."""
    records = read_records(path)
    predicted, _ = decide(records, model.classify, min_confidence=min_confidence, fallback=fallback)
    return scored(records, predicted)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
