"""Sending a request to a model deployment, falling back before the first byte.

The dispatcher opens a stream on the chosen model's DeploymentHandle and waits for its first
chunk before the router answers: errors the model raises up front (bad image, prompt too long)
still get their real status, and a model that fails or is unreachable can be replaced by the
route's fallback while the client has seen nothing yet.
"""

import asyncio
import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Mapping

from ray.serve.exceptions import BackPressureError

from deployments.errors import InvalidRequestError, QwenRouterError
from deployments.types import GenerationChunk, GenerationRequest, ModelInfo
from router.errors import GatewayTimeoutError, ServiceUnavailableError
from router.fleet import Fleet
from router.policy import RouteDecision
from serve_app.config import RouterConfig

logger = logging.getLogger("qwen_router.dispatch")


@dataclass
class OpenedStream:
    model: str
    fallback_from: str | None
    fallback_reason: str | None
    first: GenerationChunk
    _rest: Any  # ray.serve.handle.DeploymentResponseGenerator
    _deadline: float  # event-loop time by which the whole response must be done
    _finished: Callable[[], None] = field(default=lambda: None)

    async def rest(self) -> AsyncIterator[GenerationChunk]:
        """The chunks after the first; a failure or the time-out here is a `QwenRouterError`."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(
                        self._rest.__anext__(), max(0.0, self._deadline - loop.time())
                    )
                except StopAsyncIteration:
                    return
                except asyncio.TimeoutError:
                    _cancel(self._rest)
                    raise GatewayTimeoutError(f"model {self.model!r} did not finish in time") from None
                except Exception as exc:
                    raise model_failure(self.model, exc) from exc
                yield chunk
        finally:
            self._finished()

    def cancel(self) -> None:
        """Stop the generation on the replica (client gone, or response abandoned)."""
        _cancel(self._rest)
        self._finished()


class Dispatcher:
    """Opens a request on the first model of its route that can take it.

    A model is passed over, before any byte is sent, when Serve reports it failed with nothing
    running, when it refuses the request (its queue is full), when it fails before its first
    chunk, when it has no running replica and stays cold for `max_cold_start_wait_s`, or (with
    `spill_over_per_replica`) when it is busier than that and a later model is not.
    """

    def __init__(self, handles: Mapping[str, Any], settings: RouterConfig, fleet: Fleet | None = None) -> None:
        self._handles = dict(handles)
        self.settings = settings
        self._fleet = fleet

    async def open(self, request: GenerationRequest, decision: RouteDecision) -> OpenedStream:
        """The first model of the route that answers; client errors are raised at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.request_timeout_s
        order, not_used = self._plan((decision.model, *decision.fallbacks))
        for position, model in enumerate(order):
            finished = self._fleet.started(model) if self._fleet else _nothing
            # A route's adapter belongs to its primary model; fallbacks answer with their base.
            sent = request if model == decision.model else dataclasses.replace(request, adapter=None)
            stream = None
            try:
                # Inside the try: a full queue may refuse the call itself (BackPressureError).
                stream = self._handles[model].options(stream=True).generate.remote(sent)
                first = await self._first_chunk(stream, model, deadline, can_fall_back=position < len(order) - 1)
            except InvalidRequestError:
                finished()
                raise
            except StopAsyncIteration:
                finished()
                not_used[model] = "no output"
                continue
            except asyncio.TimeoutError:
                _cancel(stream)
                finished()
                if loop.time() >= deadline:
                    raise GatewayTimeoutError(
                        f"no model answered within {self.settings.request_timeout_s:g} s"
                    ) from None
                not_used[model] = "cold start"
                continue
            except Exception as exc:
                _cancel(stream)
                finished()
                not_used[model] = "overloaded" if isinstance(exc, BackPressureError) else "failed"
                logger.warning("request %s: model %s failed before its first chunk: %r",
                               request.request_id, model, _safe(exc))
                continue
            fallback_from = decision.model if model != decision.model else None
            reason = not_used.get(decision.model) if fallback_from else None
            return OpenedStream(model, fallback_from, reason, first, stream, deadline, finished)
        overloaded = all(reason == "overloaded" for reason in not_used.values())
        raise ServiceUnavailableError(
            f"no model could serve this request ({'; '.join(f'{m}: {r}' for m, r in not_used.items())})",
            retry_after_s=1,
            code="overloaded" if overloaded else "service_unavailable",
        )

    async def _first_chunk(self, stream: Any, model: str, deadline: float, *, can_fall_back: bool) -> GenerationChunk:
        """The stream's first chunk, or `asyncio.TimeoutError` at the deadline, or sooner when
        the model is (or turns) cold and `max_cold_start_wait_s` has passed with a fallback left.
        The model's state is looked at again every `fleet_refresh_s` while waiting."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        pending = asyncio.ensure_future(stream.__anext__())
        try:
            while True:
                limit = deadline
                state = self._fleet.state(model) if self._fleet else None
                if can_fall_back and state is not None and state.cold:
                    limit = min(limit, started + self.settings.max_cold_start_wait_s)
                remaining = limit - loop.time()
                if remaining <= 0:
                    raise asyncio.TimeoutError
                done, _ = await asyncio.wait({pending}, timeout=min(remaining, self.settings.fleet_refresh_s))
                if done:
                    return pending.result()
        finally:
            if not pending.done():
                pending.cancel()
                # Ray ends a cancelled call with its own error; it is expected, not news.
                pending.add_done_callback(lambda task: task.cancelled() or task.exception())

    def _plan(self, chain: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
        """The models to try, in order, and why the others were passed over.

        Failed deployments are skipped (unless every model has failed: then all are tried);
        with spill-over on, models at or past the mark go after the first one below it.
        """
        if self._fleet is None:
            return list(chain), {}
        states = {model: self._fleet.state(model) for model in chain}
        not_used = {m: "unhealthy" for m, state in states.items() if state is not None and state.failed}
        usable = [m for m in chain if m not in not_used] or list(chain)
        if len(usable) == len(chain):
            not_used = {}
        threshold = self.settings.spill_over_per_replica
        if threshold is not None:
            below = [m for m in usable if self._fleet.load_per_replica(m) < threshold]
            if below and below[0] != usable[0]:
                busy = usable[: usable.index(below[0])]
                not_used.update({m: "overloaded" for m in busy})
                usable = usable[len(busy):] + busy
        return usable, not_used

    async def info(self, model: str, timeout_s: float) -> ModelInfo:
        return await asyncio.wait_for(self._handles[model].info.remote(), timeout=timeout_s)

    async def readiness(self, models: list[str], timeout_s: float) -> dict[str, str]:
        """Each model's state for /readyz: `ready` when it answers within the timeout, asked
        all at once; `scaled to zero` (also ready) when it has no replica by design: asking it
        would start one."""
        if self._fleet is not None and not self._fleet.refreshed:
            await self._fleet.refresh()
        states = {m: self._fleet.state(m) if self._fleet else None for m in models}
        asked = [m for m in models if not (states[m] and states[m].scaled_to_zero)]
        answers = await asyncio.gather(*(self.info(m, timeout_s) for m in asked), return_exceptions=True)
        answered = {  # timeouts, unreachable and failing replicas alike
            m: f"not ready ({type(a).__name__})" if isinstance(a, BaseException) else "ready"
            for m, a in zip(asked, answers)
        }
        return {m: answered.get(m, "scaled to zero") for m in models}


def _cancel(stream: Any | None) -> None:
    """Best-effort cancel. Ray's `cancel()` fetches the call's result first and so re-raises a
    call's own failure (a full queue, a dead replica), which is already being handled."""
    if stream is None:
        return
    try:
        stream.cancel()
    except Exception:
        pass


def _nothing() -> None:
    """In-flight bookkeeping when no fleet is tracked."""


def model_failure(model: str, exc: BaseException) -> QwenRouterError:
    """What the client is told when a model fails: its own typed error, or a 503."""
    if isinstance(exc, (InvalidRequestError, ServiceUnavailableError)):
        return exc
    return ServiceUnavailableError(f"model {model!r} failed while serving the request")


def _safe(exc: BaseException) -> str:
    """A one-line description of a (possibly Ray-wrapped) error, without the remote traceback."""
    return exc.message if isinstance(exc, QwenRouterError) else type(exc).__name__
