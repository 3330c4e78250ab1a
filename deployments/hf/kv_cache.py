"""Each sequence's own key/value cache, and the replica's budget for all of them.

A sequence keeps one growing buffer per layer, so sequences of any length join and leave the
batch without padding or copying anyone else's cache. Writes of a step go past the committed
length and only count once the step has succeeded: a step that fails can be run again (one row
at a time, to find the row that fails) without corrupting the rows that did nothing wrong.
"""

import torch

# Buffers grow geometrically from this many tokens: few copies, little slack.
_MIN_CAPACITY = 64


class SequenceCache:
    """Keys and values of one sequence, per layer: `[1, kv_heads, tokens, head_dim]`."""

    def __init__(self, num_layers: int, max_tokens: int) -> None:
        self._keys: list[torch.Tensor | None] = [None] * num_layers
        self._values: list[torch.Tensor | None] = [None] * num_layers
        self._max_tokens = max_tokens
        self.length = 0  # committed tokens

    def write(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store this step's keys/values after the committed ones; return everything so far."""
        end = self.length + keys.shape[2]
        if end > self._max_tokens:
            raise RuntimeError(f"sequence cache holds {self._max_tokens} tokens, step needs {end}")
        held = self._keys[layer]
        if held is None or held.shape[2] < end:
            self._grow(layer, keys, values, end)
        layer_keys, layer_values = self._keys[layer], self._values[layer]
        assert layer_keys is not None and layer_values is not None
        layer_keys[:, :, self.length : end] = keys
        layer_values[:, :, self.length : end] = values
        return layer_keys[:, :, :end], layer_values[:, :, :end]

    def commit(self, tokens: int) -> None:
        self.length += tokens

    def _grow(self, layer: int, keys: torch.Tensor, values: torch.Tensor, needed: int) -> None:
        held_keys, held_values = self._keys[layer], self._values[layer]
        capacity = max(_MIN_CAPACITY, needed, 2 * (held_keys.shape[2] if held_keys is not None else 0))
        capacity = min(capacity, self._max_tokens)
        new_keys = keys.new_empty((1, keys.shape[1], capacity, keys.shape[3]))
        new_values = values.new_empty((1, values.shape[1], capacity, values.shape[3]))
        if held_keys is not None and held_values is not None:
            new_keys[:, :, : self.length] = held_keys[:, :, : self.length]
            new_values[:, :, : self.length] = held_values[:, :, : self.length]
        self._keys[layer], self._values[layer] = new_keys, new_values


def kv_bytes_per_token(text_config: object, dtype: torch.dtype) -> int:
    """Keys plus values of one token over all layers, as the model's attention stores them."""
    heads = getattr(text_config, "num_key_value_heads", None) or text_config.num_attention_heads  # type: ignore[attr-defined]
    head_dim = getattr(text_config, "head_dim", None) or (
        text_config.hidden_size // text_config.num_attention_heads  # type: ignore[attr-defined]
    )
    element = torch.empty((), dtype=dtype).element_size()
    return 2 * text_config.num_hidden_layers * heads * head_dim * element  # type: ignore[attr-defined]


class TokenBudget:
    """Tokens of KV cache the running sequences may reserve, together.

    A sequence reserves its prompt plus its largest completion when it joins the batch, so a
    running sequence never runs out of cache; buffers still grow only as tokens arrive. Only the
    batcher's thread uses it.
    """

    def __init__(self, tokens: int) -> None:
        self.capacity = tokens
        self.reserved = 0

    def try_reserve(self, tokens: int) -> bool:
        if self.reserved + tokens > self.capacity:
            return False
        self.reserved += tokens
        return True

    def release(self, tokens: int) -> None:
        self.reserved -= tokens
