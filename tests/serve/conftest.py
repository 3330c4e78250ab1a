"""One real Ray Serve deployment of the demo graph for the whole session.

Ray starts with more logical CPUs than the machine has: Ray's CPU counts are accounting only,
and five deployments must fit (see the notes on CPU accounting).
"""

import os
import socket
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def serve_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_TMPDIR", str(REPO / ".ray_tmp"))
    Path(os.environ["RAY_TMPDIR"]).mkdir(exist_ok=True)
    import ray
    from ray import serve

    from serve_app.builder import CONFIG_DIR, build_app, serve_config_args

    args = serve_config_args(CONFIG_DIR / "demo.yaml")
    args["cache_dir"] = str(tmp_path_factory.mktemp("cache"))
    port = free_port()
    ray.init(num_cpus=8, include_dashboard=False, configure_logging=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app(args), name="qwen-router", route_prefix="/")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


@pytest.fixture(scope="session")
def client(serve_url: str):
    from openai import OpenAI

    return OpenAI(base_url=f"{serve_url}/v1", api_key="unused", max_retries=0, timeout=60)


@pytest.fixture(scope="session")
def http(serve_url: str):
    import httpx

    with httpx.Client(base_url=serve_url, timeout=60) as session:
        yield session
