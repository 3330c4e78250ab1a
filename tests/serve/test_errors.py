"""Bad input gets an OpenAI error body with the right status, and the service keeps serving."""

import pytest

GOOD = {"model": "auto", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 2}


def _with(**changes):
    return {**GOOD, **changes}


BAD_REQUESTS = [
    ("malformed JSON", b'{"model": "auto", "messages": [', 400, None),
    ("messages of the wrong type", _with(messages="hello"), 400, "messages"),
    ("empty messages", _with(messages=[]), 400, "messages"),
    ("unknown role", _with(messages=[{"role": "robot", "content": "hi"}]), 400, "messages[0].role"),
    ("temperature out of range", _with(temperature=7), 400, "temperature"),
    ("more than one choice", _with(n=2), 400, "n"),
    (
        "an image that is not an image",
        _with(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}]}]),
        400,
        "messages",
    ),
    (
        "a remote image while remote images are off",
        _with(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}]}]),
        400,
        "messages",
    ),
    ("an image sent to a text-only model", _with(model="qwen2.5-math", messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}]}]), 400, "model"),
    ("unknown model", _with(model="gpt-4o"), 404, "model"),
    ("prompt longer than the context", _with(model="qwen2.5-math", messages=[{"role": "user", "content": "lorem ipsum " * 1500}]), 400, "messages"),
    ("prompt plus max_tokens over the context", _with(model="qwen2.5-math", max_tokens=2047), 400, "messages"),
]


@pytest.mark.parametrize("name,body,status,param", BAD_REQUESTS, ids=[case[0] for case in BAD_REQUESTS])
def test_bad_request_gets_an_openai_error_and_the_service_keeps_serving(http, name, body, status, param):
    kwargs = {"content": body, "headers": {"content-type": "application/json"}} if isinstance(body, bytes) else {"json": body}
    response = http.post("/v1/chat/completions", **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["message"]
    assert error["param"] == param
    assert "Traceback" not in response.text
    assert http.post("/v1/chat/completions", json=GOOD).status_code == 200


def test_context_errors_name_the_limits(http):
    response = http.post("/v1/chat/completions", json=_with(model="qwen2.5-math", max_tokens=2047))
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert "2048" in error["message"] and "2047" in error["message"]


def test_unknown_model_lists_what_exists(http):
    error = http.post("/v1/chat/completions", json=_with(model="gpt-4o")).json()["error"]
    assert error["code"] == "model_not_found"
    assert "qwen2.5-coder" in error["message"] and "auto" in error["message"]


def test_unknown_path_has_the_same_error_shape(http):
    response = http.get("/v1/nothing-here")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_openai_client_raises_typed_errors(client):
    import openai

    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=GOOD["messages"])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="auto", messages=[])
