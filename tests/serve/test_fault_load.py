"""Model replicas killed under load: every request completes or ends with a clean error.

Several clients keep sending a mix of requests while, in each round, replicas are killed
twice: the math specialist's (reached with `model: "auto"`, fallback qwen3-moe) while requests
wait for it, and the coder's (named explicitly, no fallback) while a stream from it is under
way. Each
request must end as a completion (JSON with a finish reason, or a stream with a finish reason
and `[DONE]`) or a clean error (an OpenAI error body with 503/504, or an SSE error event before
`[DONE]`): no silent cut, no hang, nothing lost. Serve must bring each replica back, and a
client that leaves mid-generation must free the replica's generation slot.

`make test` runs one round of both faults; `make soak` (QWEN_ROUTER_SOAK=1) runs more rounds
with more clients and writes the counts to bench/results/faults.json.
"""

import itertools
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import ray

from cluster_ops import wait_until

SOAK = os.environ.get("QWEN_ROUTER_SOAK") == "1"
ROUNDS = 4 if SOAK else 1  # each round: one kill while requests queue, one kill mid-stream
CLIENTS = 10 if SOAK else 6  # half per model
HANG_S = 60.0  # a request not finished within this counts as a hang
RECOVERY_S = 180.0
APP = "qwen-router"
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "faults.json"

MATH = "qwen2.5-math"  # the math route's model; its fallback is qwen3-moe
CODER = "qwen2.5-coder"  # named explicitly: no fallback
MATH_AUTO = {"model": "auto", "messages": [{"role": "user", "content": "Solve 3x + 5 = 20 for x. Show each step."}], "temperature": 0}
CODER_EXPLICIT = {"model": CODER, "messages": [{"role": "user", "content": "Write a long story."}], "temperature": 0}
# Half the clients send math requests, half coder ones, each alternating stream and JSON, so
# both models always have more requests than generation slots (2). Long enough to be caught.
MIX = {
    "math": [({**MATH_AUTO, "max_tokens": 1000}, True), ({**MATH_AUTO, "max_tokens": 600}, False)],
    "coder": [({**CODER_EXPLICIT, "max_tokens": 600}, True), ({**CODER_EXPLICIT, "max_tokens": 300}, False)],
}
CLEAN_ERRORS = {503: "service_unavailable_error", 504: "timeout_error"}
DISCONNECTS: dict[str, float] = {}  # filled by the disconnect test, reported with the load run


@dataclass
class Outcome:
    """One request of the load run, as the client saw it."""

    kind: str
    stream: bool
    sent_s: float
    answered_s: float | None = None  # response headers arrived (the router had a first chunk)
    ended_s: float | None = None
    status: int | None = None
    model: str | None = None
    replica: str | None = None
    fallback_from: str | None = None
    result: str = "pending"  # completed | clean_error | silent_cut | unclean_error | hung | lost
    detail: str = ""


@dataclass
class Fault:
    """Replicas killed at once, what was in flight to them, and when Serve replaced them."""

    where: str  # "queued" or "mid-stream"
    replicas: set[str]
    killed_s: float
    waiting: list[Outcome] = field(default_factory=list)  # to its model, not yet answered
    streaming: list[Outcome] = field(default_factory=list)  # streams it had begun
    recovered_s: float | None = None

    @property
    def deployment(self) -> str:
        return next(iter(self.replicas)).split("#", 1)[0]


# --- one request -----------------------------------------------------------------------------------


def json_outcome(outcome: Outcome, response: httpx.Response) -> None:
    """A JSON answer: a completion with a finish reason, or an OpenAI error with 503/504."""
    outcome.status = response.status_code
    try:
        body = response.json()
    except ValueError:
        outcome.result, outcome.detail = "unclean_error", response.text[:200]
        return
    if response.status_code == 200:
        route = body.get("route", {})
        outcome.model, outcome.replica, outcome.fallback_from = route.get("model"), route.get("replica"), route.get("fallback_from")
        finished = body.get("choices") and body["choices"][0].get("finish_reason")
        outcome.result = "completed" if finished else "silent_cut"
        return
    error = body.get("error") if isinstance(body, dict) else None
    clean = isinstance(error, dict) and error.get("type") == CLEAN_ERRORS.get(response.status_code) and error.get("message")
    outcome.result = "clean_error" if clean else "unclean_error"
    outcome.detail = json.dumps(body)[:200]


