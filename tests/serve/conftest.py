"""One real Ray Serve deployment of the demo graph for the whole session.

Ray starts with more logical CPUs than the machine has: Ray's CPU counts are accounting only,
and five deployments must fit (see the notes on CPU accounting).
"""

import os
from pathlib import Path
from typing import Iterator

import pytest

from serve_app.launch import free_port, local_serve


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Tiny checkpoints, built once for every application of the session."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def dashboard_port() -> int:
    """The Ray dashboard, where `serve deploy --address` reaches this cluster."""
    return free_port()


@pytest.fixture(scope="session")
def metrics_port() -> int:
    """Ray's Prometheus endpoint for this cluster, where the router's metrics are scraped."""
    return free_port()


@pytest.fixture(scope="session")
def spans_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file every process of the application appends its spans to (telemetry exporter: file)."""
    return tmp_path_factory.mktemp("traces") / "spans.jsonl"


@pytest.fixture(scope="session")
def serve_url(cache_dir: str, dashboard_port: int, metrics_port: int, spans_path: Path) -> Iterator[str]:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from ray import serve

    from serve_app.builder import CONFIG_DIR, build_app, serve_config_args

    args = serve_config_args(CONFIG_DIR / "demo.yaml")
    args["cache_dir"] = cache_dir
    args["telemetry"] = {"exporter": "file", "path": str(spans_path)}
    cluster = local_serve(
        num_cpus=8, dashboard_host="127.0.0.1", dashboard_port=dashboard_port, _metrics_export_port=metrics_port
    )
    with cluster as url:
        serve.run(build_app(args), name="qwen-router", route_prefix="/")
        yield url


@pytest.fixture(scope="session")
def client(serve_url: str):
    from openai import OpenAI

    return OpenAI(base_url=f"{serve_url}/v1", api_key="unused", max_retries=0, timeout=60)


@pytest.fixture(scope="session")
def http(serve_url: str):
    import httpx

    with httpx.Client(base_url=serve_url, timeout=60) as session:
        yield session
