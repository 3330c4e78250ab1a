"""Which features a fit may learn: seen twice, and (when asked) in enough data sets; how
much a feature counts by how many data sets share it; and the word-dropout copies."""

import numpy as np

from router.classifier.features import SIGNAL_PREFIX
from router.classifier.fitting import design, groups_using, restricted, spread_scale, word_dropout

NAMES = ("everywhere", "one-set-only", "once")
# Rows 0-1 come from data set 0, rows 2-3 from set 1, row 4 from set 2.
ROWS = [{"everywhere": 1.0, "one-set-only": 1.0, "once": 1.0}, {"everywhere": 1.0, "one-set-only": 1.0},
        {"everywhere": 1.0}, {"everywhere": 1.0}, {"everywhere": 1.0}]
GROUPS = np.array([0, 0, 1, 1, 2])


def test_a_feature_seen_once_is_never_learnt():
    part, keep = restricted(design(ROWS, NAMES), np.arange(5), GROUPS)
    assert part.names == ("everywhere", "one-set-only") and keep.tolist() == [0, 1]


def test_a_feature_of_one_data_set_is_dropped_when_several_are_required():
    part, keep = restricted(design(ROWS, NAMES), np.arange(5), GROUPS, min_groups=2)
    assert part.names == ("everywhere",) and part.sparse.shape == (5, 1)


def test_the_count_is_over_the_training_rows_only():
    part, _ = restricted(design(ROWS, NAMES), np.array([0, 1, 2]), GROUPS, min_groups=3)
    assert part.names == ()


def test_groups_using_counts_distinct_data_sets_not_rows():
    assert groups_using(design(ROWS, NAMES).sparse, GROUPS).tolist() == [3, 1, 1]


def test_a_feature_few_data_sets_share_is_fitted_at_a_smaller_scale():
    scale = spread_scale(design(ROWS, NAMES).sparse, GROUPS, k=1.0)
    assert np.allclose(scale, [3 / 4, 1 / 2, 1 / 2])


def _words_and_a_signal(rows: int = 200, words: int = 50):
    names = [f"w {i}" for i in range(words)] + [SIGNAL_PREFIX + "math terms"]
    return design([dict.fromkeys(names, 0.5) for _ in range(rows)], names)


def test_word_dropout_drops_about_its_rate_of_the_words_and_scales_the_rest():
    full = _words_and_a_signal()
    words = word_dropout(full, 0.5, seed=7).sparse[:, :-1].toarray()
    assert 0.45 < (words == 0).mean() < 0.55
    assert np.allclose(words[words != 0], 0.5 / np.sqrt(0.5))  # a turn keeps its L2 norm on average


def test_word_dropout_keeps_every_signal_at_its_value():
    signal = word_dropout(_words_and_a_signal(), 0.9, seed=7).sparse[:, -1].toarray()
    assert np.all(signal == 0.5)


def test_word_dropout_is_seeded_and_leaves_its_input_alone():
    full = _words_and_a_signal()
    first, again = word_dropout(full, 0.5, seed=7), word_dropout(full, 0.5, seed=7)
    assert (first.sparse != again.sparse).nnz == 0
    assert (word_dropout(full, 0.5, seed=8).sparse != first.sparse).nnz > 0
    assert np.all(full.sparse.toarray() == 0.5)
