"""Multinomial logistic regression on sparse rows, full-batch and deterministic, in numpy.

Rows are CSR arrays; products are gathers and `np.bincount` sums, which add in input order, so
the same data and settings give the same bits on every run. Adam with a fixed step count from a
zero start: no randomness at all. Also here: temperature scaling and expected calibration error.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SparseRows:
    indptr: np.ndarray  # (rows + 1,)
    indices: np.ndarray  # (nnz,) feature ids
    values: np.ndarray  # (nnz,) float64
    n_features: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def row_ids(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    def logits(self, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
        gathered = self.values[:, None] * weights[self.indices]
        rows = self.row_ids
        columns = [np.bincount(rows, weights=gathered[:, k], minlength=self.n_rows) for k in range(weights.shape[1])]
        return np.stack(columns, axis=1) + bias


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def fit(
    x: SparseRows,
    y: np.ndarray,
    n_labels: int,
    *,
    l2: float,
    steps: int,
    learning_rate: float,
    row_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and biases minimising class-balanced, row-weighted cross-entropy plus `l2`·|W|²/2.

    `row_weight` lets an augmented copy of a request count less than the request itself; each
    class's total weight is then balanced.
    """
    row_weight = np.ones(len(y)) if row_weight is None else row_weight
    counts = np.bincount(y, weights=row_weight, minlength=n_labels)
    sample_weight = (len(y) / (n_labels * np.maximum(counts, 1)))[y] * row_weight
    sample_weight /= sample_weight.sum()
    onehot = np.eye(n_labels)[y]
    weights, bias = np.zeros((x.n_features, n_labels)), np.zeros(n_labels)
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
    rows = x.row_ids
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        residual = (softmax(x.logits(weights, bias)) - onehot) * sample_weight[:, None]
        spread = x.values[:, None] * residual[rows]
        grad_w = np.stack(
            [np.bincount(x.indices, weights=spread[:, k], minlength=x.n_features) for k in range(n_labels)], axis=1
        )
        grads = (grad_w + l2 * weights, residual.sum(axis=0))
        for (param, grad), (m, v) in zip(zip((weights, bias), grads), (moments[:2], moments[2:])):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            param -= learning_rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
    return weights, bias


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature (a grid over 0.1–10) that minimises held-out negative log-likelihood."""
    grid = np.exp(np.linspace(np.log(0.1), np.log(10.0), 241))
    nll = [-np.log(softmax(logits / t)[np.arange(len(y)), y] + 1e-12).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy − confidence| over equal-width confidence bins, weighted by bin size."""
    confidence, predicted = probs.max(axis=1), probs.argmax(axis=1)
    correct = predicted == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)
