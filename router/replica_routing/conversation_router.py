"""`ConversationAffinityRouter`: a conversation's next turn goes to the replica that holds it.

A Ray Serve `RequestRouter` for the model deployments, set per deployment in YAML:

    deployments:
      - name: qwen2.5-coder
        request_router_config:
          request_router_class: router.replica_routing.conversation_router:ConversationAffinityRouter
          request_router_kwargs: {max_queue_imbalance: 16}    # settings.py

Serve creates one per deployment handle in the calling process (the Router replica) and asks
it, per request, for ranked candidate replicas (`choose_replicas`); Serve then takes the
shortest queue within the first rank that has room. After Serve has placed a request
(`on_request_routed`) the router remembers which replica holds its blocks.

Everything happens in the process, on Serve's router event loop, without a blocking call:
queue lengths come from Serve's own cache (updated by every request it sends and by every
replica's answer), and a replica missing from it is probed with Serve's awaitable probe, as
Serve's default router does. Replicas that are gone, unhealthy or draining are not among the
candidates Serve passes in, so the conversations they held go to their homes among the others.

Not used from Serve's toolbox: `FIFOMixin`, which hands the replica found for one request to
whichever request has waited longest (the affinity would be lost under load); `MultiplexMixin`,
since LoRA adapters here are a field of the request, not Serve multiplexed models; and
`LocalityMixin`, since where the KV cache is matters more than which node the replica is on.
"""

import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, List, Optional

from ray.serve.request_router import PendingRequest, ReplicaID, RequestRouter, RunningReplica

from deployments.types import GenerationRequest
from router.metrics import MetricFactory, ReplicaChoiceMetrics, ray_serve_metric
from router.replica_routing.choice import Choice, ReplicaLoad, choose, prefer
from router.replica_routing.memory import AdapterMemory, PrefixMemory
from router.replica_routing.prefix import ConversationPrefix, conversation_prefix
from router.replica_routing.settings import AffinitySettings

# Decisions kept until Serve reports where their request went; requests cancelled before that
# leave theirs behind, so the oldest go beyond this many.
_MAX_UNSETTLED = 10_000


@dataclass
class _Unsettled:
    prefix: ConversationPrefix
    adapter: str | None
    choice: Choice
    cost_s: float  # CPU time this thread spent on the request so far (not time it was preempted)


class ConversationAffinityRouter(RequestRouter):
    # Where the metric objects come from (a subclass may record elsewhere, as the tests do).
    metric_factory: MetricFactory = staticmethod(ray_serve_metric)

    def initialize_state(self, **kwargs: Any) -> None:
        """Called by Serve with `request_router_kwargs`; see `AffinitySettings`."""
        self._settings = AffinitySettings.model_validate(kwargs)
        self._prefixes = PrefixMemory(self._settings.max_entries, self._settings.max_chars)
        self._adapters = AdapterMemory(self._settings.max_adapters)
        self._metrics = ReplicaChoiceMetrics(self._deployment_id.name, self.metric_factory)
        self._unsettled: OrderedDict[str, _Unsettled] = OrderedDict()

    async def choose_replicas(
        self,
        candidate_replicas: List[RunningReplica],
        pending_request: Optional[PendingRequest] = None,
    ) -> List[List[RunningReplica]]:
        request = _generation_request(pending_request)
        if request is None or pending_request is None:  # info(), health: any two, as Serve's default
            return [random.sample(candidate_replicas, min(2, len(candidate_replicas)))] if candidate_replicas else []
        loads = await self._loads(candidate_replicas)
        started = time.thread_time()
        live = {r.replica_id: r for r in candidate_replicas if r.replica_id in loads}
        if not live:
            return []
        key = pending_request.metadata.internal_request_id
        earlier = self._unsettled.pop(key, None)
        prefix = earlier.prefix if earlier else conversation_prefix(request, self._settings.block_chars)
        preference = prefer(prefix, request.adapter, live.keys(), self._prefixes, self._adapters)
        choice = choose(preference, prefix.home_key, loads, self._settings)
        spent = (earlier.cost_s if earlier else 0.0) + time.thread_time() - started
        self._unsettled[key] = _Unsettled(prefix, request.adapter, choice, spent)
        while len(self._unsettled) > _MAX_UNSETTLED:
            self._unsettled.popitem(last=False)
        return [[live[replica] for replica in rank] for rank in choice.ranks]

    def on_request_routed(self, pending_request: PendingRequest, replica_id: ReplicaID, result: Any) -> None:
        unsettled = self._unsettled.pop(pending_request.metadata.internal_request_id, None)
        if unsettled is None:
            return
        started = time.thread_time()
        live = self.curr_replicas.keys()
        self._prefixes.remember(unsettled.prefix, replica_id, live)
        if unsettled.adapter is not None:
            self._adapters.remember(unsettled.adapter, replica_id, live)
        outcome, reason = unsettled.choice.outcome(replica_id)
        cost_ms = (unsettled.cost_s + time.thread_time() - started) * 1000
        self._metrics.placed(outcome, reason, cost_ms)

    async def _loads(self, replicas: List[RunningReplica]) -> dict[ReplicaID, ReplicaLoad]:
        """Queue length of every replica still live: Serve's cache, else an awaited probe (a
        replica found dead there is dropped by Serve and left out)."""
        cache = self.replica_queue_len_cache
        known = {r.replica_id: cache.get(r.replica_id) for r in replicas}
        missing = [r for r in replicas if known[r.replica_id] is None]
        if missing:
            for replica, queue_len in await self._probe_queue_lens(missing, 0):
                known[replica.replica_id] = queue_len
        current = self.curr_replicas
        return {
            r.replica_id: ReplicaLoad(known[r.replica_id], r.max_ongoing_requests)
            for r in replicas
            if r.replica_id in current
        }


def _generation_request(pending_request: Optional[PendingRequest]) -> GenerationRequest | None:
    if pending_request is None:
        return None
    return next((arg for arg in pending_request.args if isinstance(arg, GenerationRequest)), None)
