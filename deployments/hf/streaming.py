"""From token ids produced on a generation thread to text deltas on the event loop.

`model.generate` runs on a worker thread and calls the streamer with each new token. The
streamer decodes incrementally (only a small window of ids per token, never the whole text),
holds back text that could still become a stop string, and hands deltas to the asyncio side
without blocking either.
"""

import asyncio
from dataclasses import dataclass
from typing import Any, Sequence

import torch
from transformers import StoppingCriteria
from transformers.generation.streamers import BaseStreamer


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """Posted once, after the last text: why generation ended and how many tokens it made."""

    finish_reason: str
    completion_tokens: int


class IncrementalDecoder:
    """Decodes one token at a time, emitting text only once it is complete UTF-8."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0

    def push(self, token_id: int) -> str:
        self._ids.append(token_id)
        prefix = self._decode(self._ids[self._prefix_offset : self._read_offset])
        full = self._decode(self._ids[self._prefix_offset :])
        if len(full) <= len(prefix) or full.endswith("\ufffd"):
            return ""
        self._prefix_offset, self._read_offset = self._read_offset, len(self._ids)
        return full[len(prefix) :]

    def _decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=True)


class TokenStreamer(BaseStreamer):
    """The bridge handed to `generate(streamer=...)`; also tells generation when to stop."""

    def __init__(
        self,
        tokenizer: Any,
        *,
        loop: asyncio.AbstractEventLoop,
        queue: "asyncio.Queue[str | StreamEnd | BaseException]",
        stop: Sequence[str],
        eos_token_ids: Sequence[int],
        max_new_tokens: int,
    ) -> None:
        self._decoder = IncrementalDecoder(tokenizer)
        self._loop = loop
        self._queue = queue
        self._stop = tuple(stop)
        self._hold_back = max((len(s) for s in self._stop), default=1) - 1
        self._eos = frozenset(eos_token_ids)
        self._max_new_tokens = max_new_tokens
        self._text = ""
        self._sent = 0
        self._tokens = 0
        self._saw_prompt = False
        self._last_token: int | None = None
        self.finish_reason: str | None = None  # set once a stop string or an abort ends generation

    def put(self, value: torch.Tensor) -> None:
        if not self._saw_prompt:  # generate() first hands over the prompt
            self._saw_prompt = True
            return
        for token_id in value.reshape(-1).tolist():
            if self.finish_reason is not None:
                return
            self._tokens += 1
            self._last_token = token_id
            self._text += self._decoder.push(token_id)
            self._emit_safe_text()

    def end(self) -> None:
        if self.finish_reason is None:
            self._post(self._text[self._sent :])
            self._sent = len(self._text)
        self._post(StreamEnd(self._final_reason(), self._tokens))

    def abort(self) -> None:
        """Called from the event loop when the consumer went away."""
        if self.finish_reason is None:
            self.finish_reason = "abort"

    def fail(self, error: BaseException) -> None:
        self._post(error)

    def _emit_safe_text(self) -> None:
        for stop in self._stop:
            found = self._text.find(stop, self._sent)
            if found >= 0:
                self._post(self._text[self._sent : found])
                self._sent = len(self._text)
                self.finish_reason = "stop"
                return
        safe = len(self._text) - self._hold_back
        if safe > self._sent:
            self._post(self._text[self._sent : safe])
            self._sent = safe

    def _final_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        if self._last_token in self._eos:
            return "stop"
        return "length" if self._tokens >= self._max_new_tokens else "stop"

    def _post(self, item: "str | StreamEnd | BaseException") -> None:
        if item != "":
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)


class StopWhenFinished(StoppingCriteria):
    """Ends `generate` as soon as the streamer has decided the generation is over."""

    def __init__(self, streamer: TokenStreamer) -> None:
        self._streamer = streamer

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        done = self._streamer.finish_reason is not None
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)
