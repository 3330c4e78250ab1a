"""Dispatcher: first byte decides; fallbacks only before it; failures become typed errors."""

import asyncio

import pytest

from deployments.errors import ContextLengthExceededError, InvalidRequestError
from deployments.types import GenerationChunk, GenerationRequest, Message, ModelInfo, TextPart
from router.dispatch import Dispatcher
from router.errors import ServiceUnavailableError
from router.policy import RouteDecision
from serve_app.config import GenerationDefaults

REQUEST = GenerationRequest(request_id="req-1", messages=(Message("user", (TextPart("hi"),)),))
DECISION = RouteDecision(
    category="code",
    model="coder",
    confidence=0.9,
    reasons=("code fence",),
    fallbacks=("moe", "math"),
    defaults=GenerationDefaults(),
)


class FakeStream:
    """The part of Ray's DeploymentResponseGenerator the dispatcher uses: async iteration, cancel().

    `script` items are yielded in order; an exception instance is raised in its place.
    """

    def __init__(self, script) -> None:
        self._script = list(script)
        self.cancelled = False

    def __aiter__(self):
        return self

    async def __anext__(self) -> GenerationChunk:
        await asyncio.sleep(0)
        if self.cancelled or not self._script:
            raise StopAsyncIteration
        item = self._script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def cancel(self) -> None:
        self.cancelled = True


class FakeResponse:
    """The part of Ray's DeploymentResponse used here: it can be awaited."""

    def __init__(self, result, delay_s: float) -> None:
        self._result, self._delay_s = result, delay_s

    def __await__(self):
        return self._wait().__await__()

    async def _wait(self):
        await asyncio.sleep(self._delay_s)
        return self._result


class FakeHandle:
    """The subset of a ModelServer DeploymentHandle the dispatcher uses.

    `handle.options(stream=True).generate.remote(request)` → FakeStream over `script`;
    `handle.info.remote()` → awaitable ModelInfo after `info_delay_s`.
    """

    def __init__(self, name: str, script=(), info_delay_s: float = 0.0) -> None:
        self.name = name
        self._script = script
        self._info_delay_s = info_delay_s
        self.requests: list[GenerationRequest] = []
        self.streams: list[FakeStream] = []
        self.info = _Method(self._info)

    def options(self, *, stream: bool) -> "_StreamingHandle":
        assert stream is True
        return _StreamingHandle(self)

    def _generate(self, request: GenerationRequest) -> FakeStream:
        self.requests.append(request)
        self.streams.append(FakeStream(self._script))
        return self.streams[-1]

    def _info(self) -> FakeResponse:
        info = ModelInfo(name=self.name, source="tiny:qwen2", engine="transformers", modalities=("text",), context_length=64)
        return FakeResponse(info, self._info_delay_s)


class _Method:
    def __init__(self, remote) -> None:
        self.remote = remote


class _StreamingHandle:
    def __init__(self, handle: FakeHandle) -> None:
        self.generate = _Method(handle._generate)


def chunk(text: str, **fields) -> GenerationChunk:
    return GenerationChunk(content=text, **fields)


def handles(**scripts) -> dict[str, FakeHandle]:
    return {name: FakeHandle(name, script) for name, script in scripts.items()}


async def drain(opened) -> list[GenerationChunk]:
    return [c async for c in opened.rest()]


def open_stream(fakes: dict[str, FakeHandle]):
    return asyncio.run(Dispatcher(fakes).open(REQUEST, DECISION))


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
    assert "coder: RuntimeError" in message
    assert "moe: no output" in message
    assert "math: ConnectionError" in message
    assert "secret detail" not in message
    assert info.value.retry_after_s >= 1


def test_stream_without_any_chunk_counts_as_failure():
    fakes = handles(coder=[], moe=[chunk("m")], math=[])
    opened = open_stream(fakes)
    assert (opened.model, opened.fallback_from) == ("moe", "coder")


def test_route_without_fallbacks_fails_with_503():
    decision = RouteDecision("explicit", "coder", 1.0, ("by name",), (), GenerationDefaults())
    fakes = handles(coder=[RuntimeError("x")])
    with pytest.raises(ServiceUnavailableError, match="coder: RuntimeError"):
        asyncio.run(Dispatcher(fakes).open(REQUEST, decision))


def test_failure_after_first_chunk_surfaces_as_503_from_rest():
    fakes = handles(coder=[chunk("a"), chunk("b"), RuntimeError("secret detail")], moe=[chunk("m")], math=[])

    async def scenario():
        opened = await Dispatcher(fakes).open(REQUEST, DECISION)
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
        opened = await Dispatcher(fakes).open(REQUEST, DECISION)
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
    info = asyncio.run(Dispatcher(fakes).info("coder", timeout_s=1.0))
    assert info.name == "coder"


def test_info_times_out():
    fakes = {"coder": FakeHandle("coder", info_delay_s=5.0)}
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(Dispatcher(fakes).info("coder", timeout_s=0.05))
