"""Operating a running application the way operators do: `serve deploy` of a changed config.

A second application ("ops", under /ops) is deployed with the real `serve deploy` CLI next to
the session's demo: a `primary` model that takes one request at a time and queues one more, and
a `backup` that every text route falls back to. The tests then overload it, change its
autoscaling and routing policy in place, time requests out, spill load over and kill a replica.
"""

import concurrent.futures
import copy
import json
import time

import httpx
import pytest
import ray

from cluster_ops import checked_deploy, wait_until

LONG = {"messages": [{"role": "user", "content": "Write a long story."}], "max_tokens": 1500, "temperature": 0}
MATH = {"model": "auto", "messages": [{"role": "user", "content": "Solve 3x + 5 = 20 for x."}], "max_tokens": 4}
TEXT_ROUTE = {"model": "primary", "fallbacks": ["backup"], "defaults": {"max_tokens": 8}}
PRIMARY = {
    "name": "primary",
    "max_ongoing_requests": 1,
    "max_queued_requests": 1,
    "autoscaling_config": {"min_replicas": 1, "max_replicas": 1, "target_ongoing_requests": 1},
}


def ops_config(cache_dir: str, *, primary: dict = PRIMARY, router_user_config: dict | None = None) -> dict:
    router = {"name": "Router", "num_replicas": 1}
    if router_user_config is not None:
        router["user_config"] = router_user_config
    args = {
        "models": [
            {"name": "primary", "source": "tiny:qwen2", "context_length": 2048, "engine": {"kind": "transformers", "max_concurrency": 1}},
            {"name": "backup", "source": "tiny:qwen2.5-vl", "modalities": ["text", "image"], "context_length": 2048},
        ],
        "routes": {
            **{category: TEXT_ROUTE for category in ("math", "code", "reasoning", "general")},
            "vision": {"model": "backup"},
        },
        "router": {"max_cold_start_wait_s": 2},
        "cache_dir": cache_dir,
    }
    application = {
        "name": "ops",
        "route_prefix": "/ops",
        "import_path": "serve_app.builder:build_app",
        "args": args,
        "deployments": [router, primary, {"name": "backup", "num_replicas": 1}],
    }
    return {"applications": [application]}


def replica_actors(dashboard_port: int) -> set[str]:
    from ray.util.state import list_actors

    address = f"http://127.0.0.1:{dashboard_port}"
    alive = list_actors(address=address, filters=[("state", "=", "ALIVE")], limit=10_000)
    return {actor.name for actor in alive if actor.name.startswith("SERVE_REPLICA::ops#")}


def chat(http: httpx.Client, body: dict) -> httpx.Response:
    return http.post("/ops/v1/chat/completions", json=body)


@pytest.fixture(scope="module")
def ops(serve_url, dashboard_port, cache_dir, tmp_path_factory, http):
    workdir = tmp_path_factory.mktemp("ops")
    checked_deploy(ops_config(cache_dir), dashboard_port, workdir)
    wait_until(lambda: http.get("/ops/readyz").status_code == 200, poll_s=0.5, what="/ops/readyz")
    deploy = lambda **changes: checked_deploy(ops_config(cache_dir, **changes), dashboard_port, workdir)  # noqa: E731
    yield deploy
    from ray import serve

    serve.delete("ops")


def test_overload_beyond_max_queued_requests_is_an_immediate_503(ops, http):
    body = {**LONG, "model": "primary", "max_tokens": 400}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        started = time.monotonic()
        responses = list(pool.map(lambda _: chat(http, body), range(8)))
        elapsed = time.monotonic() - started
    rejected = [r for r in responses if r.status_code == 503]
    served = [r for r in responses if r.status_code == 200]
    assert len(rejected) + len(served) == 8, [r.status_code for r in responses]
    assert len(rejected) >= 4 and len(served) >= 1
    for response in rejected:
        assert response.headers.get("retry-after") == "1", (response.text, dict(response.headers))
        assert response.json()["error"]["code"] == "overloaded"
    assert elapsed < 90  # the rejected ones did not wait for the served ones


def test_timeout_is_504_for_json_and_an_error_event_for_streams(ops, http):
    ops(router_user_config={"router": {"request_timeout_s": 0.5}})
    body = {**LONG, "model": "primary"}
    response = wait_until(lambda: (r := chat(http, body)).status_code == 504 and r, poll_s=0.5, what="a 504")
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("timeout_error", "timeout")
    with http.stream("POST", "/ops/v1/chat/completions", json={**body, "stream": True}) as stream:
        assert stream.status_code == 200
        events = [line for line in stream.iter_lines() if line]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[-2].removeprefix("data: "))["error"]["code"] == "timeout"
    ops(router_user_config={})
    wait_until(lambda: chat(http, {**body, "max_tokens": 300}).status_code == 200, poll_s=0.5, what="time-out lifted")


def test_autoscaling_and_routing_policy_change_in_place(ops, http, dashboard_port):
    before = replica_actors(dashboard_port)
    assert len(before) == 3  # Router, primary, backup
    assert chat(http, MATH).json()["route"]["model"] == "primary"
    primary = copy.deepcopy(PRIMARY)
    primary["autoscaling_config"].update(max_replicas=2, upscale_delay_s=1)
    policy = {"routes": {"math": {"model": "backup", "fallbacks": ["primary"]}}}
    ops(primary=primary, router_user_config=policy)
    route = wait_until(
        lambda: (r := chat(http, MATH).json()["route"])["model"] == "backup" and r, poll_s=0.5, what="new math route"
    )
    assert route["category"] == "math" and route["fallback_from"] is None
    assert replica_actors(dashboard_port) == before  # nothing restarted
    ops(router_user_config={})


def test_spill_over_sends_requests_past_the_mark_to_the_fallback(ops, http):
    ops(router_user_config={"router": {"spill_over_per_replica": 1}})

    def math_request_while_primary_is_busy():
        # Until the new policy is in place the math request waits for primary and gets it.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            busy = pool.submit(chat, http, {**LONG, "model": "primary", "max_tokens": 1900})
            # The router counts the long request as primary's once it is sent (a few ms); its
            # 1,900 tokens then take 1.3 s or more, so the math request lands well inside them.
            time.sleep(0.3)
            response = chat(http, MATH)
            assert busy.result().status_code == 200
        return response.json()["route"]["model"] == "backup" and response

    response = wait_until(math_request_while_primary_is_busy, timeout_s=120, poll_s=0.5, what="a request spilled over")
    route = response.json()["route"]
    assert (route["fallback_from"], route["fallback_reason"]) == ("primary", "overloaded")
    assert response.headers["x-route-fallback-reason"] == "overloaded"
    ops(router_user_config={})


def test_killed_specialist_replica_sends_requests_to_the_fallback(ops, http, dashboard_port):
    (replica,) = [name for name in replica_actors(dashboard_port) if name.startswith("SERVE_REPLICA::ops#primary#")]
    ray.kill(ray.get_actor(replica, namespace="serve"), no_restart=True)
    responses = [chat(http, MATH) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    routes = [r.json()["route"] for r in responses]
    fell_back = [r for r in routes if r["model"] == "backup"]
    assert fell_back, routes  # the dead replica was not waited for
    assert all(r["fallback_from"] == "primary" and r["fallback_reason"] for r in fell_back)
    wait_until(lambda: chat(http, MATH).json()["route"]["model"] == "primary", poll_s=0.5, what="primary replaced")
