"""The real command-line path: `serve run` on the demo config, one request, clean shutdown.

A copy of demo.yaml changes only what a test must: a free port and a private cache folder.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
SERVE = Path(sys.executable).with_name("serve")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve run exited before the app was ready"
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"not ready after {timeout_s} s")


def test_serve_run_demo_config(tmp_path):
    config = yaml.safe_load((REPO / "serve_app/configs/demo.yaml").read_text())
    port = _free_port()
    config["http_options"]["port"] = port
    config["applications"][0]["args"]["cache_dir"] = str(tmp_path / "cache")
    config_file = tmp_path / "demo.yaml"
    config_file.write_text(yaml.safe_dump(config))
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_TMPDIR": os.environ.get("RAY_TMPDIR", str(REPO / ".ray_tmp"))}
    Path(env["RAY_TMPDIR"]).mkdir(exist_ok=True)
    log = open(tmp_path / "serve.log", "w")
    process = subprocess.Popen(
        [str(SERVE), "run", str(config_file)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, timeout_s=180)
        response = httpx.post(
            f"{url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "Solve 2x + 3 = 7."}], "max_tokens": 4},
            timeout=60,
        )
        assert response.status_code == 200
        assert response.headers["x-route-model"] == "qwen2.5-math"
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            exit_code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("serve run did not stop within 60 s of SIGINT")
        log.close()
    assert exit_code == 0, (tmp_path / "serve.log").read_text()[-3000:]
    try:
        httpx.get(f"{url}/healthz", timeout=2)
        raise AssertionError("the HTTP server still answers after shutdown")
    except httpx.HTTPError:
        pass
