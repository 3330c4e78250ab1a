"""Training only: feature dicts → a scipy sparse design matrix → scikit-learn's logistic regression.

scikit-learn (the `train` extra) replaces the hand-written full-batch fit: the same multinomial
logistic regression with class-balanced, row-weighted cross-entropy and an L2 penalty, solved
to convergence by L-BFGS instead of a fixed number of Adam steps. Single-threaded and without
randomness, so the same data gives the same weights. The router never imports this module: the
learned weights go into the numpy artefact (`model.py`).
"""

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from router.classifier.features import SIGNAL_PREFIX

MIN_DOCUMENT_FREQUENCY = 2
MAX_ITER = 1000
TOLERANCE = 1e-4  # of L-BFGS (scikit-learn's default); tighter changes held-out figures by under 0.001


@dataclass(frozen=True)
class Design:
    """The training requests as rows: sparse features by name, plus dense pooled-embedding columns."""

    names: tuple[str, ...]
    sparse: sp.csr_matrix  # (rows, len(names))
    dense: np.ndarray  # (rows, embedding width); width 0 without embeddings

    def rows(self, which: np.ndarray) -> "Design":
        return Design(self.names, self.sparse[which], self.dense[which])

    def scaled(self, factors: np.ndarray) -> "Design":
        """The same rows with sparse column j multiplied by `factors[j]`."""
        return Design(self.names, (self.sparse @ sp.diags(factors)).tocsr(), self.dense)

    def matrix(self, embedding_scale: float) -> sp.csr_matrix:
        if not self.dense.shape[1] or not embedding_scale:
            return self.sparse
        return sp.hstack([self.sparse, sp.csr_matrix(self.dense * embedding_scale)], format="csr")


def design(feats: Sequence[dict[str, float]], names: Sequence[str], dense: np.ndarray | None = None) -> Design:
    index = {name: i for i, name in enumerate(names)}
    indptr, indices, values = [0], [], []
    for f in feats:
        known = sorted((index[name], value) for name, value in f.items() if name in index)
        indices += [i for i, _ in known]
        values += [v for _, v in known]
        indptr.append(len(indices))
    matrix = sp.csr_matrix((np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64), np.array(indptr)),
                           shape=(len(feats), len(names)))
    return Design(tuple(names), matrix, np.zeros((len(feats), 0)) if dense is None else dense)


def restricted(full: Design, train: np.ndarray, groups: np.ndarray, min_groups: int = 1) -> tuple[Design, np.ndarray]:
    """The training rows over the features seen in at least MIN_DOCUMENT_FREQUENCY of them and in
    at least `min_groups` distinct groups (data sets: `groups` holds each row's index), and those columns.

    A feature only one data set uses is that set's style more than its label's meaning; requiring
    several keeps what carries across sources."""
    part = full.sparse[train]
    keep = np.diff(part.tocsc().indptr) >= MIN_DOCUMENT_FREQUENCY
    if min_groups > 1:
        keep &= groups_using(part, groups[train]) >= min_groups
    keep = np.flatnonzero(keep)
    return Design(tuple(full.names[i] for i in keep), part[:, keep], full.dense[train]), keep


def groups_using(x: sp.csr_matrix, groups: np.ndarray) -> np.ndarray:
    """Per column of `x`, how many distinct groups (`groups[i]`: row i's) have a row that uses it."""
    membership = sp.csr_matrix((np.ones(len(groups)), (groups, np.arange(len(groups)))),
                               shape=(int(groups.max()) + 1, len(groups)))
    return np.asarray(((membership @ (x != 0)) > 0).sum(axis=0)).ravel()


def spread_scale(x: sp.csr_matrix, groups: np.ndarray, k: float) -> np.ndarray:
    """Per column, g / (g + k) for a feature g groups use: the factor a fit scales it by, so that
    (with weak L2, close to a maximum margin) a feature few sources share needs a larger weight."""
    g = groups_using(x, groups)
    return g / (g + k)


def _signal_columns(x: Design) -> np.ndarray:
    """Per column, whether it is a signal (else a lexical feature)."""
    return np.array([name.startswith(SIGNAL_PREFIX) for name in x.names], dtype=bool)


def signals_only(x: Design) -> Design:
    """The same rows with every lexical feature removed (embeddings kept: they are not words)."""
    return x.scaled(_signal_columns(x).astype(float))


def word_dropout(x: Design, rate: float, seed: int) -> Design:
    """The same rows with each lexical entry removed at `rate` (seeded), the survivors scaled by
    1/sqrt(1 - rate) so a turn's words keep their L2 norm on average, and the signals kept.

    A copy a fit must also classify from a random part of its words: no single phrase of a
    source can carry a row alone, so the weight spreads over the words and signals it shares."""
    m = x.sparse.tocsr(copy=True)
    lexical = ~_signal_columns(x)[m.indices]
    drop = lexical & (np.random.default_rng(seed).random(m.nnz) < rate)
    m.data[lexical] /= np.sqrt(1.0 - rate)
    m.data[drop] = 0.0
    m.eliminate_zeros()
    return Design(x.names, m, x.dense)


def fit(
    x: sp.csr_matrix, y: np.ndarray, n_labels: int, *, l2: float, row_weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features × labels) and biases minimising class-balanced, row-weighted
    cross-entropy (weights averaging 1 per row) plus `l2`·|W|²/2 summed over rows' mean."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    counts = np.bincount(y, weights=row_weight, minlength=n_labels)
    sample_weight = (row_weight.sum() / (n_labels * np.maximum(counts, 1e-12)))[y] * row_weight
    sample_weight *= len(y) / sample_weight.sum()
    # sklearn's objective is Σ_i w_i·CE_i + |W|²/(2C): C = 1 / (l2 · rows) keeps l2 per-row.
    model = LogisticRegression(C=1.0 / (l2 * len(y)), solver="lbfgs", max_iter=MAX_ITER, tol=TOLERANCE)
    with threadpool_limits(1):
        model.fit(x, y, sample_weight=sample_weight)
    if len(model.classes_) != n_labels:
        raise ValueError(f"training labels {model.classes_.tolist()} do not cover all {n_labels} labels")
    return model.coef_.T.copy(), model.intercept_.copy()
