"""Traces, metrics, access log and request ids of the running demo, seen from outside.

The session's app writes spans from every process into one file (telemetry exporter: file),
and Ray exports the router's metrics on the cluster's Prometheus endpoint.
"""

import json
import time
import uuid
from pathlib import Path
from typing import Callable, TypeVar

import ray

from cluster_ops import scrape, total
from router.metrics import METRICS, REPLICA_CHOICE_METRICS

T = TypeVar("T")
TRACE_ID = uuid.uuid4().hex
MATH = {
    "model": "auto",
    "messages": [{"role": "user", "content": "Solve 3x + 5 = 20 for x."}],
    "max_tokens": 8,
    "temperature": 0,
}


def eventually(probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Poll until `probe` returns something; Ray's metrics agent and span files lag a little."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"no {what} within {timeout_s} s"
        time.sleep(0.5)


def spans_of(path: Path, trace_id: str) -> dict[str, list[dict]] | None:
    if not path.exists():
        return None
    found: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        span = json.loads(line)
        if span["context"]["trace_id"] == f"0x{trace_id}":
            found.setdefault(span["name"], []).append(span)
    return found if {"router.request", "model.generate"} <= found.keys() else None


def test_one_trace_from_the_callers_traceparent_across_the_ray_hop(http, spans_path):
    caller_span = uuid.uuid4().hex[:16]
    response = http.post(
        "/v1/chat/completions",
        json=MATH,
        headers={"traceparent": f"00-{TRACE_ID}-{caller_span}-01", "x-request-id": "obs-trace-1"},
    )
    assert response.status_code == 200, response.text
    found = eventually(lambda: spans_of(spans_path, TRACE_ID), 20, "spans of the request")
    (request,), (classify,), (dispatch,), (generate,) = (
        found[n] for n in ("router.request", "router.classify", "router.dispatch", "model.generate")
    )
    assert request["parent_id"] == f"0x{caller_span}"
    assert classify["parent_id"] == dispatch["parent_id"] == request["context"]["span_id"]
    assert generate["parent_id"] == dispatch["context"]["span_id"]
    router_process = request["resource"]["attributes"]["service.instance.id"]
    assert generate["resource"]["attributes"]["service.instance.id"] != router_process  # another process

    assert classify["attributes"]["qwen_router.category"] == "math"
    assert request["attributes"]["qwen_router.request_id"] == "obs-trace-1"
    assert request["attributes"]["http.response.status_code"] == 200
    assert request["attributes"]["qwen_router.model"] == "qwen2.5-math"
    assert generate["attributes"]["qwen_router.deployment"] == "qwen2.5-math"
    assert generate["attributes"]["qwen_router.replica"] == response.json()["route"]["replica"]
    assert generate["attributes"]["gen_ai.usage.output_tokens"] == response.json()["usage"]["completion_tokens"]
    assert generate["attributes"]["qwen_router.ttft_ms"] > 0
    assert generate["attributes"]["gen_ai.response.finish_reasons"] == ["length"]


def test_request_ids_are_echoed_or_made_and_reach_the_access_log(http):
    sent = http.post("/v1/chat/completions", json=MATH, headers={"x-request-id": "obs-log-1"})
    assert sent.headers["x-request-id"] == "obs-log-1"
    made = http.post("/v1/chat/completions", json={**MATH, "stream": True})
    assert made.status_code == 200 and len(made.headers["x-request-id"]) >= 16

    logs = Path(ray._private.worker._global_node.get_logs_dir_path()) / "serve"

    def access_lines() -> dict[str, dict] | None:
        lines = {}
        for path in logs.glob("replica_qwen-router_Router_*.log"):
            for line in path.read_text().splitlines():
                if '"request_id":"obs-log-1"' in line or f'"request_id":"{made.headers["x-request-id"]}"' in line:
                    entry = json.loads(line[line.index("{"):])
                    lines[entry["request_id"]] = entry
        return lines if len(lines) == 2 else None

    lines = eventually(access_lines, 10, "access-log lines for both requests")
    logged, streamed = lines["obs-log-1"], lines[made.headers["x-request-id"]]
    assert (logged["status"], logged["category"], logged["model"], logged["stream"]) == (200, "math", "qwen2.5-math", False)
    assert logged["completion_tokens"] == 8 and logged["latency_ms"] > 0
    assert logged["prompt_chars"] > 0 and "prompt" not in logged and "Solve" not in json.dumps(logged)
    assert streamed["stream"] is True and streamed["status"] == 200


def test_the_router_metrics_reach_rays_prometheus_endpoint(http, metrics_port):
    explicit = {**MATH, "model": "qwen2.5-coder"}
    for body in (MATH, MATH, explicit):
        assert http.post("/v1/chat/completions", json=body).status_code == 200
    assert http.post("/v1/chat/completions", json={**MATH, "model": "no-such-model"}).status_code == 404

    def settled() -> dict[str, list] | None:
        samples = scrape(metrics_port)
        math_ok = total(samples, "qwen_router_requests_total", category="math", model="qwen2.5-math", status="200")
        refused = total(samples, "qwen_router_requests_total", status="404")
        return samples if math_ok >= 2 and refused >= 1 else None

    samples = eventually(settled, 60, "router metrics on the Prometheus endpoint")
    assert total(samples, "qwen_router_requests_total", category="explicit", model="qwen2.5-coder", status="200") >= 1
    assert total(samples, "qwen_router_requests_total", category="none", model="none", status="404") >= 1
    assert all(s.labels["deployment"] == "Router" for s in samples["qwen_router_requests_total"])

    assert total(samples, "qwen_router_tokens_total", model="qwen2.5-math", kind="completion") >= 16
    assert total(samples, "qwen_router_tokens_total", model="qwen2.5-math", kind="prompt") > 0
    ttft_count = total(samples, "qwen_router_ttft_ms_count", model="qwen2.5-math")
    ttft_sum = total(samples, "qwen_router_ttft_ms_sum", model="qwen2.5-math")
    assert ttft_count >= 2 and 0 < ttft_sum / ttft_count < 30_000
    latency_count = total(samples, "qwen_router_classify_latency_ms_count", category="math")
    assert latency_count >= 2 and 0 < total(samples, "qwen_router_classify_latency_ms_sum", category="math") / latency_count < 1000
    confidence_count = total(samples, "qwen_router_route_confidence_count", category="math")
    assert confidence_count >= 2
    assert 0 < total(samples, "qwen_router_route_confidence_sum", category="math") / confidence_count <= 1
    assert "qwen_router_route_confidence_count" not in {  # explicit requests skip the classifier
        name for name, found in samples.items() for s in found if s.labels.get("category") == "explicit"
    }
    # Fallbacks are counted only when one happens; the unit tests cover that counter. This app
    # keeps Serve's replica routing; test_replica_affinity.py reads the replica-choice metrics.
    exported = {name.removesuffix(suffix) for name in samples for suffix in ("_bucket", "_count", "_sum") if name.endswith(suffix)}
    skipped = {"qwen_router_fallbacks_total", *(m.name for m in REPLICA_CHOICE_METRICS)}
    assert {m.name for m in METRICS} - skipped <= exported | samples.keys()
