"""Ray's temp folder: short whatever the checkout's path, private, and a bad one refused at once."""

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from serve_app import ray_tmpdir
from serve_app.ray_tmpdir import MAX_LENGTH, RayTmpdirError, default_ray_tmpdir, ensure_ray_tmpdir

SCRIPT = Path(ray_tmpdir.__file__)


def long_checkout(root: Path, length: int = 220) -> Path:
    folder = root
    while len(str(folder)) < length:
        folder /= "a-rather-long-folder-name-for-a-checkout"
    return folder


def test_the_default_is_short_whatever_the_checkouts_path(tmp_path):
    checkout = long_checkout(tmp_path)
    folder = default_ray_tmpdir(checkout)
    assert len(str(checkout)) > 200
    assert len(os.fsencode(folder)) <= MAX_LENGTH
    assert folder.parent == Path(f"/tmp/qwen-router-{os.getuid()}")


def test_two_checkouts_and_two_users_get_different_folders(tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    assert default_ray_tmpdir(one) != default_ray_tmpdir(other)
    assert default_ray_tmpdir(one) == default_ray_tmpdir(tmp_path / "x" / ".." / "one")
    assert default_ray_tmpdir(one, uid=1000).parent != default_ray_tmpdir(one, uid=1001).parent


def test_the_limit_leaves_room_for_rays_longest_socket_path():
    socket = "/ray/session_2026-12-01_19-57-13_874763_4194304/sockets/dash_MetricsHead"
    assert MAX_LENGTH + len(socket) == 107


def test_ensure_sets_and_creates_the_private_default(tmp_path):
    environ: dict[str, str] = {}
    folder = ensure_ray_tmpdir(environ, checkout=long_checkout(tmp_path))
    assert environ["RAY_TMPDIR"] == str(folder) and folder.is_dir()
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700


def test_a_users_own_short_folder_is_used_as_given():
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="qr-") as short:
        own = Path(short) / "ray"
        environ = {"RAY_TMPDIR": str(own)}
        assert ensure_ray_tmpdir(environ) == own and own.is_dir()


def test_a_long_ray_tmpdir_is_refused_naming_the_variable_its_length_and_the_limit(tmp_path):
    long = str(long_checkout(tmp_path, 120) / ".ray_tmp")
    with pytest.raises(RayTmpdirError) as refused:
        ensure_ray_tmpdir({"RAY_TMPDIR": long})
    message = str(refused.value)
    assert f"RAY_TMPDIR is {len(long)} bytes long" in message
    assert f"at most {MAX_LENGTH} bytes" in message and "107" in message
    assert not Path(long).exists()


def test_the_script_checks_before_any_virtual_environment_exists(tmp_path):
    """The Makefile runs it with the system Python: standard library only, exit 2 and the message."""
    env = {"PATH": os.environ["PATH"], "RAY_TMPDIR": "/tmp/" + "x" * 60}
    checked = subprocess.run([sys.executable, "-I", str(SCRIPT), "--check"], env=env, capture_output=True, text=True)
    assert checked.returncode == 2
    assert checked.stderr.startswith("error: RAY_TMPDIR is 65 bytes long")
    printed = subprocess.run([sys.executable, "-I", str(SCRIPT)], capture_output=True, text=True, check=True)
    assert printed.stdout.strip() == str(default_ray_tmpdir())
