"""Which features a fit may learn: seen twice, and (when asked) in enough data sets; and how
much a feature counts by how many data sets share it."""

import numpy as np

from router.classifier.fitting import design, groups_using, restricted, spread_scale

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
