"""OpenAI wire ↔ internal contract; produced bodies are parsed by the official openai SDK types."""

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from deployments.types import GenerationChunk, ImagePart, Message, TextPart, Usage
from router.convert import (
    ResponseContext,
    chunk_body,
    completion_body,
    route_metadata,
    to_generation_request,
    to_messages,
    usage_chunk_body,
)
from router.policy import RouteDecision
from router.protocol import ChatCompletionRequest
from serve_app.config import GenerationDefaults

IMAGE_URL = "data:image/png;base64,AAAA"


def request(**fields) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"messages": [{"role": "user", "content": "hi"}], **fields})


def decision(**defaults) -> RouteDecision:
    return RouteDecision(
        category="reasoning",
        model="qwen3",
        confidence=0.8125,
        reasons=("logic-puzzle cues: riddle",),
        fallbacks=("other",),
        defaults=GenerationDefaults(**defaults),
    )


def generation(body: ChatCompletionRequest, route: RouteDecision, template_defaults=None):
    return to_generation_request(
        body, to_messages(body.messages), request_id="req-1", decision=route, template_defaults=template_defaults or {}
    )


def context(fallback_from=None, fallback_reason=None) -> ResponseContext:
    route = route_metadata(decision(), "qwen3-served", fallback_from, "qwen3#abc", fallback_reason)
    return ResponseContext(request_id="req-1", model="qwen3-served", route=route, created=1700000000)


# --- inbound -----------------------------------------------------------------------------------


def test_to_messages_maps_roles_and_parts():
    body = request(
        messages=[
            {"role": "developer", "content": "be brief"},
            {"role": "system", "content": "sys"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": IMAGE_URL}}],
            },
            {"role": "assistant", "content": None},
            {"role": "assistant", "content": "ok"},
        ]
    )
    assert to_messages(body.messages) == (
        Message("system", (TextPart("be brief"),)),
        Message("system", (TextPart("sys"),)),
        Message("user", (TextPart("look"), ImagePart(IMAGE_URL))),
        Message("assistant", ()),
        Message("assistant", (TextPart("ok"),)),
    )


def test_request_settings_win_over_route_defaults():
    body = request(temperature=0.0, top_p=0.5, max_tokens=7, stop=["x"], seed=3)
    sampling = generation(body, decision(temperature=0.6, top_p=0.95, max_tokens=256)).sampling
    assert (sampling.temperature, sampling.top_p, sampling.max_tokens) == (0.0, 0.5, 7)
    assert sampling.stop == ("x",)
    assert sampling.seed == 3


def test_max_completion_tokens_wins_over_max_tokens():
    body = request(max_tokens=7, max_completion_tokens=9)
    assert generation(body, decision(max_tokens=256)).sampling.max_tokens == 9


def test_route_defaults_win_over_built_in_defaults():
    sampling = generation(request(), decision(temperature=0.6, top_p=0.95, max_tokens=256)).sampling
    assert (sampling.temperature, sampling.top_p, sampling.max_tokens) == (0.6, 0.95, 256)


def test_built_in_defaults():
    generated = generation(request(), decision())
    sampling = generated.sampling
    assert (sampling.temperature, sampling.top_p, sampling.max_tokens) == (1.0, 1.0, None)
    assert sampling.stop == () and sampling.seed is None
    assert generated.request_id == "req-1"


def test_chat_template_kwargs_request_wins_over_template_defaults():
    body = request(chat_template_kwargs={"enable_thinking": False, "extra": 1})
    generated = generation(body, decision(), template_defaults={"enable_thinking": True, "kept": "yes"})
    assert dict(generated.chat_template_kwargs) == {"enable_thinking": False, "extra": 1, "kept": "yes"}


def test_chat_template_kwargs_from_template_defaults_alone():
    generated = generation(request(), decision(), template_defaults={"enable_thinking": True})
    assert dict(generated.chat_template_kwargs) == {"enable_thinking": True}


def test_generation_request_carries_images():
    body = request(
        messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": IMAGE_URL}}]}]
    )
    assert generation(body, decision()).images == (ImagePart(IMAGE_URL),)


# --- outbound ----------------------------------------------------------------------------------


