"""Turning image URLs from requests into bounded, decoded PIL images.

Everything here is a limit on what a client can make a replica do: bytes read, time spent
fetching, addresses reached, pixels decoded. Sizes are checked from the image header before any
pixel is decoded, so a decompression bomb is refused without being expanded. Remote fetches
(off by default) reach public addresses only, unless the config names a network (no SSRF).
"""

import asyncio
import base64
import binascii
import io
import ipaddress
import socket
from typing import Sequence

import httpx
from PIL import Image, UnidentifiedImageError

from deployments.errors import InvalidRequestError
from deployments.types import ImagePart
from serve_app.config import ImageConfig

_PARAM = "messages"


async def load_images(parts: Sequence[ImagePart], config: ImageConfig) -> list[Image.Image]:
    """Decode every image of a request, in order, or raise `InvalidRequestError`."""
    if len(parts) > config.max_images_per_request:
        raise InvalidRequestError(
            f"{len(parts)} images in one request; at most {config.max_images_per_request} allowed",
            param=_PARAM,
        )
    return [decode_image(await read_image_bytes(part.url, config), config) for part in parts]


async def read_image_bytes(url: str, config: ImageConfig) -> bytes:
    """The encoded bytes behind a `data:` URL, or an http(s) URL when the config allows it."""
    if url.startswith("data:"):
        data = _data_url_bytes(url)
    elif url.startswith(("http://", "https://")):
        if not config.allow_remote_urls:
            raise InvalidRequestError(
                "remote image URLs are disabled on this server; send the image as a "
                "data: URL (data:image/png;base64,...)",
                param=_PARAM,
            )
        data = await _fetch(url, config)
    else:
        raise InvalidRequestError(
            "image_url must be a data: URL or an http(s) URL", param=_PARAM, code="invalid_image_url"
        )
    if len(data) > config.max_bytes:
        raise _too_large(len(data), config.max_bytes)
    return data


def decode_image(data: bytes, config: ImageConfig) -> Image.Image:
    """An RGB image, refused if it is not an image or has more pixels than allowed."""
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > config.max_pixels:
            raise InvalidRequestError(
                f"image is {width}x{height} = {width * height} pixels; "
                f"at most {config.max_pixels} allowed",
                param=_PARAM,
                code="image_too_large",
            )
        image.load()
        return image.convert("RGB")
    except Image.DecompressionBombError:  # Pillow's own ceiling, far above ours
        raise InvalidRequestError(
            f"image has more than the {config.max_pixels} pixels allowed",
            param=_PARAM,
            code="image_too_large",
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidRequestError(
            f"image could not be decoded: {type(exc).__name__}", param=_PARAM, code="invalid_image"
        ) from None


def _data_url_bytes(url: str) -> bytes:
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise InvalidRequestError(
            "image data: URL must be base64 encoded (data:image/<type>;base64,<data>)",
            param=_PARAM,
            code="invalid_image_url",
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(
            "image data: URL is not valid base64", param=_PARAM, code="invalid_image_url"
        ) from None


async def _fetch(url: str, config: ImageConfig) -> bytes:
    """Download at most `max_bytes` within `fetch_timeout_s` in all, from a permitted address."""
    try:
        return await asyncio.wait_for(_fetch_checked(url, config), timeout=config.fetch_timeout_s)
    except asyncio.TimeoutError:
        raise InvalidRequestError(
            f"image URL did not answer within {config.fetch_timeout_s} s", param=_PARAM
        ) from None
    except httpx.HTTPError as exc:
        raise InvalidRequestError(
            f"image URL could not be fetched: {type(exc).__name__}", param=_PARAM
        ) from None


async def _fetch_checked(url: str, config: ImageConfig) -> bytes:
    """Resolve once, check every address, then connect to the checked one.

    The request goes to the IP itself, with the original Host header and TLS server name, so
    a second DNS answer (rebinding) never comes into play. Redirects are not followed.
    """
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        raise InvalidRequestError("image URL is not a valid URL", param=_PARAM, code="invalid_image_url") from None
    if not target.host:
        raise InvalidRequestError("image URL has no host", param=_PARAM, code="invalid_image_url")
    port = target.port or (443 if target.scheme == "https" else 80)
    addresses = await _resolve(target.host, port)
    for address in addresses:
        _check_address(target.host, address, config)
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    chunks: list[bytes] = []
    received = 0
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        request = client.build_request(
            "GET",
            target.copy_with(host=addresses[0]),
            headers={"Host": target.netloc.decode("ascii")},
            extensions=extensions,
        )
        response = await client.send(request, stream=True)
        try:
            if response.status_code != 200:
                moved = " (redirects are not followed)" if response.is_redirect else ""
                raise InvalidRequestError(
                    f"image URL answered HTTP {response.status_code}{moved}", param=_PARAM
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > config.max_bytes:
                raise _too_large(int(declared), config.max_bytes)
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > config.max_bytes:
                    raise _too_large(received, config.max_bytes)
                chunks.append(chunk)
        finally:
            await response.aclose()
    return b"".join(chunks)


async def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidRequestError(f"image URL host {host!r} could not be resolved", param=_PARAM) from None
    addresses = list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
    if not addresses:
        raise InvalidRequestError(f"image URL host {host!r} could not be resolved", param=_PARAM)
    return addresses


def _check_address(host: str, address: str, config: ImageConfig) -> None:
    """Public unicast addresses only, unless `remote_allowed_networks` names the address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in ipaddress.ip_network(network, strict=False) for network in config.remote_allowed_networks):
        return
    if not ip.is_global or ip.is_multicast:
        raise InvalidRequestError(
            f"image URL host {host!r} is not a public address (loopback, private, link-local and "
            "reserved targets are refused unless images.remote_allowed_networks allows them)",
            param=_PARAM,
            code="invalid_image_url",
        )


def _too_large(size: int, limit: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"image is larger than {limit} bytes ({size} bytes)", param=_PARAM, code="image_too_large"
    )
