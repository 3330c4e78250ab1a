"""Acting on the running test cluster as an operator would: `serve deploy`, then wait on it."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import yaml

SERVE = Path(sys.executable).with_name("serve")


def serve_deploy(document: dict, dashboard_port: int, path: Path) -> None:
    """Write the Serve config to `path` and apply it with the real `serve deploy` CLI."""
    path.write_text(yaml.safe_dump(document))
    deployed = subprocess.run(
        [str(SERVE), "deploy", str(path), "--address", f"http://127.0.0.1:{dashboard_port}"],
        capture_output=True, text=True, env={**os.environ, "RAY_AUTH_MODE": "disabled"}, timeout=120,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr


def wait_until(condition: Callable[[], Any], timeout_s: float = 120.0, what: str = "condition", poll_s: float = 0.1) -> Any:
    """Poll until `condition()` is truthy and return it; a deadline, not a fixed sleep."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
