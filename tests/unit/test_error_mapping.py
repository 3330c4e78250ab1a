"""The one exception → OpenAI error mapping, and errors crossing the Ray hop intact."""

import json
import pickle

import pytest

from deployments.errors import ContextLengthExceededError, EngineError, InvalidRequestError, QwenRouterError
from router.errors import (
    ModelNotFoundError,
    ServiceUnavailableError,
    error_body,
    error_headers,
    error_status,
    sse_error_event,
)

REQUEST_ID = "req-42"


def test_invalid_request_is_400_with_its_message():
    exc = InvalidRequestError("bad image", param="messages", code="invalid_image")
    assert error_status(exc) == 400
    assert error_body(exc, REQUEST_ID) == {
        "error": {"message": "bad image", "type": "invalid_request_error", "param": "messages", "code": "invalid_image"}
    }
    assert error_headers(exc) == {}


@pytest.mark.parametrize("max_tokens,requested", [(100, "150"), (None, None)])
def test_context_length_exceeded_is_400_naming_the_limits(max_tokens, requested):
    exc = ContextLengthExceededError(prompt_tokens=50, max_tokens=max_tokens, context_length=32)
    assert error_status(exc) == 400
    error = error_body(exc, REQUEST_ID)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "context_length_exceeded"
    assert error["param"] == "messages"
    assert "32" in error["message"] and "50" in error["message"]
    if requested:
        assert requested in error["message"] and "100" in error["message"]
    assert REQUEST_ID not in error["message"]


def test_model_not_found_is_404_listing_models():
    exc = ModelNotFoundError("gpt-4", ["auto", "qwen3"])
    assert error_status(exc) == 404
    error = error_body(exc, REQUEST_ID)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "model_not_found"
    assert error["param"] == "model"
    assert "'gpt-4'" in error["message"] and "auto, qwen3" in error["message"]


def test_service_unavailable_is_503_with_retry_after_and_request_id():
    exc = ServiceUnavailableError("no model could serve this request", retry_after_s=7)
    assert error_status(exc) == 503
    error = error_body(exc, REQUEST_ID)["error"]
    assert error["type"] == "service_unavailable_error"
    assert error["code"] == "service_unavailable"
    assert error["message"].startswith("no model could serve this request")
    assert REQUEST_ID in error["message"]
    assert error_headers(exc) == {"retry-after": "7"}


@pytest.mark.parametrize(
    "exc",
    [
        EngineError("CUDA out of memory at /secret/path"),
        RuntimeError("CUDA out of memory at /secret/path"),
        KeyError("CUDA out of memory at /secret/path"),
        QwenRouterError("CUDA out of memory at /secret/path"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_anything_else_is_500_carrying_only_the_request_id(exc):
    assert error_status(exc) == 500
    body = error_body(exc, REQUEST_ID)
    assert body == {
        "error": {"message": f"Internal server error (request id {REQUEST_ID})", "type": "server_error", "param": None, "code": None}
    }
    assert "secret" not in json.dumps(body)
    assert error_headers(exc) == {}


ERRORS = [
    InvalidRequestError("bad image", param="messages", code="invalid_image"),
    ContextLengthExceededError(prompt_tokens=50, max_tokens=100, context_length=32),
    ModelNotFoundError("gpt-4", ["auto", "qwen3"]),
    ServiceUnavailableError("busy", retry_after_s=5),
    EngineError("engine died", code="engine"),
]


@pytest.mark.parametrize("exc", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_survive_pickle(exc):
    """Ray pickles a replica's exception; subclasses with their own constructors must survive too."""
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert vars(copy) == vars(exc)
    assert copy.args == exc.args
    assert error_status(copy) == error_status(exc)
    assert error_body(copy, REQUEST_ID) == error_body(exc, REQUEST_ID)
    assert error_headers(copy) == error_headers(exc)


def test_context_length_attributes_survive_pickle():
    copy = pickle.loads(pickle.dumps(ContextLengthExceededError(prompt_tokens=50, max_tokens=100, context_length=32)))
    assert (copy.prompt_tokens, copy.max_tokens, copy.context_length) == (50, 100, 32)


@pytest.mark.parametrize("exc", ERRORS, ids=lambda e: type(e).__name__)
def test_sse_error_event_is_one_data_line_with_the_error_body(exc):
    event = sse_error_event(exc, REQUEST_ID)
    assert event.startswith("data: ")
    assert event.endswith("\n\n")
    assert "\n" not in event[: -2]
    assert json.loads(event[len("data: ") : -2]) == error_body(exc, REQUEST_ID)


def test_sse_error_event_for_unexpected_error_hides_the_text():
    event = sse_error_event(RuntimeError("secret"), REQUEST_ID)
    assert "secret" not in event
    assert json.loads(event.removeprefix("data: "))["error"]["type"] == "server_error"
