"""Request limits checked by the router: counts and sizes, and the max_tokens cap per route."""

import base64

import pytest
from pydantic import ValidationError

from app_args import MINIMAL_ARGS
from deployments.errors import InvalidRequestError
from router.errors import PayloadTooLargeError, error_status
from router.limits import RequestLimits
from router.policy import RouteDecision
from router.protocol import ChatCompletionRequest
from serve_app.config import AppConfig, GenerationDefaults, ImageConfig, LimitsConfig, format_validation_error

LIMITS = LimitsConfig(max_messages=3, max_message_chars=10, max_tokens={"default": 100, "math": 50})
IMAGES = ImageConfig(max_images_per_request=2, max_bytes=1024)


def body(**fields) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"messages": [{"role": "user", "content": "hi"}], **fields})


def image(size: int) -> dict:
    url = "data:image/png;base64," + base64.b64encode(b"\x00" * size).decode()
    return {"type": "image_url", "image_url": {"url": url}}


def refused(request: ChatCompletionRequest) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        RequestLimits(LIMITS, IMAGES).check(request)
    assert error_status(info.value) == 400
    return info.value


def test_within_limits_passes():
    RequestLimits(LIMITS, IMAGES).check(body(messages=[{"role": "user", "content": [{"type": "text", "text": "x" * 10}, image(1024), image(10)]}]))


def test_too_many_messages():
    error = refused(body(messages=[{"role": "user", "content": "a"}] * 4))
    assert error.param == "messages"
    assert error.message == "messages: 4 messages; at most 3 allowed (limits.max_messages)"


@pytest.mark.parametrize(
    "content",
    ["x" * 11, [{"type": "text", "text": "x" * 6}, {"type": "text", "text": "y" * 5}]],
    ids=["string", "text parts together"],
)
def test_too_many_characters_in_one_message(content):
    error = refused(body(messages=[{"role": "user", "content": "ok"}, {"role": "user", "content": content}]))
    assert error.param == "messages[1].content"
    assert "11 characters; at most 10 allowed" in error.message


def test_too_many_images():
    error = refused(body(messages=[{"role": "user", "content": [image(1), image(1)]}, {"role": "user", "content": [image(1)]}]))
    assert error.param == "messages" and "3 images; at most 2 allowed" in error.message


def test_image_too_many_bytes_before_decoding():
    error = refused(body(messages=[{"role": "user", "content": [{"type": "text", "text": "see"}, image(1027)]}]))
    assert error.param == "messages[0].content[1].image_url.url"
    assert error.code == "image_too_large"
    assert "image is 1027 bytes; at most 1024 allowed (images.max_bytes)" in error.message


def decision(category: str, max_tokens: int | None = None) -> RouteDecision:
    return RouteDecision(category, "m", 1.0, (), (), GenerationDefaults(max_tokens=max_tokens))


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_above_the_route_cap_is_refused_not_cut(field):
    with pytest.raises(InvalidRequestError) as info:
        RequestLimits(LIMITS, IMAGES).cap_max_tokens(body(**{field: 51}), decision("math"))
    assert info.value.param == field
    assert info.value.message == f"{field}: 51 is more than the 50 allowed on the 'math' route (limits.max_tokens)"


def test_max_tokens_within_the_cap_passes_and_other_routes_use_the_default_cap():
    limits = RequestLimits(LIMITS, IMAGES)
    limits.cap_max_tokens(body(max_tokens=50), decision("math"))
    limits.cap_max_tokens(body(max_tokens=100), decision("explicit"))
    with pytest.raises(InvalidRequestError):
        limits.cap_max_tokens(body(max_tokens=101), decision("code"))


def test_unset_max_tokens_gets_the_route_default_or_else_the_cap():
    limits = RequestLimits(LIMITS, IMAGES)
    assert limits.cap_max_tokens(body(), decision("math", 20)).defaults.max_tokens == 20
    assert limits.cap_max_tokens(body(), decision("math")).defaults.max_tokens == 50
    uncapped = RequestLimits(LimitsConfig(), IMAGES)
    assert uncapped.cap_max_tokens(body(max_tokens=10**6), decision("math")).defaults.max_tokens is None


def test_route_default_above_its_cap_is_a_config_error():
    args = {**MINIMAL_ARGS, "limits": {"max_tokens": {"math": 64}}}
    args["routes"] = {**MINIMAL_ARGS["routes"], "math": {"model": "text-model", "defaults": {"max_tokens": 128}}}
    with pytest.raises(ValidationError) as info:
        AppConfig.model_validate(args)
    assert format_validation_error(info.value) == [
        "routes.math.defaults.max_tokens: 128 is above this route's cap limits.max_tokens (64)"
    ]


@pytest.mark.parametrize(
    "limits,expected",
    [
        ({"max_body_bytes": 10}, "limits.max_body_bytes: Input should be greater than or equal to 1024 (got 10)"),
        ({"max_tokens": {"maths": 5}}, "limits.max_tokens.maths: unknown field; allowed fields: ['code', 'default', 'explicit', 'general', 'math', 'reasoning', 'vision']"),
    ],
)
def test_limits_config_errors(limits, expected):
    with pytest.raises(ValidationError) as info:
        AppConfig.model_validate({**MINIMAL_ARGS, "limits": limits})
    assert format_validation_error(info.value) == [expected]


def test_body_too_large_maps_to_413():
    assert error_status(PayloadTooLargeError(5000, 1024)) == 413
