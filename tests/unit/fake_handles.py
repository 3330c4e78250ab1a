"""Fakes of the parts of Ray Serve's DeploymentHandle API that the dispatcher uses."""

import asyncio
from dataclasses import dataclass

from deployments.types import GenerationChunk, GenerationRequest, ModelInfo


@dataclass(frozen=True)
class Delay:
    """A script item: the stream waits this long before its next item."""

    seconds: float


class FakeStream:
    """The part of Ray's DeploymentResponseGenerator the dispatcher uses: async iteration, cancel().

    `script` items are yielded in order; an exception instance is raised in its place, a
    `Delay` waits. Like Ray's, `cancel()` re-raises the failure of a call that failed.
    """

    def __init__(self, script) -> None:
        self._script = list(script)
        self.cancelled = False
        self._failure: BaseException | None = None

    def __aiter__(self):
        return self

    async def __anext__(self) -> GenerationChunk:
        await asyncio.sleep(0)
        if self.cancelled or not self._script:
            raise StopAsyncIteration
        item = self._script.pop(0)
        while isinstance(item, Delay):
            await asyncio.sleep(item.seconds)
            if self.cancelled or not self._script:
                raise StopAsyncIteration
            item = self._script.pop(0)
        if isinstance(item, BaseException):
            self._failure = item
            raise item
        return item

    def cancel(self) -> None:
        self.cancelled = True
        if self._failure is not None:
            raise self._failure


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
        self.info_calls = 0
        self.info = _Method(self._info)

    def options(self, *, stream: bool) -> "_StreamingHandle":
        assert stream is True
        return _StreamingHandle(self)

    def _generate(self, request: GenerationRequest) -> FakeStream:
        self.requests.append(request)
        self.streams.append(FakeStream(self._script))
        return self.streams[-1]

    def _info(self) -> FakeResponse:
        self.info_calls += 1
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
