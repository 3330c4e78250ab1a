"""Static token embeddings, mean-pooled per turn: meaning that carries beyond the training words.

The embedding table is WordLlama's (`l2_supercat_256`, MIT, shipped in the `wordllama` wheel;
it derives from the token embedding tables of Llama-2-family models, whose tokenizer it uses).
Training reads the table from the installed wheel (`wordllama_table`, a training-only extra).
A linear model over a mean of token vectors is a mean of per-token scores, so the artefact
ships no vectors: training multiplies the table by the learned weights into one row of label
scores per token (32,000 × labels), and the router averages those rows. Inference is the
`tokenizers` library (already a dependency) and a numpy gather; no torch, no download.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from router.classifier.conversation import Turn

WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256


@dataclass(frozen=True)
class TokenTable:
    """A tokenizer and one row per token id: pooled over the turns, weighted as the turns are."""

    tokenizer: "object"  # tokenizers.Tokenizer
    rows: np.ndarray  # (vocabulary, width)

    @classmethod
    def from_json(cls, tokenizer_json: str, rows: np.ndarray) -> "TokenTable":
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(tokenizer_json)
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return cls(tokenizer, rows)

    def pooled(self, turns: Sequence[Turn]) -> np.ndarray:
        """Σ over turns of weight × the mean row of the turn's tokens (zeros for a turn without tokens)."""
        out = np.zeros(self.rows.shape[1], dtype=np.float64)
        for turn in turns:
            ids = self.tokenizer.encode(turn.text, add_special_tokens=False).ids
            if ids:
                out += turn.weight * self.rows[np.minimum(ids, len(self.rows) - 1)].mean(axis=0, dtype=np.float64)
        return out


def wordllama_table() -> tuple[str, np.ndarray]:
    """The tokenizer (JSON) and the embedding table of the installed `wordllama` wheel, offline.

    Training only (`pip install qwen-router[train]`): the package folder is its own cache, and
    downloads are disabled, so a missing file is an error instead of a fetch.
    """
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import wordllama  # its __init__ calls logging.basicConfig; undone below
    from wordllama import WordLlama

    root.handlers[:], root.level = handlers, level
    folder = Path(wordllama.__file__).parent
    model = WordLlama.load(WORDLLAMA_CONFIG, cache_dir=folder, dim=WORDLLAMA_DIM, disable_download=True)
    tokenizer_json = (folder / "tokenizers" / f"{WORDLLAMA_CONFIG}_tokenizer_config.json").read_text(encoding="utf-8")
    return tokenizer_json, np.asarray(model.embedding, dtype=np.float32)
