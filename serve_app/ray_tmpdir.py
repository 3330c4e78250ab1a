"""Where local Ray clusters keep their session files and sockets: a short folder, whatever the
checkout's own path.

Ray puts every socket of a session under `$RAY_TMPDIR/ray/session_<date>_<pid>/sockets/`, and a
Unix socket path may not exceed 107 bytes. A folder inside the checkout breaks Ray as soon as the
checkout's path is a little long (the dashboard fails first, then the object store), so the
default is `/tmp/qwen-router-<uid>/<hash of the checkout's path>`:

- short: 34 bytes or fewer (for any uid below 100 million), whatever the checkout's path;
- per user (mode 0700, owner checked), so nobody else can create or read its sockets;
- per checkout, so two clones never share one, and a `ray start` elsewhere on the machine (which
  leaves its address in Ray's default temp folder for `ray.init()` to join) cannot capture these
  runs. Runs in one checkout (`make serve` while `make test` runs) share the folder but each
  starts its own session in it.

A RAY_TMPDIR set by the user is used as given, after a length check that fails at once and names
the limit, instead of the dashboard failing later with a traceback in one of its logs.

Standard library only: the Makefile runs this file with the system Python before any virtual
environment exists (`python3 serve_app/ray_tmpdir.py` prints the default folder; `--check`
validates $RAY_TMPDIR, or the default where it is unset, and creates it).
"""

import hashlib
import os
import stat
import sys
from pathlib import Path
from typing import MutableMapping

VARIABLE = "RAY_TMPDIR"
SOCKET_PATH_LIMIT = 107  # bytes: sun_path holds 108 with its terminating NUL
# The longest path Ray 2.60 builds below RAY_TMPDIR, with a 7-digit pid (Linux's largest pid_max).
LONGEST_SOCKET_SUFFIX = len("/ray/session_2026-12-01_19-57-13_874763_4194304/sockets/dash_MetricsHead")
MAX_LENGTH = SOCKET_PATH_LIMIT - LONGEST_SOCKET_SUFFIX
CHECKOUT = Path(__file__).resolve().parents[1]


class RayTmpdirError(ValueError):
    """RAY_TMPDIR cannot hold Ray's sockets."""


def default_ray_tmpdir(checkout: Path = CHECKOUT, uid: int | None = None) -> Path:
    """`/tmp/qwen-router-<uid>/<8 hex digits of the checkout's path>`."""
    owner = os.getuid() if uid is None else uid
    digest = hashlib.sha256(os.fsencode(checkout.resolve())).hexdigest()[:8]
    return Path("/tmp") / f"qwen-router-{owner}" / digest


def check_length(path: str, default: Path) -> None:
    length = len(os.fsencode(path))
    if length > MAX_LENGTH:
        raise RayTmpdirError(
            f"{VARIABLE} is {length} bytes long ({path!r}); Ray puts its sockets up to "
            f"{LONGEST_SOCKET_SUFFIX} bytes below it and a Unix socket path may not exceed "
            f"{SOCKET_PATH_LIMIT} bytes, so {VARIABLE} may be at most {MAX_LENGTH} bytes. "
            f"Unset it (the default is {default}) or choose a shorter folder."
        )


def ensure_ray_tmpdir(environ: MutableMapping[str, str] = os.environ, checkout: Path = CHECKOUT) -> Path:
    """Check (or choose) `environ[RAY_TMPDIR]`, create the folder, and return it."""
    default = default_ray_tmpdir(checkout)
    chosen = environ.get(VARIABLE) or str(default)
    check_length(chosen, default)
    folder = Path(chosen)
    if folder == default:
        _make_private(folder.parent)
    folder.mkdir(parents=True, exist_ok=True)
    environ[VARIABLE] = str(folder)
    return folder


def _make_private(folder: Path) -> None:
    """The per-user parent: created 0700, and refused if someone else owns it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = folder.lstat()
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
        raise RayTmpdirError(
            f"{folder} (the default {VARIABLE}'s parent) is not a folder owned by uid {os.getuid()}; "
            f"remove it or set {VARIABLE} to a folder of your own"
        )


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        try:
            ensure_ray_tmpdir()
        except (RayTmpdirError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0
    if argv:
        print("usage: ray_tmpdir.py [--check]", file=sys.stderr)
        return 2
    print(default_ray_tmpdir())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
