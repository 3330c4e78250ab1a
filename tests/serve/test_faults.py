"""A model replica that dies mid-request: a clean 503 or SSE error, then service resumes.

Runs last in this directory (file order): it kills a replica of qwen2.5-coder, which Serve
replaces.
"""

import json
import threading
import time
import uuid

import ray

LONG = {
    "model": "qwen2.5-coder",  # explicit: no fallback, so the failure must reach the client
    "messages": [{"role": "user", "content": "Write a long story."}],
    "max_tokens": 1900,
    "temperature": 0,
}


def _kill_replica(replica: str) -> None:
    actor = ray.get_actor(f"SERVE_REPLICA::qwen-router#{replica}", namespace="serve")
    ray.kill(actor, no_restart=True)


def _current_replica(http) -> str:
    body = {**LONG, "max_tokens": 1}
    return http.post("/v1/chat/completions", json=body).json()["route"]["replica"]


def test_replica_dying_mid_json_request_gives_503_with_the_request_id(http):
    # The same request run to its end first: which replica serves it, and how long it takes here
    # (1.3 s on one machine, several seconds on another), so the kill below lands mid-generation.
    began = time.monotonic()
    full = http.post("/v1/chat/completions", json=LONG).json()
    full_s = time.monotonic() - began
    assert full["choices"][0]["finish_reason"] == "length"
    replica = full["route"]["replica"]
    request_id = f"fault-{uuid.uuid4().hex[:8]}"
    result = {}

    def call():
        result["response"] = http.post("/v1/chat/completions", json=LONG, headers={"x-request-id": request_id})

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(full_s * 0.4)
    _kill_replica(replica)
    caller.join(timeout=60)
    response = result["response"]
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    error = response.json()["error"]
    assert request_id in error["message"] and "Traceback" not in error["message"]
    _assert_serving_again(http, replica)


def test_replica_dying_mid_stream_ends_the_stream_with_an_error_event(http):
    replica = _current_replica(http)
    with http.stream("POST", "/v1/chat/completions", json={**LONG, "stream": True}) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        first = next(line for line in lines if line)
        assert json.loads(first.removeprefix("data: "))["route"]["replica"] == replica
        _kill_replica(replica)
        rest = [line for line in lines if line]
    assert rest[-1] == "data: [DONE]"
    error = json.loads(rest[-2].removeprefix("data: "))
    assert error["error"]["type"] == "service_unavailable_error"
    _assert_serving_again(http, replica)


def _assert_serving_again(http, dead_replica: str) -> None:
    response = http.post("/v1/chat/completions", json={**LONG, "max_tokens": 2})
    assert response.status_code == 200
    assert response.json()["route"]["replica"] != dead_replica