def test_completion_body_aggregates_chunks_and_parses_as_openai():
    chunks = [
        GenerationChunk(reasoning="think ", replica="qwen3#abc"),
        GenerationChunk(reasoning="more", content="Hel"),
        GenerationChunk(content="lo", finish_reason="length", usage=Usage(5, 3)),
    ]
    body = completion_body(context(), chunks)
    parsed = ChatCompletion.model_validate(body)
    assert parsed.id == "chatcmpl-req-1"
    assert parsed.object == "chat.completion"
    assert parsed.model == "qwen3-served"
    assert parsed.created == 1700000000
    [choice] = parsed.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello"
    assert choice.finish_reason == "length"
    assert parsed.usage.prompt_tokens == 5
    assert parsed.usage.completion_tokens == 3
    assert parsed.usage.total_tokens == 8
    message = body["choices"][0]["message"]
    assert message["reasoning_content"] == message["reasoning"] == "think more"
    assert body["route"] == {
        "category": "reasoning",
        "model": "qwen3-served",
        "confidence": 0.8125,
        "reasons": ["logic-puzzle cues: riddle"],
        "fallback_from": None,
        "fallback_reason": None,
        "replica": "qwen3#abc",
    }


def test_completion_body_without_reasoning_has_none():
    body = completion_body(context(), [GenerationChunk(content="x", finish_reason="stop", usage=Usage(1, 1))])
    ChatCompletion.model_validate(body)
    message = body["choices"][0]["message"]
    assert message["reasoning_content"] is None
    assert message["reasoning"] is None
    assert body["choices"][0]["finish_reason"] == "stop"


def test_first_chunk_has_role_and_route_and_parses_as_openai():
    body = chunk_body(context(), GenerationChunk(content="He", replica="qwen3#abc"), first=True)
    parsed = ChatCompletionChunk.model_validate(body)
    assert parsed.id == "chatcmpl-req-1"
    assert parsed.object == "chat.completion.chunk"
    [choice] = parsed.choices
    assert choice.delta.role == "assistant"
    assert choice.delta.content == "He"
    assert choice.finish_reason is None
    assert body["route"]["model"] == "qwen3-served"


def test_first_chunk_without_text_still_has_role():
    body = chunk_body(context(), GenerationChunk(), first=True)
    ChatCompletionChunk.model_validate(body)
    assert body["choices"][0]["delta"] == {"role": "assistant"}


def test_later_chunks_have_neither_role_nor_route():
    body = chunk_body(context(), GenerationChunk(content="llo", finish_reason="stop"), first=False)
    parsed = ChatCompletionChunk.model_validate(body)
    assert "route" not in body
    assert "role" not in body["choices"][0]["delta"]
    assert parsed.choices[0].delta.content == "llo"
    assert parsed.choices[0].finish_reason == "stop"


def test_reasoning_delta_in_both_fields_never_in_content():
    body = chunk_body(context(), GenerationChunk(reasoning="hmm"), first=False)
    ChatCompletionChunk.model_validate(body)
    delta = body["choices"][0]["delta"]
    assert delta == {"reasoning_content": "hmm", "reasoning": "hmm"}


def test_usage_chunk_has_empty_choices_and_usage():
    body = usage_chunk_body(context(), Usage(4, 6))
    parsed = ChatCompletionChunk.model_validate(body)
    assert parsed.choices == []
    assert (parsed.usage.prompt_tokens, parsed.usage.completion_tokens, parsed.usage.total_tokens) == (4, 6, 10)


def test_all_bodies_of_one_response_share_id_created_and_model():
    ctx = context()
    bodies = [
        chunk_body(ctx, GenerationChunk(content="a"), first=True),
        chunk_body(ctx, GenerationChunk(content="b"), first=False),
        usage_chunk_body(ctx, Usage(1, 2)),
    ]
    assert {(b["id"], b["created"], b["model"]) for b in bodies} == {("chatcmpl-req-1", 1700000000, "qwen3-served")}


def test_headers():
    assert context().headers() == {
        "x-route-category": "reasoning",
        "x-route-model": "qwen3-served",
        "x-route-confidence": "0.812",
    }


def test_headers_name_the_fallback_origin_and_reason():
    headers = context(fallback_from="qwen3", fallback_reason="overloaded").headers()
    assert headers["x-route-fallback-from"] == "qwen3"
    assert headers["x-route-fallback-reason"] == "overloaded"
    assert headers["x-route-model"] == "qwen3-served"


@pytest.mark.parametrize("value", [1.0, 0.5])
def test_confidence_header_has_three_decimals(value):
    route = {"category": "math", "confidence": value, "fallback_from": None}
    ctx = ResponseContext(request_id="r", model="m", route=route)
    assert ctx.headers()["x-route-confidence"] == f"{value:.3f}"
