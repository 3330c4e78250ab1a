"""Separating Qwen3's thinking from its answer, incrementally, for every engine.

Qwen3 writes `<think>\\n...\\n</think>\\n\\n` before its answer when thinking is on. Clients
expect that text in `reasoning_content`, never in `content`. Text arrives in arbitrary pieces,
so a tag can be split across deltas: the splitter holds back only the few characters that could
still turn out to be part of a tag.
"""

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


class ThinkingSplitter:
    """Feed text deltas in order; get back (reasoning, content) deltas.

    Thinking counts only when the output opens with `<think>` (leading whitespace allowed).
    Whitespace around the thinking text and before the answer is dropped, as Qwen's own
    parsers do.
    """

    def __init__(self) -> None:
        # start → thinking_start → thinking → answer_start → answer; "…_start" drop whitespace.
        self._state = "start"
        self._held = ""

    def feed(self, text: str) -> tuple[str, str]:
        self._held += text
        reasoning, content = "", ""
        while True:
            before = self._state
            if self._state == "start":
                self._from_start()
            elif self._state == "thinking":
                reasoning += self._from_thinking()
            elif self._state in ("thinking_start", "answer_start"):
                self._held = self._held.lstrip()
                if self._held:
                    self._state = self._state.removesuffix("_start")
            else:
                content += self._held
                self._held = ""
            if self._state == before:
                return reasoning, content

    def flush(self) -> tuple[str, str]:
        """Whatever is still held back, at the end of the stream."""
        held, self._held = self._held, ""
        if self._state == "thinking":
            return held.rstrip(), ""
        if self._state == "thinking_start":
            return held.strip(), ""
        return "", held.lstrip() if self._state == "answer_start" else held

    def _from_start(self) -> None:
        stripped = self._held.lstrip()
        if stripped.startswith(OPEN_TAG):
            self._held = stripped[len(OPEN_TAG) :]
            self._state = "thinking_start"
        elif not OPEN_TAG.startswith(stripped):  # cannot become "<think>" any more
            self._state = "answer"

    def _from_thinking(self) -> str:
        end = self._held.find(CLOSE_TAG)
        if end >= 0:
            reasoning = self._held[:end].rstrip()
            self._held = self._held[end + len(CLOSE_TAG) :]
            self._state = "answer_start"
            return reasoning
        keep = _undecided_suffix(self._held)
        reasoning, self._held = self._held[: len(self._held) - keep], self._held[len(self._held) - keep :]
        return reasoning


def _undecided_suffix(text: str) -> int:
    """Length of the tail that may still be trailing whitespace or the start of `</think>`."""
    keep = 0
    for size in range(min(len(CLOSE_TAG) - 1, len(text)), 0, -1):
        if CLOSE_TAG.startswith(text[-size:]):
            keep = size
            break
    body = text[: len(text) - keep]
    return keep + len(body) - len(body.rstrip())


def split_thinking(text: str) -> tuple[str, str]:
    """Whole-text form: (reasoning, content)."""
    splitter = ThinkingSplitter()
    reasoning, content = splitter.feed(text)
    tail_reasoning, tail_content = splitter.flush()
    return reasoning + tail_reasoning, content + tail_content
