"""The shipped artefact: safe to load, reproduces its recorded figures; training is byte-reproducible."""

import json
from pathlib import Path

import numpy as np
import pytest

from deployments.types import Message, TextPart
from router.classifier import classify_rules
from router.classifier.evaluate import evaluate
from router.classifier.model import ARTEFACT, LinearModel
from router.classifier.report import CHECK_SETS, check_set_figures
from router.classifier.records import read_records
from router.classifier.train import DATA, METRICS, SHIPPED, train_router

RECORDED = json.loads(METRICS.read_text())
# The floors a retrained artefact must hold to ship: the targets, all met by the shipped
# model (dev and multilingual macro-F1 0.95; natural check accuracy 0.92 and every label's F1 0.88).
FLOORS = {"dev": 0.95, "multilingual": 0.95}  # macro-F1 after fallback
NATURAL_CHECK_ACCURACY = 0.92
NATURAL_CHECK_LABEL_F1 = 0.88

def test_artefact_holds_plain_arrays_only():
    with np.load(ARTEFACT, allow_pickle=False) as data:
        assert set(data.files) == {"weights", "bias", "vocabulary", "meta"}  # no embedding: LOSO chose none
        assert all(data[name].dtype != object for name in data.files)
    model = LinearModel.load()
    assert model.labels == ("math", "code", "reasoning", "general")
    assert model.weights.shape == (len(model.names), 4) and model.temperature > 0
    assert model.token_scores is None and model.meta["settings"] == SHIPPED.as_meta()


@pytest.fixture(scope="module")
def figures():
    return check_set_figures(LinearModel.load(), DATA / "dev.jsonl", None,
                             RECORDED["min_confidence"], RECORDED["fallback_category"])


def test_shipped_model_reproduces_its_recorded_figures(figures):
    assert set(figures["sets"]) == {"dev", *CHECK_SETS}
    assert figures["sha256"] == RECORDED["sha256"]  # the same files were scored
    for name, metrics in figures["sets"].items():
        assert metrics == RECORDED["sets"][name], name


def test_shipped_model_holds_its_floors():
    sets = RECORDED["sets"]
    assert {name: sets[name]["macro_f1"] for name in FLOORS if sets[name]["macro_f1"] < FLOORS[name]} == {}
    natural = sets["natural_check"]
    assert natural["accuracy"] >= NATURAL_CHECK_ACCURACY
    assert {label: row["f1"] for label, row in natural["per_label"].items() if row["f1"] < NATURAL_CHECK_LABEL_F1} == {}


def test_the_natural_check_set_is_scored_per_language():
    per_language = RECORDED["sets"]["natural_check"]["per_language"]
    assert len(per_language) >= 20
    assert sum(row["n"] for row in per_language.values()) == RECORDED["sets"]["natural_check"]["n"]


def test_rules_baseline_on_the_multilingual_check_set():
    records = read_records(CHECK_SETS["multilingual"])
    assert evaluate(records, classify_rules, min_confidence=0.5, fallback="general")["accuracy"] >= 0.80


def _small_copy(source: Path, target: Path, per_label: int) -> Path:
    rows = [json.loads(line) for line in source.read_text().split("\n") if line]
    kept = [r for label in ("math", "code", "reasoning", "general") for r in [x for x in rows if x["label"] == label][:per_label]]
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    return target


@pytest.mark.parametrize("settings", [SHIPPED, SHIPPED.but(embedding_scale=1.0)], ids=["shipped", "with-embedding"])
def test_training_writes_the_same_bytes_every_run(tmp_path, settings):
    train = tuple(_small_copy(DATA / name, tmp_path / Path(name).name, n)
                  for name, n in (("train.jsonl", 40), ("authored.jsonl", 5), ("natural/devs.jsonl", 5)))
    dev = _small_copy(DATA / "dev.jsonl", tmp_path / "dev.jsonl", 10)
    check = {"multilingual": CHECK_SETS["multilingual"]}
    outputs = []
    for run in ("a", "b"):
        train_router(train, dev, tmp_path / f"{run}.npz", tmp_path / f"{run}.json", log=lambda _: None,
                     settings=settings, check_sets=check)
        outputs.append(((tmp_path / f"{run}.npz").read_bytes(), (tmp_path / f"{run}.json").read_text()))
    assert outputs[0] == outputs[1]
    model = LinearModel.load(tmp_path / "a.npz")
    assert json.loads(outputs[0][1])["sets"]["dev"]["n"] == 40 and model.meta["n_fit"] + model.meta["n_heldout"] == 200
    assert (model.token_scores is not None) == bool(settings.embedding_scale)
    result = model.classify([Message("user", (TextPart("Write a python function that reverses a list"),))])
    assert result.category in model.labels and result.reasons
