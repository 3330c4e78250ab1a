"""Which text of a conversation the classifiers read, and how much of it.

Only user turns count: an operator's system prompt (often long, often about code) must not decide
the route, and assistant turns are the models' own words. The latest user turn has full weight;
up to `context_turns` earlier ones count at half weight, so that "now do it in Rust" after a
coding question stays code. Every turn is cut to a bounded head and tail, so cost does not grow
with the prompt: the question is usually at one end of a pasted document.
"""

from dataclasses import dataclass
from typing import Sequence

from deployments.types import Message
from router.classifier.result import Classification

MAX_CHARS = 800  # of the latest user turn: head and tail
CONTEXT_MAX_CHARS = 400  # of each earlier user turn
EARLIER_TURN_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class Turn:
    weight: float
    text: str


def has_image(messages: Sequence[Message]) -> bool:
    return any(message.images for message in messages)


def user_turns(messages: Sequence[Message], context_turns: int) -> tuple[Turn, ...]:
    """The latest user turn, then up to `context_turns` earlier ones (newest first), each bounded."""
    texts = [m.text for m in messages if m.role == "user"]
    if not texts:
        return ()
    earlier = texts[-1 - context_turns : -1][::-1] if context_turns > 0 else []
    turns = [Turn(1.0, bounded(texts[-1], MAX_CHARS))]
    turns += [Turn(EARLIER_TURN_WEIGHT, bounded(t, CONTEXT_MAX_CHARS)) for t in earlier if t.strip()]
    return tuple(turns)


def bounded(text: str, limit: int) -> str:
    """Head (three quarters) and tail (one quarter) of a text longer than `limit`."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    return text[:head] + "\n" + text[len(text) - (limit - head) :]


def settled(messages: Sequence[Message], turns: Sequence[Turn]) -> Classification | None:
    """The decisions no classifier may overrule: an image means vision; no user text means general."""
    if has_image(messages):
        return Classification("vision", 1.0, ("image attached",))
    if not any(turn.text.strip() for turn in turns):
        return Classification("general", 1.0, ("no user text",))
    return None
