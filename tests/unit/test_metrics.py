"""The router's metrics: names and tags as specified, accepted by Ray, and the dashboard in step."""

import json
import re
from pathlib import Path

from router.metrics import METRICS, ReplicaChoiceMetrics, RouterMetrics

from fake_metrics import FakeMetrics

DASHBOARD = Path(__file__).resolve().parents[2] / "k8s" / "grafana" / "qwen-router.json"
# Ray's Prometheus endpoint prefixes every application metric.
PROMETHEUS_PREFIX = "ray_"
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def exported_names() -> dict[str, str]:
    """Every series name Prometheus shows for our metrics → the metric it belongs to."""
    names = {}
    for spec in METRICS:
        series = [""] if spec.kind == "counter" else list(HISTOGRAM_SERIES)
        names.update({PROMETHEUS_PREFIX + spec.name + suffix: spec.name for suffix in series})
    return names


def test_the_metrics_the_issue_names_with_their_tags():
    assert {spec.name: (spec.kind, spec.tag_keys) for spec in METRICS} == {
        "qwen_router_requests_total": ("counter", ("category", "model", "status")),
        "qwen_router_classify_latency_ms": ("histogram", ("category",)),
        "qwen_router_route_confidence": ("histogram", ("category",)),
        "qwen_router_fallbacks_total": ("counter", ("from", "to", "reason")),
        "qwen_router_ttft_ms": ("histogram", ("model",)),
        "qwen_router_tokens_total": ("counter", ("model", "kind")),
        "qwen_router_replica_choices_total": ("counter", ("model", "outcome", "reason")),
        "qwen_router_replica_choice_ms": ("histogram", ("model",)),
    }
    for spec in METRICS:
        assert spec.description
        assert list(spec.boundaries) == sorted(set(spec.boundaries))
        assert (spec.kind == "histogram") == bool(spec.boundaries)


def test_every_event_records_with_exactly_the_declared_tags():
    fake = FakeMetrics()
    metrics = RouterMetrics(fake)
    metrics.classified("math", 0.9, 0.2)
    metrics.fell_back("qwen2.5-math", "qwen3-moe", "failed")
    metrics.first_chunk("qwen3-moe", 41.0)
    metrics.tokens("qwen3-moe", prompt=12, completion=0)  # nothing generated: no zero increment
    metrics.finished("math", "qwen3-moe", 200)
    assert fake["qwen_router_classify_latency_ms"].total(category="math") == 0.2
    assert fake["qwen_router_route_confidence"].total(category="math") == 0.9
    assert fake["qwen_router_fallbacks_total"].total(**{"from": "qwen2.5-math", "to": "qwen3-moe"}) == 1
    assert fake["qwen_router_ttft_ms"].total(model="qwen3-moe") == 41.0
    assert fake["qwen_router_tokens_total"].total(kind="prompt") == 12
    assert fake["qwen_router_tokens_total"].count(kind="completion") == 0
    assert fake["qwen_router_requests_total"].total(category="math", model="qwen3-moe", status="200") == 1

    choices = ReplicaChoiceMetrics("qwen2.5-math", fake)
    choices.placed("hit", "none", 0.04)
    choices.placed("fallback", "imbalance", 0.06)
    assert fake["qwen_router_replica_choices_total"].total(model="qwen2.5-math", outcome="hit", reason="none") == 1
    assert fake["qwen_router_replica_choices_total"].total(outcome="fallback", reason="imbalance") == 1
    assert fake["qwen_router_replica_choice_ms"].count(model="qwen2.5-math") == 2


def test_ray_serve_accepts_every_metric_and_its_tags():
    metrics = RouterMetrics()  # real ray.serve.metrics objects; outside a replica they record nowhere
    metrics.classified("code", 0.5, 0.1)
    metrics.fell_back("a", "b", "overloaded")
    metrics.first_chunk("b", 10.0)
    metrics.tokens("b", prompt=3, completion=2)
    metrics.finished("code", "b", 503)
    ReplicaChoiceMetrics("b").placed("new", "none", 0.05)


def dashboard_queries(document: dict) -> list[str]:
    panels = list(document["panels"])
    for panel in document["panels"]:
        panels += panel.get("panels", [])  # collapsed rows keep theirs inside
    queries = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    queries += [v["definition"] for v in document["templating"]["list"] if v.get("definition")]
    return queries


def test_the_dashboard_only_queries_metrics_that_exist_and_shows_them_all():
    document = json.loads(DASHBOARD.read_text())
    exported = exported_names()
    referenced = set()
    for query in dashboard_queries(document):
        names = set(re.findall(r"\b(ray_qwen_router_\w+)", query))
        assert names, f"query uses no qwen-router metric: {query}"
        unknown = names - exported.keys()
        assert not unknown, f"{unknown} not defined in router/metrics.py (query: {query})"
        referenced |= {exported[name] for name in names}
    assert referenced == {spec.name for spec in METRICS}


def test_the_dashboard_asks_for_its_prometheus_datasource():
    document = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in document["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = document["panels"]
    assert panels and len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        for target in [panel, *panel["targets"]]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
