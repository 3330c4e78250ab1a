"""Leave-one-source-out evaluation: a held-out source is never in its model's training rows."""

import numpy as np
import pytest

from router.classifier import loso
from router.classifier.conversation import Turn
from router.classifier.features import SIGNAL_PREFIX, features
from router.classifier.loso import leave_one_source_out, run
from router.classifier.records import Record
from router.classifier.train import LABELS, SHIPPED, Featurised, Settings, dataset
from tests.unit.classifier_records import labelled_records

SOURCES = ("gsm8k", "bbh/navigate", "bbh/web_of_lies", "natural/devs", "natural/puzzles", "authored/code")


def _records() -> list[Record]:
    return labelled_records(SOURCES)


@pytest.mark.parametrize("source,expected", [
    ("bbh/date_understanding", "bbh"), ("mmlu/anatomy", "mmlu"), ("llava_coco90/text_only", "llava_coco90"),
    ("authored/reasoning", "authored"), ("natural/devs", "natural/devs"), ("gsm8k", "gsm8k"),
])
def test_a_source_is_a_whole_data_set(source, expected):
    assert dataset(source) == expected


def test_each_source_is_scored_by_a_model_that_never_saw_it(monkeypatch):
    records = _records()
    data = Featurised(records, None)
    seen: list[set[str]] = []
    real_fit_on = loso.fit_on

    def recording_fit_on(data, train, settings):
        seen.append({dataset(data.records[i].source) for i in train})
        return real_fit_on(data, train, settings)

    monkeypatch.setattr(loso, "fit_on", recording_fit_on)
    held = leave_one_source_out(data, Settings(embedding_scale=0.0))
    sources = sorted({dataset(s) for s in SOURCES})
    assert [sorted(set(sources) - s) for s in seen] == [[s] for s in sources]
    assert held.sources == tuple(dataset(r.source) for r in records)
    report = held.report(data.y)
    assert set(report["per_source"]) == set(sources)
    assert sum(row["n"] for row in report["per_source"].values()) == len(records)
    assert 0.0 <= report["pooled_macro_f1"] <= 1.0 and set(report["pooled_f1"]) == set(LABELS)
    assert report["mean_source_accuracy"] == pytest.approx(
        np.mean([row["accuracy"] for row in report["per_source"].values()]), abs=1e-4)


def test_unknown_candidates_are_named_with_the_choices():
    with pytest.raises(ValueError, match="unknown candidates \\['nope'\\]; choose from \\['shipped'"):
        run(names=("nope",))


def test_folds_in_forked_workers_predict_what_one_process_does():
    data = Featurised(_records(), None)
    settings = Settings(embedding_scale=0.0)
    one, two = leave_one_source_out(data, settings), leave_one_source_out(data, settings, jobs=2)
    assert two.sources == one.sources and two.predicted.tolist() == one.predicted.tolist()


def test_the_shipped_settings_read_the_options_signal_that_round_22_dropped():
    """The signal reads the lettered option lines, so the candidate without it must drop them to differ."""
    item = [Turn(1.0, "Which of these is a mammal?\nA. shark\nB. whale\nC. trout\nD. eel")]
    signal = SIGNAL_PREFIX + "multiple-choice options"
    assert signal in features(item, SHIPPED.spec)
    for name in ("no-multiple-choice", "round-22"):
        assert signal not in features(item, loso.CANDIDATES[name].spec)
