"""The ASGI gate: 401 before the body is read, 413 before it is parsed, the body replayed intact."""

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from router.auth import ApiKeys, hash_key
from router.gate import Gate, GateSettings, _replay
from serve_app.config import AuthConfig

KEY = "sk-gate-test"
LIMIT = 2048


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    identity = getattr(request.state, "api_key", None)
    return JSONResponse({"size": len(body), "key": identity.name if identity else None})


def client(keys: ApiKeys, root_path: str = "") -> TestClient:
    app = Starlette(routes=[Route("/v1/echo", echo, methods=["POST"]), Route("/healthz", echo, methods=["GET", "POST"])])
    gated = Gate(app, settings=lambda: GateSettings(keys, LIMIT))
    return TestClient(gated, root_path=root_path)


SECURED = ApiKeys.from_config(AuthConfig(keys=[{"name": "team-a", "sha256": hash_key(KEY)}]), {})
OPEN = ApiKeys.from_config(AuthConfig(), {})


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer nope"}, {"authorization": KEY}])
def test_api_paths_need_a_key(headers):
    response = client(SECURED).post("/v1/echo", content=b"{}", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert "nope" not in response.text


def test_the_matched_key_reaches_the_route():
    response = client(SECURED).post("/v1/echo", content=b"x" * 10, headers={"authorization": f"Bearer {KEY}"})
    assert response.json() == {"size": 10, "key": "team-a"}


def test_health_is_open_and_auth_off_means_open():
    assert client(SECURED).get("/healthz").status_code == 200
    assert client(OPEN).post("/v1/echo", content=b"{}").json() == {"size": 2, "key": None}


def test_route_prefix_is_honoured():
    # Serve mounts an application under its route_prefix as the ASGI root_path.
    assert client(SECURED, root_path="/secured").post("/secured/v1/echo", content=b"{}").status_code == 401


def test_unauthenticated_gets_401_even_with_an_oversized_body():
    assert client(SECURED).post("/v1/echo", content=b"x" * (LIMIT + 1)).status_code == 401


def test_declared_length_over_the_limit_is_413_at_once():
    response = client(OPEN).post("/v1/echo", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert f"{LIMIT} bytes allowed ({LIMIT + 1} bytes)" in error["message"]


def test_streamed_body_without_length_is_cut_at_the_limit():
    def chunks():
        for _ in range(10):
            yield b"x" * 1000  # chunked transfer: no Content-Length

    response = client(OPEN).post("/v1/echo", content=chunks())
    assert response.status_code == 413
    assert f"larger than the {LIMIT} bytes allowed" in response.json()["error"]["message"]


def test_body_at_the_limit_is_replayed_intact():
    def chunks():
        yield b"x" * 1000
        yield b"y" * (LIMIT - 1000)

    assert client(OPEN).post("/v1/echo", content=chunks()).json()["size"] == LIMIT


def test_a_client_gone_mid_stream_reaches_the_app_as_a_disconnect():
    from ray.exceptions import TaskCancelledError

    async def cancelled_receive():
        raise TaskCancelledError()

    async def scenario():
        receive = _replay({"type": "http.request", "body": b"{}", "more_body": False}, cancelled_receive)
        return [await receive(), await receive()]

    first, then = asyncio.run(scenario())
    assert first["type"] == "http.request" and then == {"type": "http.disconnect"}