def stream_outcome(outcome: Outcome, events: Iterator[str], deadline: float) -> None:
    """A 200 stream: [DONE] last, and before it a finish reason or an error event."""
    finished = done = False
    error_type: str | None = None
    for event in events:
        if time.monotonic() > deadline:
            outcome.result = "hung"
            return
        if event == "[DONE]":
            done = True
            break
        payload = json.loads(event)
        if "error" in payload:
            error_type = str(payload["error"].get("type"))
            outcome.detail = json.dumps(payload)[:200]
            continue
        if "route" in payload and outcome.replica is None:
            route = payload["route"]
            outcome.model, outcome.replica, outcome.fallback_from = route["model"], route.get("replica"), route.get("fallback_from")
        if any(choice.get("finish_reason") for choice in payload.get("choices", [])):
            finished = True
    if not done:
        outcome.result = "silent_cut"
    elif error_type is not None:
        outcome.result = "clean_error" if error_type in CLEAN_ERRORS.values() else "unclean_error"
    else:
        outcome.result = "completed" if finished else "silent_cut"


def data_events(response: httpx.Response) -> Iterator[str]:
    """The payloads of a stream's `data:` lines."""
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield line.removeprefix("data: ")


def send(client: httpx.Client, outcome: Outcome, body: dict[str, Any]) -> None:
    """One request, filled into `outcome` as it goes; transport failures are counted, not raised."""
    deadline = outcome.sent_s + HANG_S
    try:
        with client.stream("POST", "/v1/chat/completions", json={**body, "stream": outcome.stream}) as response:
            outcome.answered_s = time.monotonic()
            if outcome.stream and response.status_code == 200:
                outcome.status = 200
                stream_outcome(outcome, data_events(response), deadline)
            else:
                response.read()
                json_outcome(outcome, response)
    except httpx.TimeoutException:
        outcome.result = "hung"
    except httpx.TransportError as exc:  # a dropped connection: lost before the headers, cut after
        outcome.result = "silent_cut" if outcome.answered_s else "lost"
        outcome.detail = type(exc).__name__
    outcome.ended_s = time.monotonic()
    if outcome.ended_s - outcome.sent_s > HANG_S:
        outcome.result = "hung"


# --- the load --------------------------------------------------------------------------------------


