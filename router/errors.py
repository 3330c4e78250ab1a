"""The one mapping from exceptions to OpenAI-style errors, for JSON and for SSE.

Client mistakes keep their message; anything unexpected becomes a 500 that carries only the
request id, never internal text.
"""

import json
from typing import Any, Sequence

from deployments.errors import InvalidRequestError, QwenRouterError


class ModelNotFoundError(QwenRouterError):
    def __init__(self, model: str, available: Sequence[str]) -> None:
        super().__init__(
            f"The model {model!r} does not exist; available models: {', '.join(available)}",
            param="model",
            code="model_not_found",
        )


class ServiceUnavailableError(QwenRouterError):
    """No model could take the request right now; retrying later may succeed."""

    def __init__(self, message: str, *, retry_after_s: int = 1, code: str = "service_unavailable") -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class GatewayTimeoutError(QwenRouterError):
    """The request ran past the router's `request_timeout_s`."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="timeout")


class AuthenticationError(QwenRouterError):
    """No API key, or not one of ours. The message never repeats the key that was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_api_key")


class PayloadTooLargeError(QwenRouterError):
    """The request body is larger than `limits.max_body_bytes`."""

    def __init__(self, size: int | None, limit: int) -> None:
        read = f" ({size} bytes)" if size is not None else ""
        super().__init__(
            f"request body is larger than the {limit} bytes allowed{read}", code="request_too_large"
        )


class RateLimitError(QwenRouterError):
    """A key's per-minute budget is spent; `retry_after_s` says when it has room again."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, code="rate_limit_exceeded")
        self.retry_after_s = retry_after_s


class RequestRateLimitError(RateLimitError):
    """Requests per minute."""


class TokenRateLimitError(RateLimitError):
    """Tokens per minute."""


_STATUS_AND_TYPE: list[tuple[type[QwenRouterError], int, str]] = [
    (InvalidRequestError, 400, "invalid_request_error"),
    (AuthenticationError, 401, "invalid_request_error"),
    (PayloadTooLargeError, 413, "invalid_request_error"),
    (RequestRateLimitError, 429, "requests"),
    (TokenRateLimitError, 429, "tokens"),
    (ModelNotFoundError, 404, "invalid_request_error"),
    (ServiceUnavailableError, 503, "service_unavailable_error"),
    (GatewayTimeoutError, 504, "timeout_error"),
]


def error_status(exc: BaseException) -> int:
    return _classify(exc)[0]


def error_body(exc: BaseException, request_id: str) -> dict[str, Any]:
    """`{"error": {message, type, param, code}}` for any exception."""
    status, kind = _classify(exc)
    if status == 500:
        message = f"Internal server error (request id {request_id})"
        param, code = None, None
    else:
        assert isinstance(exc, QwenRouterError)
        message, param, code = exc.message, exc.param, exc.code
        if status >= 500:
            message = f"{message} (request id {request_id})"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_headers(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, (ServiceUnavailableError, RateLimitError)):
        return {"retry-after": str(exc.retry_after_s)}
    if isinstance(exc, AuthenticationError):
        return {"www-authenticate": "Bearer"}
    return {}


def sse_error_event(exc: BaseException, request_id: str) -> str:
    """The error as a final server-sent event, for failures after the stream has begun."""
    return f"data: {json.dumps(error_body(exc, request_id))}\n\n"


def _classify(exc: BaseException) -> tuple[int, str]:
    for cls, status, kind in _STATUS_AND_TYPE:
        if isinstance(exc, cls):
            return status, kind
    return 500, "server_error"
