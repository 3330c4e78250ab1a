"""Attention over a packed step: many sequences' new tokens in one row, each with its own cache.

A batched step lays every sequence's new tokens (a whole prompt for one that joins, one token
for one that decodes) end to end in a single row, so the weights are read once for all of them
and no sequence is padded to another's length. Only attention needs to know where one sequence
ends: this function, registered with transformers' `AttentionInterface`, writes each segment's
keys and values into that sequence's cache and attends over that sequence alone. A model opts
in with `model.set_attn_implementation(RAGGED_ATTENTION)` and gets the layout through the
`ragged=` keyword of its forward, which transformers hands to every attention call.
"""

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from transformers import AttentionInterface

from deployments.hf.kv_cache import SequenceCache

RAGGED_ATTENTION = "qwen_router_ragged"


@dataclass(frozen=True, slots=True)
class Segment:
    """`length` new tokens of one sequence, from `start` in the packed row."""

    start: int
    length: int
    cache: SequenceCache


@dataclass(frozen=True, slots=True)
class RaggedLayout:
    segments: tuple[Segment, ...]


def ragged_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    ragged: RaggedLayout | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """query `[1, heads, tokens, dim]`, key/value `[1, kv_heads, tokens, dim]` → `[1, tokens, heads, dim]`."""
    if ragged is None:
        raise RuntimeError(f"{RAGGED_ATTENTION} attention needs the packed layout (ragged=...)")
    layer = module.layer_idx  # type: ignore[attr-defined]
    heads, kv_heads, dim = query.shape[1], key.shape[1], query.shape[-1]
    outputs = []
    for segment in ragged.segments:
        span = slice(segment.start, segment.start + segment.length)
        keys, values = segment.cache.write(layer, key[:, :, span], value[:, :, span])
        queries = query[:, :, span]
        if segment.length == 1:
            # One query per head: fold the query heads of each KV head into the query axis, so
            # grouped-query attention needs no copy of the keys (as transformers' sdpa does).
            folded = queries.reshape(1, kv_heads, heads // kv_heads, dim)
            out = F.scaled_dot_product_attention(folded, keys, values, scale=scaling)
            outputs.append(out.reshape(1, heads, 1, dim))
        else:
            # A whole prompt on an empty cache: plain causal attention over itself.
            if keys.shape[2] != segment.length:
                raise RuntimeError("a multi-token segment must start an empty cache")
            outputs.append(
                F.scaled_dot_product_attention(queries, keys, values, is_causal=True, scale=scaling, enable_gqa=True)
            )
    out = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(RAGGED_ATTENTION, ragged_attention)
