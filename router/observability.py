"""Per-request observability in the Router: one trace, the metrics and one access-log line.

`ObservabilityMiddleware` wraps every chat request: it starts the `router.request` span (as a
child of an incoming `traceparent`), and once the response has been sent, to the last byte of
a stream, it ends the trace, counts the request and writes the access-log line. In between, the
route handler reports through the request's `RequestObservation`:

    decision = observation.classify(policy.decide, body.model, messages)   # router.classify
    opened = await observation.dispatch(dispatcher.open, generation, decision)  # router.dispatch

The dispatch span's context travels in `GenerationRequest.trace_context`, so the replica's
`model.generate` span is its child.
"""

import asyncio
import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.requests import Request
from starlette.types import ASGIApp, Message as ASGIMessage, Receive, Scope, Send

from deployments.types import GenerationChunk, GenerationRequest, Message, Usage
from router import access_log
from router.dispatch import OpenedStream
from router.errors import error_status
from router.metrics import UNROUTED, RouterMetrics
from router.policy import EXPLICIT_CATEGORY, RouteDecision
from serve_app import telemetry
from serve_app.config import TelemetryConfig

OBSERVED_PATH = "/v1/chat/completions"
# nginx's code for "the client closed the connection before the answer was complete".
CLIENT_CLOSED = 499


@dataclass(frozen=True)
class RouterObservability:
    """A Router replica's metrics and access-log settings."""

    metrics: RouterMetrics
    log_prompts: bool

    @classmethod
    def from_config(cls, config: TelemetryConfig) -> "RouterObservability":
        """Set up this process's tracing from the config (once), and the metrics."""
        telemetry.setup(config)
        return cls(RouterMetrics(), config.log_prompts)


def observation_of(request: Request) -> "RequestObservation":
    return request.state.observation


@dataclass
class RequestObservation:
    """What one chat request did, filled in as it goes and reported once at the end."""

    request_id: str
    span: trace.Span
    settings: RouterObservability
    started: float = field(default_factory=time.perf_counter)
    category: str = UNROUTED
    model: str = UNROUTED
    confidence: float | None = None
    fallback_from: str | None = None
    fallback_reason: str | None = None
    replica: str | None = None
    ttft_ms: float | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    stream_error: BaseException | None = None
    cancelled: bool = False
    prompt: dict[str, Any] = field(default_factory=dict)
    _dispatch_span: trace.Span | None = None

    def classify(
        self,
        decide: Callable[[str, Sequence[Message]], RouteDecision],
        requested_model: str,
        messages: Sequence[Message],
    ) -> RouteDecision:
        """Run the policy inside `router.classify`; record the route and its confidence."""
        self.prompt = access_log.prompt_fields(messages, include_text=self.settings.log_prompts)
        with telemetry.tracer().start_as_current_span("router.classify", set_status_on_exception=False) as span:
            start = time.perf_counter()
            decision = decide(requested_model, messages)
            latency_ms = (time.perf_counter() - start) * 1000
            self.category, self.model, self.confidence = decision.category, decision.model, decision.confidence
            route = _route_attributes(decision)
            span.set_attributes(route)
            self.span.set_attributes(route)
        if decision.category != EXPLICIT_CATEGORY:  # only classifier decisions say how it does
            self.settings.metrics.classified(decision.category, decision.confidence, latency_ms)
        return decision

    async def dispatch(
        self,
        open_stream: Callable[[GenerationRequest, RouteDecision], Awaitable[OpenedStream]],
        request: GenerationRequest,
        decision: RouteDecision,
    ) -> "ObservedStream":
        """Open the stream inside `router.dispatch`, whose context the request carries along."""
        span = telemetry.tracer().start_span("router.dispatch", attributes={"qwen_router.target": decision.model})
        traced = dataclasses.replace(request, trace_context=telemetry.inject(trace.set_span_in_context(span)))
        try:
            opened = await open_stream(traced, decision)
        except BaseException as exc:
            _fail(span, exc)
            span.end()
            raise
        self._dispatch_span = span
        self.ttft_ms = (time.perf_counter() - self.started) * 1000
        self.model, self.fallback_from, self.fallback_reason = opened.model, opened.fallback_from, opened.fallback_reason
        self.replica = opened.first.replica
        metrics = self.settings.metrics
        metrics.first_chunk(opened.model, self.ttft_ms)
        if opened.fallback_from is not None:
            metrics.fell_back(opened.fallback_from, opened.model, opened.fallback_reason or "unknown")
        span.set_attributes(_drop_none({
            "qwen_router.model": opened.model,
            "qwen_router.fallback_from": opened.fallback_from,
            "qwen_router.fallback_reason": opened.fallback_reason,
            "qwen_router.replica": opened.first.replica,
            "qwen_router.ttft_ms": self.ttft_ms,
        }))
        self.saw(opened.first)
        return ObservedStream(opened, self)

    def saw(self, chunk: GenerationChunk) -> None:
        self.usage = chunk.usage or self.usage
        self.finish_reason = chunk.finish_reason or self.finish_reason

    def status(self, http_status: int | None) -> int:
        """What the client was told: an error that cut a stream short counts as that error."""
        if self.stream_error is not None:
            return error_status(self.stream_error)
        if self.cancelled and self.finish_reason is None:
            return CLIENT_CLOSED
        return http_status if http_status is not None else 500

    def finish(self, status: int, *, stream: bool) -> None:
        """End the trace, count the request, write its access-log line."""
        latency_ms = (time.perf_counter() - self.started) * 1000
        prompt_tokens = self.usage.prompt_tokens if self.usage else None
        completion_tokens = self.usage.completion_tokens if self.usage else None
        outcome = _drop_none({
            "qwen_router.model": self.model,
            "qwen_router.fallback_from": self.fallback_from,
            "qwen_router.ttft_ms": self.ttft_ms,
            "gen_ai.usage.input_tokens": prompt_tokens,
            "gen_ai.usage.output_tokens": completion_tokens,
            "gen_ai.response.finish_reasons": (self.finish_reason,) if self.finish_reason else None,
        })
        self.span.set_attributes({**outcome, "http.response.status_code": status, "qwen_router.stream": stream})
        for span in (self._dispatch_span, self.span):
            if span is None:
                continue
            span.set_attributes(outcome)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR, f"status {status}"))
            span.end()
        metrics = self.settings.metrics
        metrics.finished(self.category, self.model, status)
        if self.usage is not None:
            metrics.tokens(self.model, self.usage.prompt_tokens, self.usage.completion_tokens)
        context = self.span.get_span_context()
        access_log.log_access({
            "request_id": self.request_id,
            "status": status,
            "latency_ms": round(latency_ms, 2),
            "stream": stream,
            "category": self.category,
            "model": self.model,
            "confidence": self.confidence,
            "fallback_from": self.fallback_from,
            "fallback_reason": self.fallback_reason,
            "replica": self.replica,
            "ttft_ms": round(self.ttft_ms, 2) if self.ttft_ms is not None else None,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "finish_reason": self.finish_reason,
            "error": type(self.stream_error).__name__ if self.stream_error else None,
            "trace_id": trace.format_trace_id(context.trace_id) if context.is_valid else None,
            **self.prompt,
        })


