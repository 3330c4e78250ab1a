"""The tiny checkpoints' chat templates render what Qwen's own templates render."""

from pathlib import Path

import pytest
from transformers import AutoTokenizer

QWEN_SYSTEM = (
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
)
VL_SYSTEM = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
NO_THINKING = "<|im_start|>assistant\n<think>\n\n</think>\n\n"
HISTORY = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
    {"role": "user", "content": "And 3+3?"},
]


@pytest.fixture(scope="module")
def tokenizers(tiny_checkpoints: dict[str, Path]) -> dict:
    return {arch: AutoTokenizer.from_pretrained(folder) for arch, folder in tiny_checkpoints.items()}


def render(tokenizer, messages: list[dict], **kwargs) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kwargs)


def test_qwen2_5_inserts_the_default_system_prompt(tokenizers) -> None:
    rendered = render(tokenizers["qwen2"], [{"role": "user", "content": "Hi"}])
    assert rendered == QWEN_SYSTEM + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_qwen2_5_keeps_a_given_system_prompt_only(tokenizers) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    rendered = render(tokenizers["qwen2"], messages)
    assert rendered == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_qwen2_5_multi_turn_and_text_parts(tokenizers) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "One, "}, {"type": "text", "text": "two."}]},
        {"role": "assistant", "content": "Three."},
        {"role": "user", "content": "Four?"},
    ]
    assert render(tokenizers["qwen2"], messages) == (
        QWEN_SYSTEM
        + "<|im_start|>user\nOne, two.<|im_end|>\n"
        + "<|im_start|>assistant\nThree.<|im_end|>\n"
        + "<|im_start|>user\nFour?<|im_end|>\n"
        + "<|im_start|>assistant\n"
    )
    assert not tokenizers["qwen2"].apply_chat_template(messages, tokenize=False).endswith("assistant\n")


def test_qwen3_thinking_off_prefills_an_empty_think_block(tokenizers) -> None:
    rendered = render(tokenizers["qwen3-moe"], [{"role": "user", "content": "Hi"}], enable_thinking=False)
    assert rendered == "<|im_start|>user\nHi<|im_end|>\n" + NO_THINKING


@pytest.mark.parametrize("kwargs", [{}, {"enable_thinking": True}])
def test_qwen3_thinking_on_is_a_plain_assistant_header(tokenizers, kwargs: dict) -> None:
    rendered = render(tokenizers["qwen3-moe"], [{"role": "user", "content": "Hi"}], **kwargs)
    assert rendered == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_qwen3_strips_earlier_thinking_and_has_no_default_system(tokenizers) -> None:
    rendered = render(tokenizers["qwen3-moe"], HISTORY, enable_thinking=False)
    assert rendered == (
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n4<|im_end|>\n"
        "<|im_start|>user\nAnd 3+3?<|im_end|>\n" + NO_THINKING
    )


def test_qwen3_keeps_a_system_message(tokenizers) -> None:
    rendered = render(tokenizers["qwen3-moe"], [{"role": "system", "content": "S"}, *HISTORY[:1]])
    assert rendered.startswith("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nWhat is 2+2?")


def test_qwen2_5_vl_renders_image_parts(tokenizers) -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image"},
                {"type": "text", "text": "and"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "text", "text": "differ how?"},
            ],
        }
    ]
    vision = "<|vision_start|><|image_pad|><|vision_end|>"
    assert render(tokenizers["qwen2.5-vl"], messages) == (
        VL_SYSTEM + f"<|im_start|>user\n{vision}and{vision}differ how?<|im_end|>\n<|im_start|>assistant\n"
    )


def test_qwen2_5_vl_text_only_and_system(tokenizers) -> None:
    messages = [{"role": "system", "content": "Look closely."}, {"role": "user", "content": "Hi"}]
    assert render(tokenizers["qwen2.5-vl"], messages) == (
        "<|im_start|>system\nLook closely.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    assert render(tokenizers["qwen2.5-vl"], messages[1:]).startswith(VL_SYSTEM)
