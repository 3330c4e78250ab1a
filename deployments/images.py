"""Turning image URLs from requests into bounded, decoded PIL images.

Everything here is a limit on what a client can make a replica do: bytes read, time spent
fetching, pixels decoded. Sizes are checked from the image header before any pixel is decoded,
so a decompression bomb is refused without being expanded.
"""

import base64
import binascii
import io
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
    """Download at most `max_bytes` (+1 to detect overflow) within `fetch_timeout_s`."""
    chunks: list[bytes] = []
    received = 0
    try:
        async with httpx.AsyncClient(timeout=config.fetch_timeout_s, follow_redirects=False) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise InvalidRequestError(
                        f"image URL answered HTTP {response.status_code}", param=_PARAM
                    )
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > config.max_bytes:
                        raise _too_large(received, config.max_bytes)
                    chunks.append(chunk)
    except httpx.TimeoutException:
        raise InvalidRequestError(
            f"image URL did not answer within {config.fetch_timeout_s} s", param=_PARAM
        ) from None
    except httpx.HTTPError as exc:
        raise InvalidRequestError(
            f"image URL could not be fetched: {type(exc).__name__}", param=_PARAM
        ) from None
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"image is larger than {limit} bytes ({size} read)", param=_PARAM, code="image_too_large"
    )
