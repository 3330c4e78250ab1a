"""The real command-line path: `serve run` on the demo config, one request, clean shutdown."""

from pathlib import Path

import httpx
import pytest

from serve_app.launch import ServeRun

DEMO = Path(__file__).resolve().parents[2] / "serve_app" / "configs" / "demo.yaml"


def test_serve_run_demo_config(tmp_path):
    run = ServeRun(DEMO, tmp_path)
    with run:
        response = httpx.post(
            f"{run.url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "Solve 2x + 3 = 7."}], "max_tokens": 4},
            timeout=60,
        )
        assert response.status_code == 200
        assert response.headers["x-route-model"] == "qwen2.5-math"
    assert run.exit_code == 0, run.log.read_text()[-3000:]
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{run.url}/healthz", timeout=2)
