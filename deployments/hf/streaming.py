"""From one sequence's token ids to the text deltas it streams, and where stop strings end it.

Decoding is incremental (only a small window of ids per token, never the whole text), and text
that could still become the start of a stop string is held back, so a stop string split across
tokens is found and never reaches the client.
"""

from typing import Any, Sequence


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


class TextStream:
    """Text of one generation: `push` each token, send what it returns, `flush` at the end.

    After a stop string, `stopped` is set and nothing more is returned.
    """

    def __init__(self, tokenizer: Any, stop: Sequence[str]) -> None:
        self._decoder = IncrementalDecoder(tokenizer)
        self._stop = tuple(stop)
        self._hold_back = max((len(s) for s in self._stop), default=1) - 1
        self._text = ""
        self._sent = 0
        self.stopped = False

    def push(self, token_id: int) -> str:
        if self.stopped:
            return ""
        self._text += self._decoder.push(token_id)
        # Sent text holds no stop string's start (it was held back), so search from there.
        found = [i for i in (self._text.find(s, self._sent) for s in self._stop) if i >= 0]
        if found:
            self.stopped = True
            return self._take(min(found))
        return self._take(len(self._text) - self._hold_back)

    def flush(self) -> str:
        """The held-back text, once generation has ended without a stop string."""
        return "" if self.stopped else self._take(len(self._text))

    def _take(self, end: int) -> str:
        if end <= self._sent:
            return ""
        piece = self._text[self._sent : end]
        self._sent = end
        return piece
