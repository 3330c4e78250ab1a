"""Server-sent events: the same answer as JSON, route first, usage last, then [DONE]."""

import json


def _messages():
    return [{"role": "user", "content": "Write a Python function that adds two numbers."}]


def test_stream_carries_route_usage_and_the_same_text_as_json(client):
    json_answer = client.chat.completions.create(
        model="qwen2.5-coder", messages=_messages(), max_tokens=48, temperature=0
    )
    chunks = list(
        client.chat.completions.create(
            model="qwen2.5-coder",
            messages=_messages(),
            max_tokens=48,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    first, last = chunks[0], chunks[-1]
    assert first.choices[0].delta.role == "assistant"
    assert first.model_extra["route"]["model"] == "qwen2.5-coder"
    assert all("route" not in (c.model_extra or {}) for c in chunks[1:])
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == json_answer.usage.completion_tokens
    assert last.usage.prompt_tokens == json_answer.usage.prompt_tokens
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [json_answer.choices[0].finish_reason]
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == json_answer.choices[0].message.content  # greedy: same tokens either way


def test_raw_sse_has_route_headers_and_ends_with_done(http):
    body = {"model": "auto", "messages": _messages(), "max_tokens": 8, "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-route-category"] == "code"
        events = [line for line in response.iter_lines() if line]
    assert events[-1] == "data: [DONE]"
    payloads = [json.loads(line.removeprefix("data: ")) for line in events[:-1]]
    assert all(p["object"] == "chat.completion.chunk" for p in payloads)
    assert "usage" not in payloads[-1], "usage is only sent when stream_options asks for it"
