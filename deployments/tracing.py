"""The `model.generate` span of one generation on a model replica.

Its parent is the router's dispatch span, named by the W3C trace context the request carries
across the Ray hop; without one (tracing off in the router) it starts its own trace. It records
the replica's own view: time to first token from the call, tokens and finish reason.
"""

import time

from opentelemetry.trace import SpanKind, Status, StatusCode

from deployments.errors import InvalidRequestError
from deployments.types import GenerationChunk, GenerationRequest
from serve_app import telemetry


class GenerationSpan:
    def __init__(self, request: GenerationRequest, deployment: str, replica: str) -> None:
        self._started = time.perf_counter()
        self._first = True
        self._span = telemetry.tracer().start_span(
            "model.generate",
            context=telemetry.extract(request.trace_context),
            kind=SpanKind.SERVER,
            attributes={
                "qwen_router.request_id": request.request_id,
                "qwen_router.deployment": deployment,
                "qwen_router.replica": replica,
                "gen_ai.request.model": deployment,
            },
        )

    def chunk(self, chunk: GenerationChunk) -> None:
        if self._first:
            self._first = False
            self._span.set_attribute("qwen_router.ttft_ms", (time.perf_counter() - self._started) * 1000)
        if chunk.usage is not None:
            self._span.set_attribute("gen_ai.usage.input_tokens", chunk.usage.prompt_tokens)
            self._span.set_attribute("gen_ai.usage.output_tokens", chunk.usage.completion_tokens)
        if chunk.finish_reason is not None:
            self._span.set_attribute("gen_ai.response.finish_reasons", (chunk.finish_reason,))

    def failed(self, exc: BaseException) -> None:
        """An invalid request is the client's fault; anything else marks the span as an error."""
        self._span.record_exception(exc)
        if not isinstance(exc, InvalidRequestError):
            self._span.set_status(Status(StatusCode.ERROR, type(exc).__name__))

    def end(self) -> None:
        self._span.end()
