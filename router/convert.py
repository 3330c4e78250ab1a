"""OpenAI wire ↔ the internal contract, in one place.

Inbound: a validated `ChatCompletionRequest` plus the route decision become a
`GenerationRequest`. Outbound: `GenerationChunk`s become a `chat.completion` body or
`chat.completion.chunk` bodies, each carrying the route metadata.
"""

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from deployments.types import (
    GenerationChunk,
    GenerationRequest,
    ImagePart,
    Message,
    SamplingParams,
    TextPart,
    Usage,
)
from router.policy import RouteDecision
from router.protocol import ChatCompletionRequest, ChatMessage, TextContent

_ROLES = {"developer": "system"}  # OpenAI's newer name for the system role


def to_messages(messages: Iterable[ChatMessage]) -> tuple[Message, ...]:
    return tuple(
        Message(role=_ROLES.get(m.role, m.role), parts=_parts(m))  # type: ignore[arg-type]
        for m in messages
    )


def _parts(message: ChatMessage) -> tuple[TextPart | ImagePart, ...]:
    if message.content is None:
        return ()
    if isinstance(message.content, str):
        return (TextPart(message.content),)
    return tuple(
        TextPart(part.text) if isinstance(part, TextContent) else ImagePart(part.image_url.url)
        for part in message.content
    )


def to_generation_request(
    body: ChatCompletionRequest,
    messages: tuple[Message, ...],
    *,
    request_id: str,
    decision: RouteDecision,
    template_defaults: dict[str, Any],
) -> GenerationRequest:
    """The request's own settings win over the route's defaults, which win over the engine's."""
    defaults = decision.defaults
    sampling = SamplingParams(
        max_tokens=_first(body.completion_limit, defaults.max_tokens),
        temperature=_first(body.temperature, defaults.temperature, 1.0),
        top_p=_first(body.top_p, defaults.top_p, 1.0),
        stop=body.stop_sequences,
        seed=body.seed,
    )
    return GenerationRequest(
        request_id=request_id,
        messages=messages,
        sampling=sampling,
        chat_template_kwargs={**template_defaults, **(body.chat_template_kwargs or {})},
        adapter=decision.adapter,
    )


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


@dataclass(frozen=True, slots=True)
class ResponseContext:
    """What every body of one response shares: its id, time, answering model and route."""

    request_id: str
    model: str
    route: dict[str, Any]
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def completion_id(self) -> str:
        return f"chatcmpl-{self.request_id}"

    def headers(self) -> dict[str, str]:
        headers = {
            "x-route-category": str(self.route["category"]),
            "x-route-model": self.model,
            "x-route-confidence": f"{self.route['confidence']:.3f}",
        }
        if self.route["fallback_from"]:
            headers["x-route-fallback-from"] = self.route["fallback_from"]
            headers["x-route-fallback-reason"] = str(self.route.get("fallback_reason"))
        return headers


def route_metadata(
    decision: RouteDecision,
    model: str,
    fallback_from: str | None,
    replica: str | None,
    fallback_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "category": decision.category,
        "model": model,
        "confidence": decision.confidence,
        "reasons": list(decision.reasons),
        "fallback_from": fallback_from,
        "fallback_reason": fallback_reason,
        "replica": replica,
    }


def completion_body(context: ResponseContext, chunks: Iterable[GenerationChunk]) -> dict[str, Any]:
    """A whole `chat.completion` from every chunk of a finished generation."""
    content: list[str] = []
    reasoning: list[str] = []
    finish_reason, usage = None, Usage(0, 0)
    for chunk in chunks:
        content.append(chunk.content)
        reasoning.append(chunk.reasoning)
        finish_reason = chunk.finish_reason or finish_reason
        usage = chunk.usage or usage
    thinking = "".join(reasoning) or None
    message = {"role": "assistant", "content": "".join(content), "reasoning_content": thinking, "reasoning": thinking}
    return {
        "id": context.completion_id,
        "object": "chat.completion",
        "created": context.created,
        "model": context.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": _usage(usage),
        "route": context.route,
    }


def chunk_body(context: ResponseContext, chunk: GenerationChunk, *, first: bool) -> dict[str, Any]:
    """One `chat.completion.chunk`; the first one also says the role and the route."""
    delta: dict[str, Any] = {"role": "assistant"} if first else {}
    if chunk.content:
        delta["content"] = chunk.content
    if chunk.reasoning:
        delta["reasoning_content"] = delta["reasoning"] = chunk.reasoning
    body = _chunk_envelope(context, [{"index": 0, "delta": delta, "finish_reason": chunk.finish_reason, "logprobs": None}])
    if first:
        body["route"] = context.route
    return body


def usage_chunk_body(context: ResponseContext, usage: Usage) -> dict[str, Any]:
    """The extra last chunk that `stream_options.include_usage` asks for: no choices, usage."""
    body = _chunk_envelope(context, [])
    body["usage"] = _usage(usage)
    return body


def _chunk_envelope(context: ResponseContext, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": context.completion_id,
        "object": "chat.completion.chunk",
        "created": context.created,
        "model": context.model,
        "choices": choices,
    }


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
