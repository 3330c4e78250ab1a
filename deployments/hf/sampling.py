"""Per-request seeded sampling for `model.generate`.

transformers samples from torch's global RNG, which every concurrent generation in a replica
shares, so a `seed` would not make a request reproducible. This logits processor samples with
the request's own `torch.Generator` and leaves only the chosen token finite; `generate` then runs
greedy and picks it.
"""

import torch
from transformers import LogitsProcessor


# Temperatures below this decode greedily, as vLLM treats them: dividing the logits by a smaller
# one overflows to inf, and the softmax of infinities is NaN, which no sampler can draw from.
GREEDY_BELOW_TEMPERATURE = 1e-5


class SeededSampler(LogitsProcessor):
    def __init__(self, *, temperature: float, top_p: float, seed: int | None, device: torch.device) -> None:
        if temperature < GREEDY_BELOW_TEMPERATURE:
            raise ValueError(f"SeededSampler needs temperature >= {GREEDY_BELOW_TEMPERATURE}; decode greedily below")
        self._temperature = temperature
        self._top_p = top_p
        self._generator = torch.Generator(device=device)
        if seed is None:
            self._generator.seed()
        else:
            self._generator.manual_seed(seed)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        probs = torch.softmax(scores.float() / self._temperature, dim=-1)
        if self._top_p < 1.0:
            probs = _nucleus(probs, self._top_p)
        token = torch.multinomial(probs, num_samples=1, generator=self._generator)
        chosen = torch.full_like(scores, float("-inf"))
        return chosen.scatter_(1, token, 0.0)


def _nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches `top_p`; the most
    likely token always stays, however small `top_p` is (rounding must not empty the set)."""
    sorted_probs, order = torch.sort(probs, descending=True, dim=-1)
    mass_before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
    outside = mass_before >= top_p
    outside[..., 0] = False
    sorted_probs = sorted_probs.masked_fill(outside, 0.0)
    return torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
