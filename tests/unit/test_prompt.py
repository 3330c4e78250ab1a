"""Engine-independent prompt helpers: template input and the completion budget."""

import pytest

from deployments.errors import ContextLengthExceededError
from deployments.prompt import chat_messages, completion_budget
from deployments.types import ImagePart, Message, TextPart


def test_completion_budget() -> None:
    assert completion_budget(10, None, 100) == 90
    assert completion_budget(10, 90, 100) == 90
    with pytest.raises(ContextLengthExceededError) as caught:
        completion_budget(10, 91, 100)
    assert caught.value.code == "context_length_exceeded"
    assert "101 tokens" in caught.value.message
    with pytest.raises(ContextLengthExceededError):
        completion_budget(100, None, 100)  # no room for a single token


def test_chat_messages_text_and_images() -> None:
    messages = (
        Message("system", (TextPart("Be brief."),)),
        Message("user", (TextPart("What is"), ImagePart("data:image/png;base64,AA=="), TextPart("this?"))),
    )
    assert chat_messages(messages, with_images=False) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is\nthis?"},
    ]
    assert chat_messages(messages, with_images=True)[1] == {
        "role": "user",
        "content": [{"type": "text", "text": "What is"}, {"type": "image"}, {"type": "text", "text": "this?"}],
    }
