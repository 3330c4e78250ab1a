"""A fresh clone at a long path: the README's commands work there, as from any other folder.

The checkout is copied into a folder nested five levels deep (an absolute path of over 200
characters) and the Makefile is run from there, with this run's virtual environment and without
this run's RAY_TMPDIR, so the copy chooses Ray's temp folder for itself. Ray's sockets would not fit
under a folder inside such a clone (a Unix socket path may not exceed 107 bytes).
"""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from serve_app.launch import ServeRun
from serve_app.ray_tmpdir import default_ray_tmpdir

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parents[1]
NESTING = (
    "platform-engineering-team-projects", "specialist-model-serving-on-ray-clusters",
    "qwen-router-evaluations-and-benchmarks", "review-checkouts-for-the-december-release", "qwen-router",
)


@pytest.fixture(scope="module")
def long_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's files (tracked, and untracked but not ignored) under a long path."""
    clone = tmp_path_factory.mktemp("clone").joinpath(*NESTING)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is not part of it
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            os.utime(target, (source.stat().st_atime, source.stat().st_mtime))
    assert len(str(clone)) > 200
    return clone


def make(clone: Path, *arguments: str) -> list[str]:
    """`make` in the clone with this run's environment, which the clone must not install again."""
    return ["make", "-s", "-C", str(clone), "-o", f"{VENV}/.installed", f"VENV={VENV}", *arguments]


def fresh_environment() -> dict[str, str]:
    """As a new shell has it: no Ray folder or cluster of this run, no outer make's settings."""
    inherited = ("RAY_TMPDIR", "RAY_ADDRESS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    return {name: value for name, value in os.environ.items() if name not in inherited}


def ray_sessions(clone: Path) -> set[str]:
    folder = default_ray_tmpdir(clone) / "ray"
    return {path.name for path in folder.glob("session_2*")} if folder.is_dir() else set()


def test_make_serve_answers_a_routed_request_with_no_error_lines(long_clone, tmp_path):
    before = ray_sessions(long_clone)
    config = long_clone / "serve_app" / "configs" / "demo.yaml"
    run = ServeRun(
        config, tmp_path, ready_timeout_s=300,
        command=lambda copied: make(long_clone, "serve", f"CONFIG={copied}"), env=fresh_environment(),
    )
    with run:
        response = httpx.post(
            f"{run.url}/v1/chat/completions",
            json={"model": "auto", "messages": [{"role": "user", "content": "Solve 3x + 5 = 20"}], "max_tokens": 4},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-route-model"] == "qwen2.5-math"
    output = run.log.read_text()
    assert [line for line in output.splitlines() if "ERROR" in line] == [], output[-4000:]
    assert ray_sessions(long_clone) - before, "no Ray session in the clone's default folder"
    assert not (long_clone / ".ray_tmp").exists()


def test_serve_deploy_and_the_state_api_work_from_the_clone(long_clone, tmp_path):
    """The serving tier's in-place change: the real `serve deploy` and Ray's state API, both
    through the dashboard (the first part of Ray to fail when its sockets do not fit)."""
    selected = "tests/serve/test_operations.py::test_autoscaling_and_routing_policy_change_in_place"
    tier = subprocess.run(
        make(long_clone, "test-serve", f"SERVE_TESTS=--basetemp={tmp_path / 'pytest'} -p no:cacheprovider {selected}"),
        env=fresh_environment(), capture_output=True, text=True, timeout=900,
    )
    assert tier.returncode == 0, (tier.stdout + tier.stderr)[-4000:]
    assert "1 passed" in tier.stdout
