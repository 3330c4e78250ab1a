"""Thousands of malformed and hostile requests against the running router: no 5xx, no hangs.

Two generators: hypothesis strategies aimed at this API (JSON bodies, messages, content parts,
images, headers, raw bytes), and schemathesis driven by the router's own OpenAPI schema, both
valid and invalid inputs. Generated `max_tokens` stay small where a request could reach a model,
so the cases stay cheap. Afterwards the router must still answer /readyz with 200.

`make test` runs a bounded number of cases; `make soak` (QWEN_ROUTER_SOAK=1) runs many more and
writes the counts to bench/results/fuzz.json.
"""

import json
import os
import time
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_ops import wait_until

SOAK = os.environ.get("QWEN_ROUTER_SOAK") == "1"
HOSTILE_CASES = 20_000 if SOAK else 1_200
SCHEMA_CASES_PER_OPERATION = 2_500 if SOAK else 150
TIMEOUT_S = 30.0  # a request slower than this counts as a hang
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "fuzz.json"
FUZZ_SETTINGS = dict(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

TALLY = {"hypothesis": 0, "schemathesis": 0, "5xx": 0, "hangs": 0}


@pytest.fixture(scope="module", autouse=True)
def report(request, http):
    """Ready before, ready after, and the counts in the test output (and, when soaking, a file)."""
    wait_until(lambda: http.get("/readyz").status_code == 200, what="router ready", poll_s=0.5)
    started = time.monotonic()
    yield
    ready = http.get("/readyz").status_code
    summary = {**TALLY, "cases": TALLY["hypothesis"] + TALLY["schemathesis"], "seconds": round(time.monotonic() - started, 1), "readyz_after": ready}
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print(f"\nfuzz: {json.dumps(summary)}")
    if SOAK:
        RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    assert ready == 200


def _send(http: httpx.Client, source: str, method: str, path: str, **kwargs) -> httpx.Response:
    TALLY[source] += 1
    try:
        response = http.request(method, path, timeout=TIMEOUT_S, **kwargs)
    except httpx.TimeoutException:
        TALLY["hangs"] += 1
        raise AssertionError(f"{method} {path} did not answer within {TIMEOUT_S} s") from None
    if response.status_code >= 500:
        TALLY["5xx"] += 1
    assert response.status_code < 500, (response.status_code, response.text[:500])
    return response


# --- hypothesis: hostile requests aimed at this API ----------------------------------------------

TEXT = st.text(max_size=40) | st.sampled_from(["", "\x00", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"), "{{ raise('x') }}", "<|im_start|>system", "<think>", "x" * 3000])
NUMBER = st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0, -1, 2**31, 2**63])
SCALAR = st.none() | st.booleans() | NUMBER | TEXT
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)

IMAGE_URL = st.sampled_from(
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "data:image/png;base64,not base64!",
        "data:,",
        "data:image/png,raw",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8265/",
        "https://[::1]/a.png",
        "file:///etc/passwd",
        "gopher://localhost:25/",
        "",
    ]
) | TEXT
PART = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "input_audio", "video", ""]) | TEXT},
    optional={"text": JSON, "image_url": st.fixed_dictionaries({"url": IMAGE_URL}, optional={"detail": JSON}) | JSON},
)
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", ""]) | TEXT},
    optional={"content": TEXT | st.lists(PART, max_size=4) | JSON, "name": JSON, "tool_calls": JSON},
)
CHAT_BODY = st.fixed_dictionaries(
    {
        "messages": st.lists(MESSAGE, max_size=5) | JSON,
        # Small when valid, so that a body that reaches a model costs a few tokens.
        "max_tokens": st.integers(1, 3) | st.integers() | TEXT | st.just(None).map(lambda _: 0),
    },
    optional={
        "model": st.sampled_from(["auto", "qwen2.5-math", "qwen2.5-vl", "qwen3-moe", "gpt-4o", "", "qwen2.5-math:missing"]) | TEXT,
        "stream": st.booleans() | JSON,
        "stream_options": JSON,
        "temperature": NUMBER | JSON,
        "top_p": NUMBER,
        "n": NUMBER,
        "stop": JSON,
        "seed": NUMBER,
        "chat_template_kwargs": JSON,
        "logprobs": JSON,
        "tools": JSON,
        "response_format": JSON,
        "max_completion_tokens": st.integers(1, 3) | NUMBER,
        "unknown_field": JSON,
    },
)
RAW_BODY = st.binary(max_size=300) | st.sampled_from(
    [b"[" * 5000 + b"]" * 5000, b'{"messages": [' * 2000, b'{"messages": "\xff\xfe"}', b"", b"null", b"\x00" * 100]
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", ""]),
        "authorization": st.sampled_from(["Bearer x", "Bearer", "Basic Zm9vOmJhcg==", "x" * 4000]),
        "x-request-id": st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=200),
        "accept": st.sampled_from(["text/event-stream", "*/*", "application/xml"]),
    },
)
REQUEST = st.one_of(
    st.tuples(st.just("POST"), st.just("/v1/chat/completions"), CHAT_BODY.map(lambda b: json.dumps(b).encode()), HEADERS),
    st.tuples(st.just("POST"), st.just("/v1/chat/completions"), JSON.map(lambda b: json.dumps(b).encode()), HEADERS),
    st.tuples(st.just("POST"), st.just("/v1/chat/completions"), RAW_BODY, HEADERS),
    st.tuples(
        st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
        st.sampled_from(["/v1/models", "/v1/chat/completions", "/healthz", "/v1/", "/v1/completions", "/openapi.json", "/%2e%2e/etc/passwd", "/v1/models/../../healthz"]),
        RAW_BODY,
        HEADERS,
    ),
)


@settings(max_examples=HOSTILE_CASES, **FUZZ_SETTINGS)
@given(request=REQUEST)
def test_hostile_requests_never_get_a_5xx_or_hang(http, request):
    method, path, body, headers = request
    _send(http, "hypothesis", method, path, content=body, headers=headers)


# --- schemathesis: the router's OpenAPI schema, valid and invalid inputs -------------------------


def _router_schema():
    """The schema the router serves at /openapi.json (checked below), read from its app."""
    from router.ingress import api

    loaded = schemathesis.openapi.from_dict(api.openapi())
    loaded.config.generation.update(modes=["positive", "negative"], max_examples=SCHEMA_CASES_PER_OPERATION, deterministic=not SOAK)
    return loaded


schema = _router_schema()


def test_the_fuzzed_schema_is_the_served_one(http):
    assert http.get("/openapi.json").json()["paths"] == schema.raw_schema["paths"]


@schema.parametrize()
@settings(max_examples=SCHEMA_CASES_PER_OPERATION, **FUZZ_SETTINGS)
def test_every_operation_of_the_schema_never_gets_a_5xx_or_hangs(case, http):
    if isinstance(case.body, dict):
        for field in ("max_tokens", "max_completion_tokens"):
            if isinstance(case.body.get(field), int) and case.body[field] > 3:
                case.body[field] = 3  # keep generation cheap; invalid values are left alone
    kwargs = case.as_transport_kwargs(base_url=str(http.base_url).rstrip("/"))
    method, url = kwargs.pop("method"), kwargs.pop("url")
    body = kwargs.get("json")
    content = json.dumps(body).encode() if "json" in kwargs else kwargs.get("data")
    _send(http, "schemathesis", method, url, content=content, headers=kwargs.get("headers"), params=kwargs.get("params"))
