"""Choosing each sequence's next token from its logits, with the request's own settings.

Every request in a batch has its own temperature, top_p and random generator, so a `seed`
reproduces the request's draws whatever else runs next to it; nothing reads torch's global RNG,
which every sequence of a replica shares.
"""

import torch

# Temperatures below this decode greedily, as vLLM treats them: dividing the logits by a smaller
# one overflows to inf, and the softmax of infinities is NaN, which no sampler can draw from.
GREEDY_BELOW_TEMPERATURE = 1e-5
# The nucleus is looked for among this many most likely tokens first; only a flatter
# distribution than that needs the whole vocabulary sorted.
_NUCLEUS_CANDIDATES = 256


def is_greedy(temperature: float) -> bool:
    return temperature < GREEDY_BELOW_TEMPERATURE


class TokenSampler:
    """Draws one token per call from a `[vocab]` logits vector."""

    def __init__(self, *, temperature: float, top_p: float, seed: int | None, device: torch.device) -> None:
        self.greedy = is_greedy(temperature)
        self._temperature = temperature
        self._top_p = top_p
        self._generator: torch.Generator | None = None
        if not self.greedy:
            self._generator = torch.Generator(device=device)
            if seed is None:
                self._generator.seed()
            else:
                self._generator.manual_seed(seed)  # raises for seeds torch cannot take

    def __call__(self, logits: torch.Tensor) -> int:
        if self.greedy:
            return int(logits.argmax())
        probs = torch.softmax(logits.float() / self._temperature, dim=-1)
        if self._top_p >= 1.0:
            return int(torch.multinomial(probs, 1, generator=self._generator))
        kept, tokens = nucleus(probs, self._top_p)
        return int(tokens[torch.multinomial(kept, 1, generator=self._generator)])


def nucleus(probs: torch.Tensor, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The smallest set of most likely tokens whose probability reaches `top_p`, as (probabilities,
    token ids); the most likely token always stays, however small `top_p` is (rounding must not
    empty the set)."""
    candidates = min(_NUCLEUS_CANDIDATES, probs.shape[-1])
    top, order = torch.topk(probs, candidates)
    if float(top.sum()) < top_p and candidates < probs.shape[-1]:
        top, order = torch.sort(probs, descending=True)
    mass_before = torch.cumsum(top, dim=-1) - top
    inside = mass_before < top_p
    inside[0] = True
    return top[inside], order[inside]
