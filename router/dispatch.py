"""Sending a request to a model deployment, falling back before the first byte.

The dispatcher opens a stream on the chosen model's DeploymentHandle and waits for its first
chunk before the router answers: errors the model raises up front (bad image, prompt too long)
still get their real status, and a model that fails or is unreachable can be replaced by the
route's fallback while the client has seen nothing yet.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator, Mapping

from deployments.errors import InvalidRequestError, QwenRouterError
from deployments.types import GenerationChunk, GenerationRequest, ModelInfo
from router.errors import ServiceUnavailableError
from router.policy import RouteDecision

logger = logging.getLogger("qwen_router.dispatch")


@dataclass
class OpenedStream:
    model: str
    fallback_from: str | None
    first: GenerationChunk
    _rest: Any  # ray.serve.handle.DeploymentResponseGenerator

    async def rest(self) -> AsyncIterator[GenerationChunk]:
        """The chunks after the first; a model failure here becomes a `QwenRouterError`."""
        try:
            async for chunk in self._rest:
                yield chunk
        except Exception as exc:
            raise model_failure(self.model, exc) from exc

    def cancel(self) -> None:
        """Stop the generation on the replica (client gone, or response abandoned)."""
        self._rest.cancel()


class Dispatcher:
    def __init__(self, handles: Mapping[str, Any]) -> None:
        self._handles = dict(handles)

    async def open(self, request: GenerationRequest, decision: RouteDecision) -> OpenedStream:
        """The first model of the route that answers; client errors are raised at once."""
        failures: list[str] = []
        for model in (decision.model, *decision.fallbacks):
            stream = self._handles[model].options(stream=True).generate.remote(request)
            try:
                first = await stream.__anext__()
            except InvalidRequestError:
                raise
            except StopAsyncIteration:
                failures.append(f"{model}: no output")
                continue
            except Exception as exc:
                stream.cancel()
                failures.append(f"{model}: {type(exc).__name__}")
                logger.warning("request %s: model %s failed before its first chunk: %r",
                               request.request_id, model, _safe(exc))
                continue
            fallback_from = decision.model if model != decision.model else None
            return OpenedStream(model, fallback_from, first, stream)
        raise ServiceUnavailableError(
            f"no model could serve this request ({'; '.join(failures)})", retry_after_s=1
        )

    async def info(self, model: str, timeout_s: float) -> ModelInfo:
        return await asyncio.wait_for(self._handles[model].info.remote(), timeout=timeout_s)


def model_failure(model: str, exc: BaseException) -> QwenRouterError:
    """What the client is told when a model fails: its own typed error, or a 503."""
    if isinstance(exc, (InvalidRequestError, ServiceUnavailableError)):
        return exc
    return ServiceUnavailableError(f"model {model!r} failed while serving the request")


def _safe(exc: BaseException) -> str:
    """A one-line description of a (possibly Ray-wrapped) error, without the remote traceback."""
    return exc.message if isinstance(exc, QwenRouterError) else type(exc).__name__
