"""Local Ray clusters for tests and benchmarks: in-process, or the real `serve run` CLI in a child
process, until ready.

Both start a new cluster of their own (never one found through RAY_ADDRESS or a `ray start`
elsewhere) with its sockets in the folder `serve_app/ray_tmpdir.py` chooses.
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

from serve_app.ray_tmpdir import ensure_ray_tmpdir


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
    ensure_ray_tmpdir()
    ray.init(address="local", configure_logging=False, **ray_init)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


def _default_sigint() -> None:
    """In the child before it execs: SIGINT back to its default, whatever the parent ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ServeRun:
    """`with ServeRun(config, workdir) as run:` starts `serve run`, waits for /readyz, and stops
    it as Ctrl-C in a terminal does (SIGINT to its whole process group); `exit_code` is then set.

    The config is copied with a free port and a private cache folder. `command` may start it
    another way (`make serve CONFIG=...`), in `env` as given; by default `serve run CONFIG` runs
    in this process's environment with Ray's temp folder chosen and RAY_ADDRESS dropped (it would
    join that cluster instead of starting one).
    """

    def __init__(
        self,
        config: Path,
        workdir: Path,
        *,
        ready_timeout_s: float = 180.0,
        command: Callable[[Path], list[str]] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        document = yaml.safe_load(config.read_text())
        self.port = free_port()
        document["http_options"]["port"] = self.port
        for application in document["applications"]:
            application.setdefault("args", {})["cache_dir"] = str(workdir / "cache")
        self._config = workdir / config.name
        self._config.write_text(yaml.safe_dump(document))
        self.log = workdir / "serve.log"
        self._ready_timeout_s = ready_timeout_s
        self._command = command or (lambda path: [str(Path(sys.executable).with_name("serve")), "run", str(path)])
        self._env = env
        self.process: subprocess.Popen | None = None
        self.startup_s: float | None = None
        self.exit_code: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ServeRun":
        env = self._env if self._env is not None else self._default_env()
        started = time.monotonic()
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                self._command(self._config),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # A shell starts a background job with SIGINT ignored, and Python then installs no
                # KeyboardInterrupt handler: the Ctrl-C that `stop` sends would be lost.
                preexec_fn=_default_sigint,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started
        return self

    @staticmethod
    def _default_env() -> dict[str, str]:
        env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
        env.pop("RAY_ADDRESS", None)
        ensure_ray_tmpdir(env)
        return env

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    # Ray's shutdown after Ctrl-C took over 60 s on a loaded 2-core machine (right after the serving
    # tier's clusters had stopped); a clean stop is what is checked, not its speed.
    def stop(self, timeout_s: float = 120.0) -> None:
        if self.process is None or self.exit_code is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.exit_code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.exit_code = self.process.wait()
            raise RuntimeError(f"{self._command(self._config)[0]} did not stop within {timeout_s} s of SIGINT") from None

    def _wait_ready(self) -> None:
        process = self.process
        assert process is not None

        def alive() -> None:
            if process.poll() is not None:
                raise RuntimeError(f"{self._command(self._config)[0]} exited early; see {self.log}")

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
