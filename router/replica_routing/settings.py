"""The `request_router_kwargs` of `ConversationAffinityRouter`, validated once.

Serve hands them to the router's `initialize_state`; `qwen-router config check` validates the
same model, so a bad value is reported with its field before anything starts.
"""

from typing import Literal

from pydantic import Field

from serve_app.config.base import Strict


class AffinitySettings(Strict):
    block_chars: int = Field(
        1024,
        ge=16,
        le=65_536,
        description="Characters per hashed block of a conversation (about 256 tokens). Every "
        "message starts a new block, so turns line up whatever the size; smaller blocks also "
        "match within a long message, and cost more per request.",
    )
    max_entries: int = Field(
        20_000, ge=1, description="Most blocks remembered (least recently used go first)."
    )
    max_chars: int = Field(
        2_000_000,
        ge=1,
        description="Most characters of conversation remembered across all replicas; keep it "
        "near what the replicas' KV caches hold (about 4 characters per token).",
    )
    max_adapters: int = Field(
        1024, ge=1, description="Most LoRA adapters whose recent replicas are remembered."
    )
    max_queue_imbalance: int = Field(
        4,
        ge=0,
        description="Fall back to the least-loaded replicas when the preferred replica has more "
        "than this many requests more than the least-loaded one.",
    )
    new_conversations: Literal["home", "least_loaded"] = Field(
        "home",
        description="Where a conversation this router has not seen goes: `home`, the replica its "
        "opening (system prompt and first user turn) hashes to among the live replicas, the "
        "same in every Router replica; or `least_loaded`, the replica with the shortest queue.",
    )
