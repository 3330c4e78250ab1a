"""The learned classifier: a multinomial logistic regression over `features`, numpy only.

The artefact is one `.npz` (no pickle: loaded with `allow_pickle=False`) holding the weight
matrix, the biases, the vocabulary (UTF-8, one feature per line), a JSON header (labels,
calibration temperature, feature choices, provenance) and, when the model reads embeddings, the
tokenizer (its JSON, as bytes) and one row of label scores per token (`embedding.py`).
Prediction is a gather of the request's feature rows and a dot product, plus a gather of token
rows: well under a millisecond. Images and empty requests never reach the model (`settled`).
"""

import functools
import json
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from deployments.types import Message
from router.classifier.conversation import Turn, settled, user_turns
from router.classifier.embedding import TokenTable
from router.classifier.features import EXAM_PREFIX, SIGNAL_PREFIX, FeatureSpec, features
from router.classifier.result import Classification
from serve_app.config import Category

ARTEFACT = Path(__file__).with_name("model.npz")
_TOP_FEATURES = 4
_KINDS = {"w": "word", "b": "words", "t": "words", "p": "stem", "c": "characters", "q": "question word", "s": "signal"}
EMBEDDING_REASON = "embedding"


@dataclass(frozen=True)
class LinearModel:
    labels: tuple[Category, ...]
    names: tuple[str, ...]
    weights: np.ndarray  # (features, labels), float32
    bias: np.ndarray  # (labels,)
    temperature: float
    meta: dict[str, Any]
    token_scores: TokenTable | None = None  # per-token label scores of the pooled embedding

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    @functools.cached_property
    def spec(self) -> FeatureSpec:
        return FeatureSpec.from_meta(self.meta["features"]) if "features" in self.meta else FeatureSpec()

    @classmethod
    def load(cls, path: Path = ARTEFACT) -> "LinearModel":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            names = tuple(data["vocabulary"].tobytes().decode("utf-8").split("\n"))
            weights, bias = data["weights"], data["bias"]
            table = None
            if "token_scores" in data.files:
                table = TokenTable.from_json(data["tokenizer"].tobytes().decode("utf-8"), data["token_scores"])
        labels = meta["labels"]
        if weights.shape != (len(names), len(labels)):
            raise ValueError(f"{path}: weights {weights.shape} do not match {len(names)} features × {labels}")
        if table is not None and table.rows.shape[1] != len(labels):
            raise ValueError(f"{path}: token scores {table.rows.shape} do not match the labels {labels}")
        return cls(tuple(labels), names, weights, bias, float(meta["temperature"]), meta, table)

    def save(self, path: Path, tokenizer_json: str | None = None) -> None:
        """Write the artefact; `tokenizer_json` is required when the model has token scores."""
        meta = {**self.meta, "labels": list(self.labels), "temperature": self.temperature}
        as_bytes = lambda text: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)  # noqa: E731
        arrays = {
            "weights": self.weights.astype(np.float32),
            "bias": self.bias.astype(np.float32),
            "vocabulary": as_bytes("\n".join(self.names)),
            "meta": as_bytes(json.dumps(meta, sort_keys=True)),
        }
        if self.token_scores is not None:
            if tokenizer_json is None:
                raise ValueError("a model with token scores needs its tokenizer_json to be saved")
            arrays |= {"token_scores": self.token_scores.rows.astype(np.float32), "tokenizer": as_bytes(tokenizer_json)}
        with open(path, "wb") as out:  # a file object: savez would otherwise add .npz to the name
            np.savez_compressed(out, **arrays)

    def logits(self, turns: Sequence[Turn]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Uncalibrated logits, the known features' rows and values, and the embedding's share (for reasons)."""
        feats = features(turns, self.spec)
        found = np.fromiter(map(self.index.get, feats, repeat(-1)), dtype=np.intp, count=len(feats))  # lookups in C
        known = found >= 0
        values = np.fromiter(feats.values(), dtype=np.float32, count=len(feats))[known]
        logits = values @ self.weights[found[known]] + self.bias
        pooled = np.zeros(len(self.labels)) if self.token_scores is None else self.token_scores.pooled(turns)
        return logits + pooled, found[known], values, pooled

    def probabilities(self, turns: Sequence[Turn]) -> np.ndarray:
        """Calibrated label probabilities."""
        return _softmax(self.logits(turns)[0] / self.temperature)

    def classify(self, messages: Sequence[Message], *, context_turns: int = 2) -> Classification:
        """Image → vision, no text → general, otherwise this model's decision on the user turns."""
        turns = user_turns(messages, context_turns)
        return settled(messages, turns) or self.classify_turns(turns)

    def classify_turns(self, turns: Sequence[Turn]) -> Classification:
        logits, rows, values, pooled = self.logits(turns)
        probs = _softmax(logits / self.temperature)
        best = int(probs.argmax())
        return Classification(self.labels[best], round(float(probs[best]), 3), self._reasons(best, rows, values, pooled))

    def _reasons(self, best: int, rows: np.ndarray, values: np.ndarray, pooled: np.ndarray) -> tuple[str, ...]:
        """The features that pushed hardest toward the winner, against the other labels' average."""
        others = lambda scores: (scores.sum(axis=-1) - scores[..., best]) / (len(self.labels) - 1)  # noqa: E731
        weights = self.weights[rows]
        margin = values * (weights[:, best] - others(weights))
        if self.token_scores is not None:  # the embedding's share is the last entry
            margin = np.append(margin, float(pooled[best] - others(pooled)))
        if not len(margin):
            return ("no known features",)
        top = np.argsort(-margin, kind="stable")[:_TOP_FEATURES]
        # Only the reported features are described: a long request has hundreds of known ones.
        described = lambda i: EMBEDDING_REASON if i == len(rows) else _describe(self.names[rows[i]])  # noqa: E731
        reasons = tuple(f"{described(i)} {margin[i]:+.2f}" for i in top if margin[i] > 0)
        return reasons or ("no feature favours it; prior",)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


def _describe(name: str) -> str:
    if name.startswith(EXAM_PREFIX):
        return _describe(name[len(EXAM_PREFIX):]) + " in an exam layout"
    kind, _, value = name.partition(" ")
    if name.startswith(SIGNAL_PREFIX):
        return f"signal {value}"
    return f"{_KINDS.get(kind, kind)} '{value}'"


@functools.cache
def default_model() -> LinearModel:
    """The shipped artefact, loaded once per process (on first use, not at import)."""
    return LinearModel.load(ARTEFACT)


def classify(messages: Sequence[Message], *, context_turns: int = 2) -> Classification:
    """The router's classifier: the shipped model's decision for a request."""
    return default_model().classify(messages, context_turns=context_turns)
