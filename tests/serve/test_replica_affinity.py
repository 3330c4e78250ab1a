"""Conversation-aware replica routing on real Ray Serve: a chat's turns stay on one replica.

A third application ("affinity", under /affinity) is deployed with `config check` and the real
`serve deploy`: `chat`, two replicas with the conversation router, and `chat-ray`, one replica
with Ray Serve LLM's PrefixCacheAffinityRouter reading our requests (router/replica_routing/).
Clients are the official openai SDK; where each answer came from is its `route.replica`.
"""

import concurrent.futures

import pytest
import ray
from openai import OpenAI

from cluster_ops import checked_deploy, scrape, total, wait_until
from router.replica_routing import CONVERSATION_ROUTER, RAY_PREFIX_CACHE_ROUTER

APP = "affinity"
SYSTEM = "You are a patient math tutor. Explain each step, check the arithmetic, and keep answers short. " * 15
CONVERSATIONS = 12
TEXT_ROUTE = {"model": "chat", "defaults": {"max_tokens": 4, "temperature": 0}}


def affinity_config(cache_dir: str) -> dict:
    args = {
        "models": [
            {"name": "chat", "source": "tiny:qwen2", "context_length": 2048},
            {"name": "chat-ray", "source": "tiny:qwen2", "context_length": 2048},
            {"name": "vl", "source": "tiny:qwen2.5-vl", "modalities": ["text", "image"], "context_length": 2048,
             "accept_cold_start": True},
        ],
        "routes": {**{c: TEXT_ROUTE for c in ("math", "code", "reasoning", "general")}, "vision": {"model": "vl"}},
        "cache_dir": cache_dir,
    }
    deployments = [
        {"name": "Router", "num_replicas": 1},
        {"name": "chat", "num_replicas": 2, "request_router_config": {
            "request_router_class": CONVERSATION_ROUTER, "request_router_kwargs": {"max_queue_imbalance": 4}}},
        {"name": "chat-ray", "num_replicas": 1, "request_router_config": {"request_router_class": RAY_PREFIX_CACHE_ROUTER}},
        {"name": "vl", "autoscaling_config": {"min_replicas": 0, "initial_replicas": 0, "max_replicas": 1}},
    ]
    application = {"name": APP, "route_prefix": f"/{APP}", "import_path": "serve_app.builder:build_app",
                   "args": args, "deployments": deployments}
    return {"applications": [application]}


class Conversation:
    """One chat: every turn repeats the conversation so far, as chat clients do."""

    def __init__(self, client: OpenAI, model: str, number: int) -> None:
        self._client, self._model, self._number = client, model, number
        self.messages = [{"role": "system", "content": SYSTEM}]
        self.replicas: list[str] = []

    def turn(self) -> str:
        self.messages.append({"role": "user", "content": f"Chat {self._number}: what is {len(self.replicas)} + {self._number}?"})
        raw = self._client.chat.completions.with_raw_response.create(model=self._model, messages=self.messages, max_tokens=4)
        answer = raw.parse()
        self.messages.append({"role": "assistant", "content": answer.choices[0].message.content or ""})
        self.replicas.append(answer.model_extra["route"]["replica"])
        return self.replicas[-1]


def turns(conversations: list[Conversation], count: int) -> None:
    """`count` more turns of every conversation, four conversations at a time."""
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda c: [c.turn() for _ in range(count)], conversations))


@pytest.fixture(scope="module")
def client(serve_url, dashboard_port, cache_dir, tmp_path_factory, http):
    checked_deploy(affinity_config(cache_dir), dashboard_port, tmp_path_factory.mktemp(APP))
    wait_until(lambda: http.get(f"/{APP}/readyz").status_code == 200, poll_s=0.5, what=f"/{APP}/readyz")
    yield OpenAI(base_url=f"{serve_url}/{APP}/v1", api_key="unused", max_retries=0, timeout=60)
    from ray import serve

    serve.delete(APP)


@pytest.fixture(scope="module")
def chats(client) -> list[Conversation]:
    """Twelve three-turn conversations on `chat`, with a long shared system prompt."""
    conversations = [Conversation(client, "chat", n) for n in range(CONVERSATIONS)]
    turns(conversations, 3)
    return conversations


def test_rays_prefix_cache_router_serves_multi_turn_chats(client):
    conversations = [Conversation(client, "chat-ray", n) for n in range(3)]
    turns(conversations, 3)  # Ray's router as shipped would fail routing every one of them
    assert all(r.startswith("chat-ray#") for c in conversations for r in c.replicas)


def test_follow_ups_stay_on_the_replica_of_the_first_turn(chats):
    follow_ups = [(c.replicas[0], r) for c in chats for r in c.replicas[1:]]
    stayed = sum(first == later for first, later in follow_ups)
    # A follow-up may move for a reason (a queue-length probe too slow on a busy machine); rarely.
    assert stayed >= 0.9 * len(follow_ups), [c.replicas for c in chats]


def test_a_killed_replicas_conversations_continue_elsewhere_and_stay_there(chats, metrics_port):
    replicas = [c.replicas[-1] for c in chats]
    victim = max(set(replicas), key=replicas.count)
    moved = [c for c in chats if c.replicas[-1] == victim]
    ray.kill(ray.get_actor(f"SERVE_REPLICA::{APP}#{victim}", namespace="serve"), no_restart=True)
    turns(chats, 2)  # every request answered: none of them fails
    for conversation in moved:
        assert victim not in conversation.replicas[-2:], conversation.replicas
    after = [c.replicas[-1] == c.replicas[-2] for c in chats]
    assert sum(after) >= 0.9 * len(after), [c.replicas for c in chats]

    def counted() -> dict | None:
        """The scrape once every one of the five turns' choices is exported: the Router's
        metrics reach Prometheus in periodic batches, so an earlier scrape may lack the last."""
        samples = scrape(metrics_port)
        placed = lambda **labels: total(samples, "qwen_router_replica_choices_total", model="chat", **labels)  # noqa: E731
        done = (placed(outcome="hit") >= 30 and placed(outcome="fallback", reason="replica_gone") >= 1
                and total(samples, "qwen_router_replica_choice_ms_count", model="chat") >= CONVERSATIONS * 5)
        return samples if done else None

    samples = wait_until(counted, timeout_s=60, poll_s=1, what="replica-choice metrics")
    cost_count = total(samples, "qwen_router_replica_choice_ms_count", model="chat")
    assert total(samples, "qwen_router_replica_choice_ms_sum", model="chat") / cost_count < 5
