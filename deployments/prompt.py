"""What every engine does the same way before generating: template input and the token budget."""

from typing import Any

from deployments.errors import ContextLengthExceededError
from deployments.types import Message, TextPart


def chat_messages(messages: tuple[Message, ...], *, with_images: bool) -> list[dict[str, Any]]:
    """Messages as Qwen's chat templates take them.

    Image models get OpenAI-style parts (the template turns each image part into
    <|vision_start|><|image_pad|><|vision_end|>); text models get plain strings, which is what
    Qwen3's template expects.
    """
    if not with_images:
        return [{"role": m.role, "content": m.text} for m in messages]
    return [
        {
            "role": m.role,
            "content": [
                {"type": "text", "text": p.text} if isinstance(p, TextPart) else {"type": "image"}
                for p in m.parts
            ],
        }
        for m in messages
    ]


def completion_budget(prompt_tokens: int, max_tokens: int | None, context_length: int) -> int:
    """Tokens the completion may use; raises when the prompt (plus `max_tokens`) does not fit.

    Without `max_tokens` the completion may fill whatever the context leaves.
    """
    if prompt_tokens >= context_length or (
        max_tokens is not None and prompt_tokens + max_tokens > context_length
    ):
        raise ContextLengthExceededError(
            prompt_tokens=prompt_tokens, max_tokens=max_tokens, context_length=context_length
        )
    return max_tokens if max_tokens is not None else context_length - prompt_tokens
