"""Pooled token embeddings: read offline from the wordllama wheel, folded into per-token label scores."""

import logging
import subprocess
import sys

import numpy as np
import pytest

from router.classifier.conversation import Turn
from router.classifier.embedding import WORDLLAMA_DIM, TokenTable, wordllama_table


@pytest.fixture(scope="module")
def wordllama():
    return wordllama_table()


def test_the_table_loads_offline_from_the_wheel(wordllama):
    tokenizer_json, vectors = wordllama
    assert vectors.shape == (32000, WORDLLAMA_DIM) and vectors.dtype == np.float32
    assert '"model"' in tokenizer_json


def test_loading_leaves_the_logging_configuration_alone():
    """wordllama's __init__ calls logging.basicConfig(level=INFO); training undoes it."""
    code = ("import logging; from router.classifier.embedding import wordllama_table; wordllama_table(); "
            "root = logging.getLogger(); print(len(root.handlers), root.level)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", str(logging.WARNING)]


def test_turns_are_pooled_by_their_weights(wordllama):
    table = TokenTable.from_json(*wordllama)
    one, two = table.pooled([Turn(1.0, "write a python function")]), table.pooled([Turn(1.0, "what is the capital of peru")])
    both = table.pooled([Turn(1.0, "write a python function"), Turn(0.5, "what is the capital of peru")])
    assert np.allclose(both, one + 0.5 * two)
    assert not table.pooled([Turn(1.0, "")]).any()


def test_folded_scores_equal_the_linear_model_over_pooled_vectors(wordllama):
    """Σ_turns w·mean(E[ids]) @ W == Σ_turns w·mean((E @ W)[ids]): the artefact ships E @ W, not E."""
    tokenizer_json, vectors = wordllama
    weights = np.random.default_rng(0).normal(size=(WORDLLAMA_DIM, 4))
    turns = [Turn(1.0, "Excel'de DÜŞEYARA nasıl kullanılır?"), Turn(0.5, "帮我写个正则表达式")]
    full = TokenTable.from_json(tokenizer_json, vectors).pooled(turns) @ weights
    folded = TokenTable.from_json(tokenizer_json, (vectors @ weights).astype(np.float32)).pooled(turns)
    assert np.allclose(full, folded, atol=1e-4)
