"""Image loading: data URLs, bounded remote fetches, and bombs refused before decoding."""

import asyncio
import base64
import io
import struct
import threading
import time
import zlib
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from deployments.errors import InvalidRequestError
from deployments.images import decode_image, load_images, read_image_bytes
from deployments.types import ImagePart
from serve_app.config import ImageConfig

CONFIG = ImageConfig()


def encoded(fmt: str, size=(8, 6), mode="RGB", color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height but whose pixel data is garbage: it cannot be decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"not zlib") + chunk(b"IEND", b"")


def load(urls, config: ImageConfig = CONFIG):
    return asyncio.run(load_images([ImagePart(u) for u in urls], config))


def refused(urls, config: ImageConfig = CONFIG) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        load(urls, config)
    assert info.value.param == "messages"
    return info.value


@pytest.mark.parametrize(
    "fmt,mime,mode",
    [("PNG", "image/png", "RGB"), ("PNG", "image/png", "RGBA"), ("PNG", "image/png", "P"), ("JPEG", "image/jpeg", "RGB")],
)
def test_data_urls_decode_to_rgb(fmt, mime, mode):
    color = 3 if mode == "P" else (200, 30, 30, 255)[: len(mode)]
    [image] = load([data_url(encoded(fmt, mode=mode, color=color), mime)])
    assert image.mode == "RGB"
    assert image.size == (8, 6)


def test_several_images_keep_their_order():
    images = load([data_url(encoded("PNG", size=(3, 3))), data_url(encoded("JPEG", size=(5, 4)), "image/jpeg")])
    assert [i.size for i in images] == [(3, 3), (5, 4)]


def test_data_url_not_base64():
    error = refused(["data:image/png,rawbytes"])
    assert error.code == "invalid_image_url"
    assert "base64" in error.message


def test_data_url_with_invalid_base64():
    error = refused(["data:image/png;base64,@@not base64@@"])
    assert error.code == "invalid_image_url"


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd", "/tmp/a.png", "iVBORw0KGgo="])
def test_not_a_data_or_http_url(url):
    assert refused([url]).code == "invalid_image_url"


def noisy_png() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 80).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [b"definitely not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, noisy_png()[: len(noisy_png()) // 2]],
    ids=["garbage", "bad-png-header", "truncated-png"],
)
def test_garbage_or_truncated_bytes(data):
    error = refused([data_url(data)])
    assert error.code == "invalid_image"


def test_too_many_images():
    url = data_url(encoded("PNG"))
    config = ImageConfig(max_images_per_request=2)
    assert len(load([url, url], config)) == 2
    error = refused([url] * 3, config)
    assert "3 images" in error.message and "at most 2" in error.message


def test_bytes_over_max_bytes():
    data = encoded("PNG", size=(64, 64)) + b"\x00" * 2048
    error = refused([data_url(data)], ImageConfig(max_bytes=1024))
    assert error.code == "image_too_large"
    assert "1024" in error.message


def test_pixels_over_max_pixels():
    error = refused([data_url(encoded("PNG", size=(20, 20)))], ImageConfig(max_pixels=399))
    assert error.code == "image_too_large"
    assert "20x20" in error.message and "399" in error.message


def test_pixel_limit_is_checked_before_decoding():
    # The pixel data is garbage: had it been decoded, the error would be "could not be decoded".
    with pytest.raises(InvalidRequestError) as info:
        decode_image(png_header_only(5000, 5000), CONFIG)
    assert info.value.code == "image_too_large"
    assert "5000x5000" in info.value.message


def test_decompression_bomb_is_refused_quickly():
    bomb = png_header_only(20_000, 20_000)
    start = time.perf_counter()
    with pytest.raises(InvalidRequestError):
        decode_image(bomb, CONFIG)
    assert time.perf_counter() - start < 1.0


def test_real_bomb_image_is_refused_quickly():
    buffer = io.BytesIO()
    Image.new("1", (15_000, 15_000)).save(buffer, format="PNG")  # 225 megapixels, ~30 KB compressed
    start = time.perf_counter()
    with pytest.raises(InvalidRequestError):
        decode_image(buffer.getvalue(), CONFIG)
    assert time.perf_counter() - start < 1.0


def test_huge_bomb_gets_the_same_error_as_any_oversized_image():
    with pytest.raises(InvalidRequestError) as info:
        decode_image(png_header_only(20_000, 20_000), CONFIG)
    assert info.value.code == "image_too_large"


def test_http_url_refused_when_remote_urls_disabled():
    error = refused(["http://127.0.0.1:1/a.png"])
    assert "remote image URLs are disabled" in error.message
    assert "data:" in error.message


# --- remote fetches against a local server --------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


@contextmanager
def serving(routes: dict):
    """A local HTTP server: path → (status, body, delay_s)."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, body, delay_s = routes.get(self.path, (404, b"missing", 0.0))
            if delay_s:
                release.wait(delay_s)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *args):
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# The test server listens on loopback, which remote fetches refuse unless allowed. The time limit
# covers the whole fetch, so it leaves room for a busy machine.
REMOTE = ImageConfig(
    allow_remote_urls=True, max_bytes=4096, fetch_timeout_s=1.0, remote_allowed_networks=("127.0.0.0/8",)
)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_remote_fetch():
    png = encoded("PNG", size=(7, 9))
    with serving({"/a.png": (200, png, 0.0)}) as base:
        assert asyncio.run(read_image_bytes(f"{base}/a.png", REMOTE)) == png
        [image] = load([f"{base}/a.png"], REMOTE)
    assert image.size == (7, 9) and image.mode == "RGB"


def test_remote_404():
    with serving({}) as base:
        error = refused([f"{base}/absent.png"], REMOTE)
    assert "404" in error.message


def test_remote_redirect_not_followed():
    with serving({"/moved.png": (302, b"", 0.0)}) as base:
        error = refused([f"{base}/moved.png"], REMOTE)
    assert "302" in error.message


def test_remote_body_over_max_bytes():
    with serving({"/big.png": (200, b"\x00" * (REMOTE.max_bytes + 1), 0.0)}) as base:
        error = refused([f"{base}/big.png"], REMOTE)
    assert error.code == "image_too_large"


def test_remote_timeout():
    with serving({"/slow.png": (200, encoded("PNG"), 5.0)}) as base:
        start = time.perf_counter()
        error = refused([f"{base}/slow.png"], REMOTE)
        elapsed = time.perf_counter() - start
    assert "did not answer within 1.0 s" in error.message
    assert elapsed < 3.0


def test_remote_connection_refused():
    with serving({}) as base:
        pass  # server closed: nothing listens on that port any more
    error = refused([f"{base}/a.png"], REMOTE)
    assert "could not be fetched" in error.message