class ObservedStream:
    """An `OpenedStream` that reports its chunks, failure or cancellation to the observation."""

    def __init__(self, opened: OpenedStream, observation: RequestObservation) -> None:
        self._opened = opened
        self._observation = observation

    def __getattr__(self, name: str) -> Any:
        return getattr(self._opened, name)

    async def rest(self) -> AsyncIterator[GenerationChunk]:
        try:
            async for chunk in self._opened.rest():
                self._observation.saw(chunk)
                yield chunk
        except Exception as exc:
            self._observation.stream_error = exc
            raise

    def cancel(self) -> None:
        self._observation.cancelled = True
        self._opened.cancel()


class ObservabilityMiddleware:
    """ASGI middleware: a chat request's trace, metrics and access-log line, streams included.

    Added last, so it is the outermost and sees every answer, the gate's refusals too.
    `settings` is asked per request: Serve builds the app before the Router replica exists.
    """

    def __init__(self, app: ASGIApp, settings: Callable[[], RouterObservability]) -> None:
        self.app = app
        self._settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith(OBSERVED_PATH):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        # Serve's proxy has already put the caller's x-request-id, or one it made, in the headers.
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        span = telemetry.tracer().start_span(
            "router.request",
            context=telemetry.extract(headers),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": scope["method"],
                "url.path": scope["path"],
                "qwen_router.request_id": request_id,
            },
        )
        observation = RequestObservation(request_id, span, self._settings())
        state = scope.setdefault("state", {})
        state["request_id"], state["observation"] = request_id, observation
        http_status: int | None = None
        stream = False

        async def observed_send(message: ASGIMessage) -> None:
            nonlocal http_status, stream
            if message["type"] == "http.response.start":
                http_status = message["status"]
                stream = any(k.lower() == b"content-type" and v.startswith(b"text/event-stream")
                             for k, v in message.get("headers", ()))
            await send(message)

        try:
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                await self.app(scope, receive, observed_send)
        except BaseException as exc:
            if http_status is None:  # no answer went out: the client left, or a bug (500)
                http_status = CLIENT_CLOSED if isinstance(exc, asyncio.CancelledError) else 500
                if http_status == 500:
                    _fail(span, exc)
            raise
        finally:
            observation.finish(observation.status(http_status), stream=stream)


def _route_attributes(decision: RouteDecision) -> dict[str, Any]:
    return {
        "qwen_router.category": decision.category,
        "qwen_router.confidence": decision.confidence,
        "qwen_router.target": decision.model,
    }


def _drop_none(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attributes.items() if value is not None}


def _fail(span: trace.Span, exc: BaseException) -> None:
    """Record the exception; only server-side failures mark the span as an error."""
    span.record_exception(exc)
    if error_status(exc) >= 500:
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
