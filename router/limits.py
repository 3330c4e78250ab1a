"""Bounds on one parsed request, checked by the router before any model sees it.

Counts and sizes (messages, characters per message, images, encoded image bytes) and the
`max_tokens` cap of the route. A `max_tokens` above the cap is refused rather than cut, since
a silently shorter answer is a different answer; a request that sets none gets the route's
default, or the cap when the route has no default. Pixels are checked on the model replica,
from the image header, before any pixel is decoded (deployments/images.py).
"""

import dataclasses

from deployments.errors import InvalidRequestError
from router.policy import RouteDecision
from router.protocol import ChatCompletionRequest, ImageContent, TextContent
from serve_app.config import ImageConfig, LimitsConfig


class RequestLimits:
    def __init__(self, limits: LimitsConfig, images: ImageConfig) -> None:
        self._limits = limits
        self._images = images

    def check(self, body: ChatCompletionRequest) -> None:
        """Raise `InvalidRequestError` naming the field, its size and the limit."""
        limits = self._limits
        if len(body.messages) > limits.max_messages:
            raise InvalidRequestError(
                f"messages: {len(body.messages)} messages; at most {limits.max_messages} allowed "
                "(limits.max_messages)",
                param="messages",
            )
        images = 0
        for i, message in enumerate(body.messages):
            if isinstance(message.content, str):
                parts, chars = [], len(message.content)
            else:
                parts = message.content or []
                chars = sum(len(part.text) for part in parts if isinstance(part, TextContent))
            if chars > limits.max_message_chars:
                raise InvalidRequestError(
                    f"messages[{i}].content: {chars} characters; at most {limits.max_message_chars} "
                    "allowed per message (limits.max_message_chars)",
                    param=f"messages[{i}].content",
                )
            for j, part in enumerate(parts):
                if isinstance(part, ImageContent):
                    images += 1
                    self._check_image(part.image_url.url, f"messages[{i}].content[{j}].image_url.url")
        if images > self._images.max_images_per_request:
            raise InvalidRequestError(
                f"messages: {images} images; at most {self._images.max_images_per_request} allowed "
                "per request (images.max_images_per_request)",
                param="messages",
            )

    def cap_max_tokens(self, body: ChatCompletionRequest, decision: RouteDecision) -> RouteDecision:
        """The decision, its default `max_tokens` bounded by the route's cap; refuse more."""
        cap = self._limits.max_tokens.cap(decision.category)
        if cap is None:
            return decision
        requested = body.completion_limit
        if requested is not None and requested > cap:
            param = "max_completion_tokens" if body.max_completion_tokens else "max_tokens"
            raise InvalidRequestError(
                f"{param}: {requested} is more than the {cap} allowed on the {decision.category!r} "
                "route (limits.max_tokens)",
                param=param,
            )
        if decision.defaults.max_tokens is not None:
            return decision  # within the cap: the config is checked at start
        defaults = decision.defaults.model_copy(update={"max_tokens": cap})
        return dataclasses.replace(decision, defaults=defaults)

    def _check_image(self, url: str, param: str) -> None:
        header, sep, payload = url.partition(",")
        if not (url.startswith("data:") and sep):
            return  # the model replica refuses what is not a well-formed data: URL
        size = len(payload) * 3 // 4 - (len(payload) - len(payload.rstrip("=")))  # decoded size
        if size > self._images.max_bytes:
            raise InvalidRequestError(
                f"{param}: image is {size} bytes; at most {self._images.max_bytes} allowed "
                "(images.max_bytes)",
                param=param,
                code="image_too_large",
            )
