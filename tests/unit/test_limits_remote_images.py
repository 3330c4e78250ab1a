"""Remote image URLs (off by default): public addresses only, every resolved address checked,
the checked address connected to (no DNS rebinding), no redirects, bounded size and time."""

import asyncio
import io
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from pydantic import ValidationError

from deployments import images
from deployments.errors import InvalidRequestError
from serve_app.config import ImageConfig

LOOPBACK = ImageConfig(allow_remote_urls=True, fetch_timeout_s=2.0, remote_allowed_networks=("127.0.0.0/8",))
PUBLIC_ONLY = ImageConfig(allow_remote_urls=True, fetch_timeout_s=2.0)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    return buffer.getvalue()


@contextmanager
def image_server(status: int = 200, headers: dict | None = None, drip_s: float = 0.0, content_length: int | None = None):
    """A loopback server answering every GET with a PNG; records the Host headers it saw."""
    seen: list[str] = []
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers["Host"])
            body = png()
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(content_length or len(body)))
                self.end_headers()
                for byte in body:
                    if drip_s and stop.wait(drip_s):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def fetch(url: str, config: ImageConfig) -> bytes:
    return asyncio.run(images.read_image_bytes(url, config))


def refused(url: str, config: ImageConfig) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        fetch(url, config)
    assert info.value.param == "messages"
    return info.value


def resolving_to(monkeypatch, *addresses: str) -> list[str]:
    """Make every host resolve to `addresses`; returns the hosts asked for."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    monkeypatch.setattr(images, "_resolve", resolve)
    return asked


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.png",
        "http://localhost/a.png",
        "http://10.1.2.3/a.png",
        "http://192.168.0.1/a.png",
        "http://172.16.5.4/a.png",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.64.0.1/a.png",  # carrier-grade NAT
        "http://0.0.0.0/a.png",
        "http://[::1]/a.png",
        "http://[fe80::1]/a.png",
        "http://[fd00::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",  # IPv4-mapped loopback
        "http://224.0.0.1/a.png",  # multicast
        "http://240.0.0.1/a.png",  # reserved
    ],
)
def test_non_public_targets_are_refused(url):
    error = refused(url, PUBLIC_ONLY)
    assert "is not a public address" in error.message and error.code == "invalid_image_url"


def test_every_resolved_address_is_checked(monkeypatch):
    resolving_to(monkeypatch, "93.184.216.34", "127.0.0.1")  # one public, one loopback
    assert "'images.example' is not a public address" in refused("http://images.example/a.png", PUBLIC_ONLY).message


def test_the_checked_address_is_the_one_connected_to(monkeypatch):
    """A name the system cannot resolve still works: the request goes to the checked IP, with the
    original Host header, and the name is resolved once (a rebinding answer is never asked for)."""
    with image_server() as (port, seen):
        asked = resolving_to(monkeypatch, "127.0.0.1")
        assert fetch(f"http://images.invalid:{port}/a.png", LOOPBACK) == png()
    assert asked == ["images.invalid"]
    assert seen == [f"images.invalid:{port}"]


def test_allowed_networks_open_only_themselves():
    with image_server() as (port, _):
        assert fetch(f"http://127.0.0.1:{port}/a.png", LOOPBACK) == png()
        config = PUBLIC_ONLY.model_copy(update={"remote_allowed_networks": ("10.0.0.0/8",)})
        refused(f"http://127.0.0.1:{port}/a.png", config)


def test_redirects_are_not_followed():
    with image_server(status=302, headers={"Location": "http://169.254.169.254/"}) as (port, seen):
        error = refused(f"http://127.0.0.1:{port}/a.png", LOOPBACK)
    assert error.message == "image URL answered HTTP 302 (redirects are not followed)"
    assert len(seen) == 1


def test_declared_size_over_the_limit_is_refused_before_reading():
    config = LOOPBACK.model_copy(update={"max_bytes": 1024})
    with image_server(content_length=10**7, drip_s=1.0) as (port, _):  # would take minutes to read
        error = refused(f"http://127.0.0.1:{port}/a.png", config)
    assert error.code == "image_too_large"
    assert error.message == "image is larger than 1024 bytes (10000000 bytes)"


def test_a_slow_drip_is_cut_at_the_total_time_limit():
    """Each byte arrives well within any per-read timeout; the whole fetch still has one deadline."""
    config = LOOPBACK.model_copy(update={"fetch_timeout_s": 0.5})
    with image_server(drip_s=0.05) as (port, _):
        error = refused(f"http://127.0.0.1:{port}/a.png", config)
    assert error.message == "image URL did not answer within 0.5 s"


def test_unresolvable_host():
    assert "could not be resolved" in refused("http://no-such-host.invalid/a.png", PUBLIC_ONLY).message


def test_allowed_networks_must_parse():
    with pytest.raises(ValidationError, match="'10.0.0.0/33' is not a network"):
        ImageConfig(remote_allowed_networks=("10.0.0.0/33",))
