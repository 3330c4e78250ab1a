"""The router's Prometheus metrics, defined once and recorded through Ray Serve's metrics API.

Ray exports them on each node's metrics endpoint with a `ray_` prefix
(`ray_qwen_router_requests_total`, `ray_qwen_router_ttft_ms_bucket`, ...), each also tagged
with Serve's deployment, replica and application. Everything is measured in the Router, where
the client's view is: time to first token includes routing, queueing and any fallback. The
replica-choice metrics come from the conversation router (router/replica_routing/), which Serve
runs in the same Router process for each model deployment's handle. `METRICS` is plain data,
so the Grafana dashboard's test can check its queries against it.
"""

from dataclasses import dataclass
from typing import Any, Callable, Literal

MetricKind = Literal["counter", "histogram"]
# Where no route was decided (the request failed before classification).
UNROUTED = "none"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    kind: MetricKind
    description: str
    tag_keys: tuple[str, ...] = ()
    boundaries: tuple[float, ...] = ()


_LATENCY_MS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 100.0)
_TTFT_MS = (10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0)
_CHOICE_MS = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)
_CONFIDENCE = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)

REQUESTS = MetricSpec(
    "qwen_router_requests_total",
    "counter",
    "Chat completion requests by route and the status the client was told.",
    ("category", "model", "status"),
)
CLASSIFY_LATENCY = MetricSpec(
    "qwen_router_classify_latency_ms",
    "histogram",
    "Time to classify a request and pick its route, in milliseconds.",
    ("category",),
    _LATENCY_MS,
)
ROUTE_CONFIDENCE = MetricSpec(
    "qwen_router_route_confidence",
    "histogram",
    "The classifier's confidence in the category it chose.",
    ("category",),
    _CONFIDENCE,
)
FALLBACKS = MetricSpec(
    "qwen_router_fallbacks_total",
    "counter",
    "Requests answered by a fallback model, by the model that failed first and why.",
    ("from", "to", "reason"),
)
TTFT = MetricSpec(
    "qwen_router_ttft_ms",
    "histogram",
    "From the request reaching the router to the model's first chunk, in milliseconds.",
    ("model",),
    _TTFT_MS,
)
TOKENS = MetricSpec(
    "qwen_router_tokens_total",
    "counter",
    "Tokens processed, by model and kind (prompt or completion).",
    ("model", "kind"),
)
REPLICA_CHOICES = MetricSpec(
    "qwen_router_replica_choices_total",
    "counter",
    "Requests the conversation router placed on a replica of a model, by outcome: hit (the "
    "replica holding the conversation), adapter (one that served its LoRA adapter), new (its "
    "home replica), or fallback, with the reason (imbalance, busy, unavailable, replica_gone).",
    ("model", "outcome", "reason"),
)
REPLICA_CHOICE_COST = MetricSpec(
    "qwen_router_replica_choice_ms",
    "histogram",
    "CPU time the conversation router spent on one request (hashing, matching, ranking, "
    "remembering), in milliseconds; waits for queue lengths are not in it.",
    ("model",),
    _CHOICE_MS,
)
REQUEST_METRICS = (REQUESTS, CLASSIFY_LATENCY, ROUTE_CONFIDENCE, FALLBACKS, TTFT, TOKENS)
REPLICA_CHOICE_METRICS = (REPLICA_CHOICES, REPLICA_CHOICE_COST)
METRICS: tuple[MetricSpec, ...] = REQUEST_METRICS + REPLICA_CHOICE_METRICS

MetricFactory = Callable[[MetricSpec], Any]


def ray_serve_metric(spec: MetricSpec) -> Any:
    """The Ray Serve metric for `spec`; created in the replica, so Serve's tags are attached."""
    from ray.serve import metrics

    if spec.kind == "counter":
        return metrics.Counter(spec.name, description=spec.description, tag_keys=spec.tag_keys)
    return metrics.Histogram(
        spec.name, description=spec.description, boundaries=list(spec.boundaries), tag_keys=spec.tag_keys
    )


class RouterMetrics:
    """What the router records, one method per event; metric objects come from `factory`."""

    def __init__(self, factory: MetricFactory = ray_serve_metric) -> None:
        self._metrics = {spec.name: factory(spec) for spec in REQUEST_METRICS}

    def classified(self, category: str, confidence: float, latency_ms: float) -> None:
        self._metrics[CLASSIFY_LATENCY.name].observe(latency_ms, tags={"category": category})
        self._metrics[ROUTE_CONFIDENCE.name].observe(confidence, tags={"category": category})

    def fell_back(self, from_model: str, to_model: str, reason: str) -> None:
        self._metrics[FALLBACKS.name].inc(1, tags={"from": from_model, "to": to_model, "reason": reason})

    def first_chunk(self, model: str, ttft_ms: float) -> None:
        self._metrics[TTFT.name].observe(ttft_ms, tags={"model": model})

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        counter = self._metrics[TOKENS.name]
        for kind, count in (("prompt", prompt), ("completion", completion)):
            if count > 0:  # Ray counters refuse increments of zero
                counter.inc(count, tags={"model": model, "kind": kind})

    def finished(self, category: str, model: str, status: int) -> None:
        self._metrics[REQUESTS.name].inc(
            1, tags={"category": category, "model": model, "status": str(status)}
        )


class ReplicaChoiceMetrics:
    """What the conversation router records for one model deployment."""

    def __init__(self, model: str, factory: MetricFactory = ray_serve_metric) -> None:
        self._model = model
        self._choices = factory(REPLICA_CHOICES)
        self._cost = factory(REPLICA_CHOICE_COST)

    def placed(self, outcome: str, reason: str, cost_ms: float) -> None:
        self._choices.inc(1, tags={"model": self._model, "outcome": outcome, "reason": reason})
        self._cost.observe(cost_ms, tags={"model": self._model})
