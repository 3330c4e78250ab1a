"""The tiny tokenizer: offline, deterministic, and identical through the transformers loader."""

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from deployments.hf.tokenizer import IM_END, SPECIAL_TOKENS, THINK_TOKENS, train_tokenizer

TEXTS = [
    "Hello, world! How are you today?",
    "你好，世界！请一步一步地解释。",
    "¡Hola! ¿Qué tal? Grüße aus München. Hyvää päivää, mitä kuuluu?",
    "def f(x: int) -> int:\n    return x ** 2  # square\n\n",
    "Solve 12x + 7 = 43; \\frac{1}{2} \\sqrt{x}, 3.14159 and 2^10 = 1024.",
    "  leading spaces,\ttabs\r\nand unseen words: zyzzyva quokka 🦘",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nhmm\n</think>\n\nHello!",
]


@pytest.fixture(scope="module")
def raw():
    return train_tokenizer()


@pytest.fixture(scope="module")
def loaded(tiny_checkpoints: dict[str, Path]):
    return AutoTokenizer.from_pretrained(tiny_checkpoints["qwen2"])


def test_training_is_deterministic_and_small(raw) -> None:
    assert raw.to_str() == train_tokenizer().to_str()
    assert 1000 <= raw.get_vocab_size() <= 2000


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip(raw, loaded, text: str) -> None:
    ids = raw.encode(text).ids
    assert raw.decode(ids, skip_special_tokens=False) == text
    assert loaded.decode(ids) == text


@pytest.mark.parametrize("text", TEXTS)
def test_transformers_loader_gives_the_same_ids(raw, loaded, text: str) -> None:
    assert type(loaded).__name__ == "Qwen2Tokenizer"
    assert loaded(text)["input_ids"] == raw.encode(text).ids


def test_control_tokens_are_single_ids(raw, loaded) -> None:
    for token in SPECIAL_TOKENS + THINK_TOKENS:
        token_id = raw.token_to_id(token)
        assert loaded(f"a{token}b")["input_ids"] == raw.encode("a").ids + [token_id] + raw.encode("b").ids
    assert len(loaded) == raw.get_vocab_size()
    assert (loaded.eos_token, loaded.pad_token, loaded.bos_token) == (IM_END, "<|endoftext|>", None)


def test_think_tags_survive_skip_special_tokens(loaded) -> None:
    ids = loaded("<think>\nplan\n</think>\n\nanswer<|im_end|>")["input_ids"]
    assert loaded.decode(ids, skip_special_tokens=True) == "<think>\nplan\n</think>\n\nanswer"
    assert loaded.decode(ids, skip_special_tokens=False).endswith(IM_END)
