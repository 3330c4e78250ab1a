"""A request's conversation as chained block hashes: what prefix matching compares.

Measured on what the engine would see: the engine renders its prompt from the messages one after
another (system prompt, then each turn), so the request is read as its `prompt_segments`, in
order. Each segment is cut into blocks of at most `block_chars` characters, and every block's
hash covers the block and all blocks before it, as vLLM's prefix cache hashes its KV blocks. Two
requests share their first n block hashes exactly when they share those blocks of text, so a
lookup is one dict probe per block and memory holds integers, never text. A new message always
starts a new block, so a follow-up's blocks begin with every block of the turn before it.

The adapter seeds the chain: a LoRA adapter has its own KV cache, so the same text under two
adapters shares nothing. `chat_template_kwargs` are left out: Qwen's templates apply them to
the prompt's end (`enable_thinking`), not to the turns that came before.

Block hashes are Python's `hash()`, salted per process: each Router replica keeps its own view,
and these values never leave it. `home_key` is the one value that must agree across processes
(so every Router replica sends a new conversation to the same replica): a blake2b digest.
"""

import hashlib
from dataclasses import dataclass

from deployments.types import GenerationRequest


@dataclass(frozen=True, slots=True)
class ConversationPrefix:
    blocks: tuple[int, ...]  # chained hash per block, in order
    block_sizes: tuple[int, ...]  # characters per block
    opening_blocks: int  # blocks of the opening: every message up to the first user turn
    home_key: bytes  # a digest of the opening and adapter, the same in every process

    @property
    def chars(self) -> int:
        return sum(self.block_sizes)


def conversation_prefix(request: GenerationRequest, block_chars: int) -> ConversationPrefix:
    segments = request.prompt_segments
    opening = _opening_length(request)
    chain = hash(("adapter", request.adapter or ""))
    blocks: list[int] = []
    sizes: list[int] = []
    opening_blocks = 0
    for index, segment in enumerate(segments):
        for start in range(0, len(segment), block_chars):
            piece = segment[start:start + block_chars]
            chain = hash((chain, piece))
            blocks.append(chain)
            sizes.append(len(piece))
        if index + 1 == opening:
            opening_blocks = len(blocks)
    home = hashlib.blake2b(digest_size=16)
    home.update((request.adapter or "").encode())
    for segment in segments[:opening]:
        home.update(b"\x00" + segment.encode())
    return ConversationPrefix(tuple(blocks), tuple(sizes), opening_blocks, home.digest())


def _opening_length(request: GenerationRequest) -> int:
    """Messages up to and including the first user turn: what names a conversation."""
    for index, message in enumerate(request.messages):
        if message.role == "user":
            return index + 1
    return len(request.messages)
