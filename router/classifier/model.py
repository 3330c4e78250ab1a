"""The learned classifier: a multinomial logistic regression over `features`, numpy only.

The artefact is one `.npz` (no pickle: loaded with `allow_pickle=False`) holding the weight
matrix, the biases, the vocabulary (UTF-8, one feature per line) and a JSON header (labels,
calibration temperature, provenance). Prediction is a gather of the request's feature rows and a
dot product: tens of microseconds. Images and empty requests never reach the model (`settled`).
"""

import functools
import json
from itertools import repeat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from deployments.types import Message
from router.classifier.conversation import Turn, settled, user_turns
from router.classifier.features import SIGNAL_PREFIX, features
from router.classifier.result import Classification
from serve_app.config import Category

ARTEFACT = Path(__file__).with_name("model.npz")
_TOP_FEATURES = 4
_KINDS = {"w": "word", "b": "words", "p": "stem", "s": "signal"}


@dataclass(frozen=True)
class LinearModel:
    labels: tuple[Category, ...]
    names: tuple[str, ...]
    weights: np.ndarray  # (features, labels), float32
    bias: np.ndarray  # (labels,)
    temperature: float
    meta: dict[str, Any]

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    @classmethod
    def load(cls, path: Path = ARTEFACT) -> "LinearModel":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            names = tuple(data["vocabulary"].tobytes().decode("utf-8").split("\n"))
            weights, bias = data["weights"], data["bias"]
        if weights.shape != (len(names), len(meta["labels"])):
            raise ValueError(f"{path}: weights {weights.shape} do not match {len(names)} features × {meta['labels']}")
        return cls(tuple(meta["labels"]), names, weights, bias, float(meta["temperature"]), meta)

    def save(self, path: Path) -> None:
        meta = {**self.meta, "labels": list(self.labels), "temperature": self.temperature}
        as_bytes = lambda text: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)  # noqa: E731
        with open(path, "wb") as out:  # a file object: savez would otherwise add .npz to the name
            np.savez_compressed(
                out,
                weights=self.weights.astype(np.float32),
                bias=self.bias.astype(np.float32),
                vocabulary=as_bytes("\n".join(self.names)),
                meta=as_bytes(json.dumps(meta, sort_keys=True)),
            )

    def probabilities(self, feats: dict[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Calibrated label probabilities, plus the known features' weight rows and values (for reasons)."""
        found = np.array(list(map(self.index.get, feats, repeat(-1))), dtype=np.intp)  # the lookups in C
        known = found >= 0
        rows = self.weights[found[known]]
        values = np.fromiter(feats.values(), dtype=np.float32, count=len(feats))[known]
        logits = (values @ rows + self.bias) / self.temperature
        exp = np.exp(logits - logits.max())
        return exp / exp.sum(), found[known], values

    def classify(self, messages: Sequence[Message], *, context_turns: int = 2) -> Classification:
        """Image → vision, no text → general, otherwise this model's decision on the user turns."""
        turns = user_turns(messages, context_turns)
        return settled(messages, turns) or self.classify_turns(turns)

    def classify_turns(self, turns: Sequence[Turn]) -> Classification:
        probs, rows, values = self.probabilities(features(turns))
        best = int(probs.argmax())
        return Classification(self.labels[best], round(float(probs[best]), 3), self._reasons(best, rows, values))

    def _reasons(self, best: int, rows: np.ndarray, values: np.ndarray) -> tuple[str, ...]:
        """The features that pushed hardest toward the winner, against the other labels' average."""
        if not len(rows):
            return ("no known features",)
        weights = self.weights[rows]
        others = (weights.sum(axis=1) - weights[:, best]) / (len(self.labels) - 1)
        margin = values * (weights[:, best] - others)
        top = np.argsort(-margin, kind="stable")[:_TOP_FEATURES]
        reasons = tuple(f"{_describe(self.names[rows[i]])} {margin[i]:+.2f}" for i in top if margin[i] > 0)
        return reasons or ("no feature favours it; prior",)


def _describe(name: str) -> str:
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
