"""The OpenAI request model: lenient about unknown fields, strict about what it cannot honour."""

import logging
import uuid

import pytest
from pydantic import ValidationError

from router.protocol import MAX_STOP_SEQUENCES, ChatCompletionRequest, ImageContent, TextContent

USER = {"role": "user", "content": "hi"}
IMAGE_URL = "data:image/png;base64,AAAA"


def parse(**fields) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"messages": [USER], **fields})


def rejected(**fields) -> str:
    with pytest.raises(ValidationError) as info:
        ChatCompletionRequest.model_validate({"messages": [USER], **fields})
    return str(info.value)


def test_minimal_request_defaults():
    request = ChatCompletionRequest.model_validate({"messages": [USER]})
    assert request.model == "auto"
    assert request.stream is False
    assert request.n == 1
    assert request.stop_sequences == ()
    assert request.completion_limit is None
    assert request.include_usage is False


def test_unknown_fields_are_accepted_and_logged_once(caplog):
    field = f"future_field_{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.INFO, logger="qwen_router.protocol"):
        first = parse(**{field: 1, "user": "someone"})
        parse(**{field: 2})
    assert first.model_extra[field] == 1
    mentions = [r for r in caplog.records if field in r.getMessage()]
    assert len(mentions) == 1


def test_unknown_fields_inside_messages_are_accepted():
    request = ChatCompletionRequest.model_validate(
        {"messages": [{"role": "user", "content": "hi", "cache_control": {"type": "ephemeral"}}]}
    )
    assert request.messages[0].content == "hi"


def test_empty_messages_rejected():
    with pytest.raises(ValidationError, match="messages"):
        ChatCompletionRequest.model_validate({"messages": []})


def test_missing_messages_rejected():
    with pytest.raises(ValidationError, match="messages"):
        ChatCompletionRequest.model_validate({"model": "auto"})


@pytest.mark.parametrize("role", ["tool", "robot", "function"])
def test_unknown_role_rejected(role):
    assert "role" in rejected(messages=[USER, {"role": role, "content": "x"}])


@pytest.mark.parametrize("role", ["system", "developer", "user", "assistant"])
def test_known_roles_with_string_content(role):
    request = parse(messages=[{"role": role, "content": "text"}])
    assert request.messages[0].role == role
    assert request.messages[0].content == "text"


def test_content_parts_text_and_image():
    request = parse(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": IMAGE_URL, "detail": "low"}},
                ],
            }
        ]
    )
    text, image = request.messages[0].content
    assert isinstance(text, TextContent) and text.text == "what is this?"
    assert isinstance(image, ImageContent) and image.image_url.url == IMAGE_URL


def test_unknown_content_part_type_rejected():
    assert "input_audio" in rejected(
        messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x"}}]}]
    )


def test_empty_image_url_rejected():
    rejected(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}}]}])


@pytest.mark.parametrize("role", ["system", "developer", "assistant"])
def test_image_in_non_user_message_rejected(role):
    message = {"role": role, "content": [{"type": "image_url", "image_url": {"url": IMAGE_URL}}]}
    assert "only user messages may carry images" in rejected(messages=[message, USER])


def test_text_parts_allowed_in_system_message():
    request = parse(messages=[{"role": "system", "content": [{"type": "text", "text": "be brief"}]}, USER])
    assert request.messages[0].content[0].text == "be brief"


@pytest.mark.parametrize("role", ["user", "system", "developer"])
def test_missing_content_rejected(role):
    assert f"a {role} message needs content" in rejected(messages=[{"role": role}])


def test_assistant_may_omit_content():
    request = parse(messages=[USER, {"role": "assistant", "content": None}, USER])
    assert request.messages[1].content is None


def test_n_above_one_rejected():
    assert "only n=1" in rejected(n=2)
    assert parse(n=1).n == 1


def test_logprobs_true_rejected_false_accepted():
    assert "logprobs" in rejected(logprobs=True)
    assert parse(logprobs=False).logprobs is False


def test_non_empty_tools_rejected_empty_accepted():
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}
    assert "tool calling is not supported" in rejected(tools=[tool])
    assert parse(tools=[]).tools == []


@pytest.mark.parametrize(
    "response_format", [{"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}, {"type": "json_object"}]
)
def test_structured_response_format_rejected(response_format):
    assert "response_format" in rejected(response_format=response_format)


def test_text_response_format_accepted():
    assert parse(response_format={"type": "text"}).response_format == {"type": "text"}


def test_stop_as_string_and_list():
    assert parse(stop="END").stop_sequences == ("END",)
    assert parse(stop=["a", "b"]).stop_sequences == ("a", "b")
    assert parse(stop=[]).stop_sequences == ()


def test_too_many_stop_sequences_rejected():
    assert parse(stop=["s"] * MAX_STOP_SEQUENCES).stop_sequences == ("s",) * MAX_STOP_SEQUENCES
    assert f"at most {MAX_STOP_SEQUENCES} stop sequences" in rejected(stop=["s"] * (MAX_STOP_SEQUENCES + 1))


@pytest.mark.parametrize("stop", ["", ["ok", ""]])
def test_empty_stop_sequence_rejected(stop):
    assert "must not be empty" in rejected(stop=stop)


@pytest.mark.parametrize(
    "fields,limit",
    [
        ({"max_tokens": 10}, 10),
        ({"max_completion_tokens": 20}, 20),
        ({"max_tokens": 10, "max_completion_tokens": 20}, 20),
        ({}, None),
    ],
)
def test_completion_limit_prefers_max_completion_tokens(fields, limit):
    assert parse(**fields).completion_limit == limit


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_zero_token_limit_rejected(field):
    rejected(**{field: 0})


@pytest.mark.parametrize("field,value", [("temperature", 2.5), ("temperature", -0.1), ("top_p", 0.0), ("top_p", 1.5)])
def test_sampling_out_of_range_rejected(field, value):
    assert field in rejected(**{field: value})


@pytest.mark.parametrize(
    "stream_options,expected", [(None, False), ({}, False), ({"include_usage": False}, False), ({"include_usage": True}, True)]
)
def test_include_usage(stream_options, expected):
    assert parse(stream=True, stream_options=stream_options).include_usage is expected


def test_chat_template_kwargs_kept():
    assert parse(chat_template_kwargs={"enable_thinking": False}).chat_template_kwargs == {"enable_thinking": False}


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_seed_outside_64_bits_is_rejected(seed):
    with pytest.raises(ValidationError, match="seed"):
        parse(seed=seed)


@pytest.mark.parametrize("seed", [2**64 - 1, -(2**63), 0])
def test_seed_inside_64_bits_is_accepted(seed):
    assert parse(seed=seed).seed == seed
