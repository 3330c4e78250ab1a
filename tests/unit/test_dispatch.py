"""Dispatcher: first byte decides; fallbacks only before it; failures become typed errors."""

import asyncio

import pytest

from deployments.errors import ContextLengthExceededError, InvalidRequestError
from deployments.types import GenerationChunk, GenerationRequest, Message, TextPart
from router.dispatch import Dispatcher
from router.errors import ServiceUnavailableError
from router.policy import RouteDecision
from serve_app.config import GenerationDefaults, RouterConfig

from fake_handles import FakeHandle, chunk, handles

SETTINGS = RouterConfig()
REQUEST = GenerationRequest(request_id="req-1", messages=(Message("user", (TextPart("hi"),)),))
DECISION = RouteDecision(
    category="code",
    model="coder",
    confidence=0.9,
    reasons=("code fence",),
    fallbacks=("moe", "math"),
    defaults=GenerationDefaults(),
)


async def drain(opened) -> list[GenerationChunk]:
    return [c async for c in opened.rest()]


def open_stream(fakes: dict[str, FakeHandle]):
    return asyncio.run(Dispatcher(fakes, SETTINGS).open(REQUEST, DECISION))


def test_first_model_answers():
    fakes = handles(coder=[chunk("a", replica="coder#1"), chunk("b", finish_reason="stop")], moe=[chunk("x")], math=[])
    opened = open_stream(fakes)
    assert opened.model == "coder"
    assert opened.fallback_from is None
    assert opened.first == chunk("a", replica="coder#1")
    assert asyncio.run(drain(opened)) == [chunk("b", finish_reason="stop")]
    assert fakes["coder"].requests == [REQUEST]
    assert fakes["moe"].requests == []


def test_failure_before_first_chunk_falls_back_and_cancels_the_failed_stream():
    fakes = handles(coder=[RuntimeError("replica died")], moe=[chunk("m")], math=[chunk("z")])
    opened = open_stream(fakes)
    assert opened.model == "moe"
    assert opened.fallback_from == "coder"
    assert opened.first == chunk("m")
    assert fakes["coder"].streams[0].cancelled
    assert fakes["moe"].requests == [REQUEST]
    assert fakes["math"].requests == []


def test_fallbacks_are_tried_in_order():
    fakes = handles(coder=[RuntimeError("a")], moe=[TimeoutError("b")], math=[chunk("z")])
    opened = open_stream(fakes)
    assert (opened.model, opened.fallback_from) == ("math", "coder")


@pytest.mark.parametrize(
    "error",
    [InvalidRequestError("bad image", param="messages"), ContextLengthExceededError(prompt_tokens=9, max_tokens=None, context_length=8)],
    ids=lambda e: type(e).__name__,
)
def test_client_error_before_first_chunk_is_raised_without_fallback(error):
    fakes = handles(coder=[error], moe=[chunk("m")], math=[chunk("z")])
    with pytest.raises(InvalidRequestError) as info:
        open_stream(fakes)
    assert info.value is error
    assert fakes["moe"].requests == []
    assert fakes["math"].requests == []


def test_all_models_failing_is_503_naming_each_failure():
    fakes = handles(coder=[RuntimeError("secret detail")], moe=[], math=[ConnectionError("x")])
    with pytest.raises(ServiceUnavailableError) as info:
        open_stream(fakes)
    message = info.value.message
    assert "coder: failed" in message
    assert "moe: no output" in message
    assert "math: failed" in message
    assert "secret detail" not in message
    assert info.value.retry_after_s >= 1


def test_stream_without_any_chunk_counts_as_failure():
    fakes = handles(coder=[], moe=[chunk("m")], math=[])
    opened = open_stream(fakes)
    assert (opened.model, opened.fallback_from) == ("moe", "coder")


def test_route_without_fallbacks_fails_with_503():
    decision = RouteDecision("explicit", "coder", 1.0, ("by name",), (), GenerationDefaults())
    fakes = handles(coder=[RuntimeError("x")])
    with pytest.raises(ServiceUnavailableError, match="coder: failed"):
        asyncio.run(Dispatcher(fakes, SETTINGS).open(REQUEST, decision))


def test_failure_after_first_chunk_surfaces_as_503_from_rest():
    fakes = handles(coder=[chunk("a"), chunk("b"), RuntimeError("secret detail")], moe=[chunk("m")], math=[])

    async def scenario():
        opened = await Dispatcher(fakes, SETTINGS).open(REQUEST, DECISION)
        received = []
        with pytest.raises(ServiceUnavailableError) as info:
            async for item in opened.rest():
                received.append(item)
        return received, info.value

    received, error = asyncio.run(scenario())
    assert received == [chunk("b")]
    assert "'coder'" in error.message
    assert "secret detail" not in error.message
    assert fakes["moe"].requests == []


def test_client_error_after_first_chunk_passes_through_unchanged():
    error = InvalidRequestError("bad stop", param="stop")
    fakes = handles(coder=[chunk("a"), error], moe=[], math=[])

    async def scenario():
        opened = await Dispatcher(fakes, SETTINGS).open(REQUEST, DECISION)
        with pytest.raises(InvalidRequestError) as info:
            await drain(opened)
        return info.value

    assert asyncio.run(scenario()) is error


def test_cancel_reaches_the_stream():
    fakes = handles(coder=[chunk("a"), chunk("b")], moe=[], math=[])
    opened = open_stream(fakes)
    opened.cancel()
    assert fakes["coder"].streams[0].cancelled


def test_info_answers():
    fakes = {"coder": FakeHandle("coder")}
    info = asyncio.run(Dispatcher(fakes, SETTINGS).info("coder", timeout_s=1.0))
    assert info.name == "coder"


def test_info_times_out():
    fakes = {"coder": FakeHandle("coder", info_delay_s=5.0)}
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(Dispatcher(fakes, SETTINGS).info("coder", timeout_s=0.05))