class Load:
    """Clients, half per model, each alternating stream and JSON until stopped; every request
    is visible in flight and after."""

    def __init__(self, base_url: str, clients: int) -> None:
        self._base_url = base_url
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._in_flight: set[int] = set()
        self._outcomes: list[Outcome] = []
        kinds = itertools.cycle(MIX)
        self._threads = [threading.Thread(target=self._client, args=(next(kinds), i), daemon=True) for i in range(clients)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> list[Outcome]:
        """Stops sending, waits for the requests in flight (each bounded by HANG_S); all of them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=HANG_S + 30)
        assert not any(t.is_alive() for t in self._threads), "a client did not return"
        return list(self._outcomes)

    def in_flight(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self._outcomes if id(o) in self._in_flight]

    def done(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self._outcomes if id(o) not in self._in_flight]

    def _client(self, kind: str, number: int) -> None:
        requests = itertools.islice(itertools.cycle(MIX[kind]), number // len(MIX), None)  # clients out of step
        with httpx.Client(base_url=self._base_url, timeout=httpx.Timeout(HANG_S, connect=10.0)) as client:
            for body, stream in requests:
                if self._stop.is_set():
                    break
                with self._lock:
                    outcome = Outcome(kind, stream, time.monotonic())
                    self._outcomes.append(outcome)
                    self._in_flight.add(id(outcome))
                send(client, outcome, body)
                with self._lock:
                    self._in_flight.discard(id(outcome))


# --- faults and recovery --------------------------------------------------------------------------


def replica_names(dashboard_port: int, deployment: str) -> set[str]:
    """Live replica ids (`<deployment>#<id>`) of one deployment of the demo application."""
    from ray.util.state import list_actors

    prefix = f"SERVE_REPLICA::{APP}#{deployment}#"
    alive = list_actors(address=f"http://127.0.0.1:{dashboard_port}", filters=[("state", "=", "ALIVE")], limit=10_000)
    return {a.name.removeprefix(f"SERVE_REPLICA::{APP}#") for a in alive if a.name and a.name.startswith(prefix)}


def kill(replica: str) -> None:
    ray.kill(ray.get_actor(f"SERVE_REPLICA::{APP}#{replica}", namespace="serve"), no_restart=True)


def kill_while_queued(load: Load, dashboard_port: int) -> Fault:
    """Kills the math replicas while one generates a stream and other math streams still wait
    for their first chunk (queued for a generation slot). Every replica, should the autoscaler
    have added one: the waiting requests are queued at one of them."""

    def target() -> tuple[str, list[Outcome]] | None:
        now = time.monotonic()
        streams = [o for o in load.in_flight() if o.kind == "math" and o.stream]
        # A stream answers at its first chunk; prefill takes milliseconds, so one silent for
        # half a second waits for a generation slot.
        waiting = [o for o in streams if o.answered_s is None and now - o.sent_s > 0.5]
        running = [o for o in streams if o.model == MATH and o.replica]
        return (running[0].replica, waiting) if waiting and running else None

    _, waiting = wait_until(target, 60, "math requests queued behind a running stream")
    return inject(load, "queued", replica_names(dashboard_port, MATH), waiting)


def kill_mid_stream(load: Load, dashboard_port: int) -> Fault:
    """Kills the coder replica while a stream from it has been under way for a moment."""

    def target() -> str | None:
        now = time.monotonic()
        streams = [
            o for o in load.in_flight()
            if o.kind == "coder" and o.stream and o.replica and o.answered_s and now - o.answered_s > 0.3
        ]
        return streams[0].replica if streams else None

    replica = wait_until(target, 60, "a coder stream under way")
    waiting = [o for o in load.in_flight() if o.kind == "coder" and o.stream and o.answered_s is None]
    return inject(load, "mid-stream", {replica}, waiting)


def inject(load: Load, where: str, replicas: set[str], waiting: list[Outcome]) -> Fault:
    """Kills `replicas` and notes the streams they had begun, as seen just before."""
    streaming = [o for o in load.in_flight() if o.stream and o.replica in replicas]
    for replica in replicas:
        kill(replica)
    return Fault(where, replicas, time.monotonic(), waiting, streaming)


def await_recovery(load: Load, http: httpx.Client, fault: Fault) -> None:
    """Serve replaced the replicas: a request sent after the kill was answered by a new replica
    of the same deployment, and /readyz is 200."""
    deployment = fault.deployment

    def answered_by_new_replica() -> bool:
        return any(
            o.sent_s > fault.killed_s and o.model == deployment and o.replica is not None and o.replica not in fault.replicas
            and o.result == "completed"
            for o in load.done()
        )

    wait_until(answered_by_new_replica, RECOVERY_S, f"a new {deployment} replica to answer", poll_s=0.5)
    wait_until(lambda: http.get("/readyz", timeout=30).status_code == 200, RECOVERY_S, "/readyz", poll_s=0.5)
    fault.recovered_s = time.monotonic() - fault.killed_s


def ended_cleanly_mid_stream(outcome: Outcome) -> bool:
    return outcome.stream and outcome.status == 200 and outcome.result == "clean_error"


def ending(outcome: Outcome) -> str:
    """How a request ended, in the words of the results file."""
    if outcome.result == "completed":
        return "completed on fallback" if outcome.fallback_from else "completed"
    if outcome.result == "clean_error":
        return "SSE error event" if ended_cleanly_mid_stream(outcome) else "JSON error"
    return outcome.result


def tally(outcomes: list[Outcome], faults: list[Fault], seconds: float) -> dict[str, Any]:
    """The counts the README reports."""
    results = Counter(o.result for o in outcomes)
    return {
        "clients": CLIENTS,
        "faults_injected": len(faults),
        "replicas_killed": sum(len(f.replicas) for f in faults),
        "requests": len(outcomes),
        "streaming": sum(o.stream for o in outcomes),
        "completed": results["completed"],
        "completed_on_fallback": sum(o.result == "completed" and o.fallback_from is not None for o in outcomes),
        "clean_errors": results["clean_error"],
        "clean_errors_json": sum(o.result == "clean_error" and not ended_cleanly_mid_stream(o) for o in outcomes),
        "clean_errors_sse": sum(ended_cleanly_mid_stream(o) for o in outcomes),
        "silent_cuts": results["silent_cut"],
        "unclean_errors": results["unclean_error"],
        "hangs": results["hung"],
        "lost": results["lost"],
        "disconnects": DISCONNECTS,
        "faults": [
            {
                "where": f.where,
                "deployment": f.deployment,
                "replicas_killed": len(f.replicas),
                "streams_waiting_at_kill": dict(Counter(ending(o) for o in f.waiting)),
                "streams_under_way_at_kill": dict(Counter(ending(o) for o in f.streaming)),
                "recovered_s": round(f.recovered_s, 1) if f.recovered_s is not None else None,
            }
            for f in faults
        ],
        "seconds": round(seconds, 1),
    }


def report(request: pytest.FixtureRequest, summary: dict[str, Any]) -> None:
    """Prints the counts past pytest's capture; a soak run also writes them to RESULTS."""
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print(f"\nfaults: {json.dumps(summary)}")
    if SOAK:
        RESULTS.write_text(json.dumps(summary, indent=2) + "\n")


def answered_by(http: httpx.Client, model: str) -> str:
    """The replica that answers a tiny request naming `model`."""
    response = http.post("/v1/chat/completions", json={**CODER_EXPLICIT, "model": model, "max_tokens": 2})
    assert response.status_code == 200, response.text
    return response.json()["route"]["replica"]


# --- the tests -------------------------------------------------------------------------------------


def test_a_client_leaving_mid_generation_frees_the_replicas_slot(http, dashboard_port):
    from ray import serve

    assert len(replica_names(dashboard_port, CODER)) == 1, "the count below is one replica's"
    handle = serve.get_deployment_handle(CODER, app_name=APP)

    def active() -> int:
        return handle.active_generations.remote().result(timeout_s=30)

    wait_until(lambda: active() == 0, 60, "an idle coder replica")
    long = {**CODER_EXPLICIT, "max_tokens": 1900}
    began = time.monotonic()
    full = http.post("/v1/chat/completions", json=long)
    full_s = time.monotonic() - began
    # Greedy decoding is deterministic: the requests below would also run to max_tokens.
    assert full.json()["choices"][0]["finish_reason"] == "length"

    # Asked from another thread while the stream is open: the replica answers between steps of
    # a generation that holds its event loop busy, so one call may come back only at the end.
    seen: list[int] = []
    streaming = threading.Event()

    def watch() -> None:
        while streaming.is_set():
            seen.append(active())

    with http.stream("POST", "/v1/chat/completions", json={**long, "stream": True}) as response:
        lines = response.iter_lines()
        next(line for line in lines if line.startswith("data: "))
        streaming.set()
        watcher = threading.Thread(target=watch)
        watcher.start()
        next(line for line in lines if line.startswith("data: "))
        wait_until(lambda: seen, full_s / 2, "the replica's count during the stream", poll_s=0.01)
        streaming.clear()
    watcher.join(timeout=30)
    during_stream = seen[0]
    left = time.monotonic()  # leaving the block closed the connection mid-stream
    wait_until(lambda: active() == 0, full_s, "the stream's generation to stop")
    stream_freed_s = time.monotonic() - left

    def give_up_early() -> None:
        with pytest.raises(httpx.ReadTimeout):
            http.post("/v1/chat/completions", json=long, timeout=httpx.Timeout(60, read=full_s / 4))

    caller = threading.Thread(target=give_up_early)
    caller.start()
    wait_until(lambda: active() == 1, full_s / 4, "the JSON request's generation to start", poll_s=0.02)
    caller.join(timeout=60)
    left = time.monotonic()
    wait_until(lambda: active() == 0, full_s, "the JSON request's generation to stop")
    json_freed_s = time.monotonic() - left

    DISCONNECTS.update(generation_s=round(full_s, 2), stream_freed_s=round(stream_freed_s, 2), json_freed_s=round(json_freed_s, 2))
    assert during_stream == 1
    assert stream_freed_s < full_s / 2, f"stream: freed after {stream_freed_s:.2f} s of a {full_s:.2f} s generation"
    assert json_freed_s < full_s / 2, f"JSON: freed after {json_freed_s:.2f} s of a {full_s:.2f} s generation"


def test_replicas_killed_under_load_lose_no_request(request, serve_url, http, dashboard_port):
    wait_until(lambda: http.get("/readyz").status_code == 200, RECOVERY_S, "/readyz before the run", poll_s=0.5)
    load = Load(serve_url, CLIENTS)
    faults: list[Fault] = []
    started = time.monotonic()
    load.start()
    try:
        for _ in range(ROUNDS):
            for inject_fault in (kill_while_queued, kill_mid_stream):
                faults.append(inject_fault(load, dashboard_port))
                await_recovery(load, http, faults[-1])
    finally:
        outcomes = load.stop()
    summary = tally(outcomes, faults, time.monotonic() - started)
    report(request, summary)

    unclean = [o for o in outcomes if o.result not in ("completed", "clean_error")]
    assert not unclean, unclean[:5]
    math_answers = [o for o in outcomes if o.kind == "math" and o.result == "completed"]
    assert all(MATH in (o.model, o.fallback_from) for o in math_answers), "auto requests left the math route"
    for fault in faults:
        if fault.where == "queued":
            assert fault.waiting, "nothing was queued when the replica died"
            assert any(o.fallback_from == MATH or o.result == "clean_error" for o in fault.waiting), fault.waiting
        else:
            assert any(ended_cleanly_mid_stream(o) for o in fault.streaming), fault.streaming
    assert http.get("/readyz").status_code == 200
    killed = set().union(*(f.replicas for f in faults))
    assert answered_by(http, MATH) not in killed and answered_by(http, CODER) not in killed
