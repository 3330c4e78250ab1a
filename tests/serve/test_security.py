"""API keys, per-key rate limits across router replicas, and request limits, over real HTTP.

A second application in the session's Serve instance, `secured` under /secured: one tiny model
for every route, keys configured, two Router replicas sharing one RateLimiter. The session app
itself stays open (other tests call it without keys).
"""

import base64
import struct
import time
import zlib

import httpx
import openai
import pytest

from cluster_ops import serve_deploy, wait_until
from router.auth import hash_key
from serve_app.config import CATEGORIES

OPEN_KEY = "sk-secured-open-0001"
RPM_KEY = "sk-secured-rpm-0002"
TPM_KEY = "sk-secured-tpm-0003"
PREFIX = "/secured"
BODY_LIMIT = 64 * 1024


def secured_args(cache_dir: str, secret_file: str) -> dict:
    return {
        "models": [{"name": "tiny", "source": "tiny:qwen2.5-vl", "modalities": ["text", "image"], "context_length": 2048}],
        "routes": {category: {"model": "tiny"} for category in CATEGORIES},
        "auth": {
            "keys": [
                {"name": "open", "sha256": hash_key(OPEN_KEY)},
                {"name": "rpm", "file": secret_file, "rate_limit": {"requests_per_minute": 3}},
                {"name": "tpm", "sha256": hash_key(TPM_KEY), "rate_limit": {"tokens_per_minute": 40}},
            ]
        },
        "limits": {"max_body_bytes": BODY_LIMIT, "max_messages": 8, "max_tokens": {"default": 16}},
        "cache_dir": cache_dir,
    }


@pytest.fixture(scope="module")
def secured(serve_url, cache_dir, dashboard_port, tmp_path_factory, http):
    """Deployed as operators do (`serve deploy`), with two Router replicas."""
    from ray import serve

    workdir = tmp_path_factory.mktemp("secured")
    (workdir / "rpm-key").write_text(RPM_KEY + "\n")
    document = {
        "applications": [
            {
                "name": "secured",
                "route_prefix": PREFIX,
                "import_path": "serve_app.builder:build_app",
                "args": secured_args(cache_dir, str(workdir / "rpm-key")),
                "deployments": [{"name": "Router", "num_replicas": 2}],
            }
        ]
    }
    serve_deploy(document, dashboard_port, workdir / "secured.yaml")
    wait_until(lambda: http.get(f"{PREFIX}/readyz").status_code == 200, what="the secured application", poll_s=0.5)
    try:
        yield f"{serve_url}{PREFIX}"
    finally:
        serve.delete("secured")


def chat(base: str, key: str | None, **body) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    payload = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, **body}
    return httpx.post(f"{base}/v1/chat/completions", json=payload, headers=headers, timeout=60)


@pytest.mark.parametrize("key", [None, "sk-not-a-key"], ids=["missing", "wrong"])
def test_missing_or_wrong_key_gets_401(secured, key):
    response = chat(secured, key)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert "sk-not-a-key" not in response.text
    assert httpx.get(f"{secured}/v1/models").status_code == 401


def test_the_openai_client_with_a_key(secured):
    client = openai.OpenAI(base_url=f"{secured}/v1", api_key=OPEN_KEY, max_retries=0, timeout=60)
    reply = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert reply.model == "tiny"
    with pytest.raises(openai.AuthenticationError):
        client.with_options(api_key="sk-wrong").models.list()


def test_health_needs_no_key(secured):
    assert httpx.get(f"{secured}/healthz").status_code == 200
    assert httpx.get(f"{secured}/readyz", timeout=30).status_code == 200


def test_requests_per_minute_hold_across_router_replicas(secured):
    answers = [chat(secured, RPM_KEY) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[3]
    error = refused.json()["error"]
    assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert chat(secured, OPEN_KEY).status_code == 200  # other keys are not affected


def test_tokens_per_minute(secured):
    # 1 prompt token ("hi" → 2 chars / 4, rounded up) + max_tokens 16 = 17 tokens each.
    statuses = [chat(secured, TPM_KEY, max_tokens=16).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    too_large = chat(secured, TPM_KEY, messages=[{"role": "user", "content": "x" * 400}])
    assert too_large.status_code == 429
    assert too_large.json()["error"]["type"] == "tokens"
    assert "Request too large" in too_large.json()["error"]["message"]


def test_oversized_body_is_413_with_or_without_content_length(secured):
    big = {"messages": [{"role": "user", "content": "x" * BODY_LIMIT}]}
    response = httpx.post(f"{secured}/v1/chat/completions", json=big, headers={"authorization": f"Bearer {OPEN_KEY}"})
    assert response.status_code == 413
    assert f"larger than the {BODY_LIMIT} bytes allowed" in response.json()["error"]["message"]
    raw = httpx.post(f"{secured}/v1/chat/completions", json=big).status_code
    assert raw == 401  # the key is checked first, before the body is read

    def chunked():
        for _ in range(BODY_LIMIT // 1024 + 1):
            yield b" " * 1024

    streamed = httpx.post(f"{secured}/v1/chat/completions", content=chunked(), headers={"authorization": f"Bearer {OPEN_KEY}"})
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    "body,param,text",
    [
        ({"messages": [{"role": "user", "content": "hi"}] * 9}, "messages", "9 messages; at most 8 allowed"),
        ({"max_tokens": 17}, "max_tokens", "17 is more than the 16 allowed"),
    ],
    ids=["messages", "max_tokens"],
)
def test_request_limits_name_field_value_and_limit(secured, body, param, text):
    response = chat(secured, OPEN_KEY, **body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and text in error["message"]


def _png_header(width: int, height: int) -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return "data:image/png;base64," + base64.b64encode(png + chunk(b"IEND", b"")).decode()


def test_a_decompression_bomb_is_refused_before_decoding(http):
    """On the session app: a 60000x60000 PNG header (3.6 gigapixels) in a few bytes."""
    image = {"type": "image_url", "image_url": {"url": _png_header(60_000, 60_000)}}
    body = {"model": "qwen2.5-vl", "max_tokens": 1, "messages": [{"role": "user", "content": [image]}]}
    started = time.monotonic()
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "image_too_large"
    assert time.monotonic() - started < 10
