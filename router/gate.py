"""The ASGI gate in front of every route: API key and body size, before anything is parsed.

An unauthenticated request gets its 401 before its body is read; a body over the limit gets
413 as soon as the limit is passed (at once when Content-Length says so), never parsed as
JSON. The matched key's identity is left in the request state (`request.state.api_key`).
"""

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, MutableMapping

from ray.exceptions import TaskCancelledError
from starlette.responses import JSONResponse

from deployments.errors import QwenRouterError
from router.auth import ApiKeys
from router.errors import PayloadTooLargeError, error_body, error_headers, error_status

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API_PREFIX = "/v1/"


@dataclass(frozen=True, slots=True)
class GateSettings:
    keys: ApiKeys
    max_body_bytes: int


class Gate:
    """Pure ASGI middleware; `settings` is asked per request (Serve serves a copy of the app
    made before the Router exists, so the settings cannot be handed over at construction)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], settings: Callable[[], GateSettings]) -> None:
        self._app = app
        self._settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        settings = self._settings()
        try:
            if _is_api(scope):
                identity = settings.keys.authenticate(_header(scope, b"authorization"))
                scope.setdefault("state", {})["api_key"] = identity
            receive = await _bounded_body(scope, receive, settings.max_body_bytes)
        except QwenRouterError as exc:
            request_id = _header(scope, b"x-request-id") or "-"
            response = JSONResponse(error_body(exc, request_id), status_code=error_status(exc), headers=error_headers(exc))
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)


def _is_api(scope: Scope) -> bool:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.startswith(API_PREFIX)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _bounded_body(scope: Scope, receive: Receive, limit: int) -> Receive:
    """Read the whole body up to `limit` bytes and return a `receive` that replays it."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return _replay(message, receive)  # the client left: let the app see it
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(None, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return _replay({"type": "http.request", "body": b"".join(chunks), "more_body": False}, receive)


def _replay(first: Message, receive: Receive) -> Receive:
    """`first` once, then the real `receive` (so disconnects still reach streaming responses)."""
    pending = [first]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        try:
            return await receive()
        except TaskCancelledError:  # Serve cancels the request when its client goes away
            return {"type": "http.disconnect"}

    return replayed
