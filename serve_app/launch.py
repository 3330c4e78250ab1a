"""Running a config under the real `serve run` CLI in a child process, until ready.

Used by the command-line smoke test and by the benchmarks, which both need the exact path a
user takes (`serve run CONFIG`), on a free port and with a private cache folder.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import httpx
import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_serve(**ray_init: Any) -> Iterator[str]:
    """A local Ray cluster (`ray.init(**ray_init)`) with Serve's proxy on a free port; yields the
    proxy's URL and shuts both down afterwards. In-process, for tests and benchmarks."""
    import ray
    from ray import serve

    port = free_port()
    ray.init(configure_logging=False, **ray_init)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


class ServeRun:
    """`with ServeRun(config, workdir) as run:` starts `serve run`, waits for /readyz, and stops
    it with SIGINT (what Ctrl-C sends) on exit; `exit_code` is then set."""

    def __init__(self, config: Path, workdir: Path, *, ready_timeout_s: float = 180.0) -> None:
        document = yaml.safe_load(config.read_text())
        self.port = free_port()
        document["http_options"]["port"] = self.port
        for application in document["applications"]:
            application.setdefault("args", {})["cache_dir"] = str(workdir / "cache")
        self._config = workdir / config.name
        self._config.write_text(yaml.safe_dump(document))
        self.log = workdir / "serve.log"
        self._ready_timeout_s = ready_timeout_s
        self.process: subprocess.Popen | None = None
        self.startup_s: float | None = None
        self.exit_code: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ServeRun":
        env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
        if "RAY_TMPDIR" in env:
            Path(env["RAY_TMPDIR"]).mkdir(parents=True, exist_ok=True)
        serve = Path(sys.executable).with_name("serve")
        started = time.monotonic()
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [str(serve), "run", str(self._config)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def stop(self, timeout_s: float = 60.0) -> None:
        if self.process is None or self.exit_code is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.exit_code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.exit_code = self.process.wait()
            raise RuntimeError(f"serve run did not stop within {timeout_s} s of SIGINT") from None

    def _wait_ready(self) -> None:
        process = self.process
        assert process is not None

        def alive() -> None:
            if process.poll() is not None:
                raise RuntimeError(f"serve run exited early; see {self.log}")

        wait_ready(self.url, self._ready_timeout_s, check=alive, what=f"see {self.log}")


def wait_ready(
    url: str, timeout_s: float, *, check: Callable[[], None] = lambda: None, what: str = "", path: str = "/readyz"
) -> None:
    """Poll `url` + `path` until it answers 200; `check` may raise to give up early."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        check()
        try:
            if httpx.get(f"{url}{path}", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"not ready within {timeout_s} s{'; ' + what if what else ''}")
