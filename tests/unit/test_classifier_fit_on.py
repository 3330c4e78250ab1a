"""What `fit_on` hands the solver: the rows and their copies, scaled columns carried back."""

import numpy as np
import pytest

from router.classifier import train as train_module
from router.classifier.train import Featurised, Settings, dataset
from tests.unit.classifier_records import labelled_records

SOURCES = ("gsm8k", "bbh/navigate", "natural/devs", "authored/code")


@pytest.fixture
def fits(monkeypatch) -> list:
    """Each call of the solver: its matrix, labels, row weights and the weights it returned."""
    calls = []
    real_fit = train_module.fit

    def recording_fit(x, y, n_labels, *, l2, row_weight):
        calls.append((x, y, row_weight, real_fit(x, y, n_labels, l2=l2, row_weight=row_weight)))
        return calls[-1][3]

    monkeypatch.setattr(train_module, "fit", recording_fit)
    return calls


def _data() -> tuple[Featurised, np.ndarray]:
    data = Featurised(labelled_records(SOURCES), None)
    return data, np.flatnonzero(np.array([dataset(r.source) != "gsm8k" for r in data.records]))


def test_a_source_spread_fit_gives_on_raw_features_the_logits_it_was_fitted_to(fits):
    """The columns are fitted at g / (g + k) of their value; the learnt weights carry the factor back."""
    data, rows = _data()
    settings = Settings(embedding_scale=0.0, source_spread=2.0)
    fitted, keep = train_module.fit_on(data, rows, settings)
    (x, _, _, (weights, bias)), = fits
    raw = data.design(settings.spec).rows(rows)
    assert not np.allclose(x[: len(rows)].toarray(), raw.sparse[:, keep].toarray())  # fitted on scaled values
    assert np.allclose(fitted.logits(raw, keep), x[: len(rows)] @ weights + bias)


def test_word_dropout_adds_a_third_copy_of_every_row_at_its_full_weight(fits):
    data, rows = _data()
    train_module.fit_on(data, rows, Settings(embedding_scale=0.0, word_dropout=0.5))
    (x, y, row_weight, _), = fits
    n = len(rows)
    assert x.shape[0] == 3 * n and np.array_equal(y, np.tile(data.y[rows], 3))
    assert np.allclose(row_weight[2 * n:], row_weight[:n])
    assert np.allclose(row_weight[n: 2 * n], row_weight[:n] * Settings().signals_only_weight)
    assert 0 < x[2 * n:].nnz < x[:n].nnz  # words dropped, signals kept


def test_without_word_dropout_a_fit_sees_each_row_and_its_signals_only_copy(fits):
    data, rows = _data()
    train_module.fit_on(data, rows, Settings(embedding_scale=0.0, word_dropout=0.0))
    (x, _, _, _), = fits
    assert x.shape[0] == 2 * len(rows)
