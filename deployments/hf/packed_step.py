"""One forward pass for a whole step: every sequence's new tokens packed into one row.

Prompts of sequences that join and the last tokens of sequences that decode go end to end;
positions are each sequence's own, attention keeps them apart (deployments/hf/ragged_attention.py),
and logits are computed only for each sequence's last token.
"""

from collections import defaultdict
from typing import Any, Sequence as Rows

import torch

from deployments.hf.ragged_attention import RaggedLayout, Segment
from deployments.hf.sequence import Sequence


def packed_logits(model: Any, rows: Rows[Sequence], device: torch.device) -> torch.Tensor:
    """The next-token logits of every row, `[rows, vocab]`."""
    token_ids: list[int] = []
    positions: list[list[int]] = [[] for _ in rows[0].prompt.positions]
    segments: list[Segment] = []
    last: list[int] = []
    vision: dict[str, list[torch.Tensor]] = defaultdict(list)
    for row in rows:
        assert row.cache is not None
        ids, row_positions = row.step_inputs()
        segments.append(Segment(len(token_ids), len(ids), row.cache))
        token_ids.extend(ids)
        for axis, values in zip(positions, row_positions):
            axis.extend(values)
        last.append(len(token_ids) - 1)
        if row.prefilling:
            for name, value in row.prompt.vision.items():
                vision[name].append(value)
    position_ids = torch.tensor(positions, device=device)
    if len(positions) > 1:  # M-RoPE: [axes, batch, tokens]
        position_ids = position_ids.unsqueeze(1)
    output = model(
        input_ids=torch.tensor([token_ids], device=device),
        position_ids=position_ids,
        ragged=RaggedLayout(tuple(segments)),
        logits_to_keep=torch.tensor(last, device=device),
        use_cache=False,
        **{name: torch.cat(values) for name, values in vision.items()},
    )
    return output.logits[0]
