"""One request inside the batcher: its prompt, how it picks tokens, when it ends, where text goes.

The batcher thread drives it step by step; everything a request needs to behave as if it ran
alone (its sampler and seed, its stop strings, its token budget) lives here, so sequences with
different settings share a step without affecting each other.
"""

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Iterable, Union
import torch

from deployments.hf.kv_cache import SequenceCache
from deployments.hf.sampling import TokenSampler
from deployments.hf.streaming import TextStream


@dataclass(frozen=True, slots=True)
class Prompt:
    """A tokenized prompt as the model's forward takes it.

    `positions` holds one list per rotary axis: one for text models, three for Qwen2.5-VL's
    M-RoPE (time, height, width). Tokens after the prompt sit at position
    `cache length + position_offset` on every axis (M-RoPE's offset is how many positions the
    image grids saved).
    """

    token_ids: list[int]
    positions: list[list[int]]
    position_offset: int = 0
    vision: dict[str, torch.Tensor] = field(default_factory=dict)  # pixel_values, image_grid_thw

    @classmethod
    def text(cls, token_ids: list[int], axes: int = 1) -> "Prompt":
        return cls(token_ids, [list(range(len(token_ids)))] * axes)


@dataclass(frozen=True, slots=True)
class Finished:
    """The last item of a stream: why it ended and how many tokens it made."""

    finish_reason: str
    completion_tokens: int


Output = Union[str, Finished, BaseException]


class OutputSink:
    """Hands a sequence's output from the batcher thread to the request's event loop.

    The batcher thread `post`s while it steps and hands everything over once per step
    (`deliver`): one wake-up of the event loop per step, not one per token and sequence.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._pending: list[Output] = []  # the batcher thread's
        self._delivered: asyncio.Queue[list[Output]] = asyncio.Queue()
        self.retired: asyncio.Future[None] = loop.create_future()

    def post(self, item: Output) -> None:
        self._pending.append(item)

    def retire(self) -> None:
        """The sequence holds nothing in the batcher any more (its slot and cache are free)."""
        self.loop.call_soon_threadsafe(_resolve, self.retired)

    async def next_items(self) -> list[Output]:
        """Everything delivered since the last call; waits for at least one item."""
        items = await self._delivered.get()
        while not self._delivered.empty():
            items += self._delivered.get_nowait()
        return items


def deliver(sinks: Iterable[OutputSink]) -> None:
    """Hand every sink's pending output to its event loop, one call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[OutputSink, list[Output]]]] = {}
    for sink in sinks:
        if sink._pending:
            by_loop.setdefault(sink.loop, []).append((sink, sink._pending))
            sink._pending = []
    for loop, batch in by_loop.items():
        loop.call_soon_threadsafe(_put_all, batch)


def _put_all(batch: list[tuple[OutputSink, list[Output]]]) -> None:
    for sink, items in batch:
        sink._delivered.put_nowait(items)


def _resolve(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


class Sequence:
    """A request's generation state; only the batcher thread calls `step_inputs` and `accept`."""

    def __init__(
        self,
        prompt: Prompt,
        *,
        sampler: TokenSampler,
        text: TextStream,
        max_new_tokens: int,
        eos_token_ids: frozenset[int],
        sink: OutputSink,
        solo: bool = False,
    ) -> None:
        self.prompt = prompt
        self.sampler = sampler
        self.max_new_tokens = max_new_tokens
        self.sink = sink
        # Decoded in a batch of its own: its numbers never depend on what else runs.
        self.solo = solo
        self._text = text
        self._eos = eos_token_ids
        self._cancelled = threading.Event()
        self.cache: SequenceCache | None = None  # given when the sequence joins the batch
        self.generated = 0
        self._last_token: int | None = None
        self.finished = False

    @property
    def reserved_tokens(self) -> int:
        """Cache it may need: the prompt and every token it may still generate."""
        return len(self.prompt.token_ids) + self.max_new_tokens

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Called from the event loop when the client went away."""
        self._cancelled.set()

    def step_inputs(self) -> tuple[list[int], list[list[int]]]:
        """Token ids and positions (per rotary axis) this sequence adds to the next step."""
        assert self.cache is not None
        if self._last_token is None:
            return self.prompt.token_ids, self.prompt.positions
        position = self.cache.length + self.prompt.position_offset
        return [self._last_token], [[position]] * len(self.prompt.positions)

    @property
    def prefilling(self) -> bool:
        return self._last_token is None

    def accept(self, token_id: int) -> None:
        """Take the token sampled after this step, stream its text, finish when it is done."""
        assert self.cache is not None
        self.cache.commit(len(self.prompt.token_ids) if self._last_token is None else 1)
        self._last_token = token_id
        self.generated += 1
        piece = self._text.push(token_id)
        if piece:
            self.sink.post(piece)
        if self._text.stopped or token_id in self._eos:
            self._finish("stop")
        elif self.generated >= self.max_new_tokens:
            self._finish("length")

    def fail(self, error: BaseException) -> None:
        self.finished = True
        self.sink.post(error)

    def _finish(self, reason: str) -> None:
        tail = self._text.flush()
        if tail:
            self.sink.post(tail)
        self.finished = True
        self.sink.post(Finished(reason, self.generated))

