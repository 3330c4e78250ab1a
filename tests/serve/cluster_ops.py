"""Acting on the running test cluster as an operator would: `config check` and `serve deploy`,
wait on it, read its Prometheus endpoint."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

SERVE = Path(sys.executable).with_name("serve")


def serve_deploy(document: dict, dashboard_port: int, path: Path) -> None:
    """Write the Serve config to `path` and apply it with the real `serve deploy` CLI."""
    path.write_text(yaml.safe_dump(document))
    deployed = subprocess.run(
        [str(SERVE), "deploy", str(path), "--address", f"http://127.0.0.1:{dashboard_port}"],
        capture_output=True, text=True, env={**os.environ, "RAY_AUTH_MODE": "disabled"}, timeout=120,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr


def checked_deploy(document: dict, dashboard_port: int, workdir: Path) -> None:
    """`qwen-router config check`, then `serve deploy`, as an operator would."""
    path = workdir / f"deploy-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump(document))
    check = subprocess.run([sys.executable, "-m", "serve_app.cli", "config", "check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    serve_deploy(document, dashboard_port, path)


def scrape(metrics_port: int) -> dict[str, list]:
    """Samples of the router's metrics by series name (Ray adds the `ray_` prefix)."""
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("ray_qwen_router_"):
                samples.setdefault(sample.name.removeprefix("ray_"), []).append(sample)
    return samples


def total(samples: dict[str, list], name: str, **labels: str) -> float:
    return sum(s.value for s in samples.get(name, []) if labels.items() <= s.labels.items())


def wait_until(condition: Callable[[], Any], timeout_s: float = 120.0, what: str = "condition", poll_s: float = 0.1) -> Any:
    """Poll until `condition()` is truthy and return it; a deadline, not a fixed sleep."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
