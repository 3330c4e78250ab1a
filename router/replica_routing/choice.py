"""The decision for one request: which replica it should go to, and whether load overrules that.

1. Where the conversation is: the live replicas holding the longest run of its leading blocks,
   if that run covers the conversation's opening (its system prompt and first user turn). A
   shorter match is context other conversations share (a common system prompt), which every
   replica soon holds; it does not name this conversation's replica.
2. Else, for a LoRA adapter, the replicas that recently served it.
3. Else the conversation is new here: its home, the live replica that its opening hashes
   highest with (rendezvous hashing), so every Router replica agrees without asking each other
   and a departing replica moves only its own conversations; or, with `least_loaded`, the
   replica with the shortest queue.

Load then has the last word: the preferred replica is passed over, and the least-loaded ones
tried first, when its queue is longer than the shortest by more than `max_queue_imbalance`,
when it is at `max_ongoing_requests`, or when its queue length cannot be read (unreachable).
Pure: no Ray calls, no clock.
"""

import hashlib
from dataclasses import dataclass
from typing import AbstractSet, Literal, Mapping

from ray.serve.request_router import ReplicaID

from router.replica_routing.memory import AdapterMemory, PrefixMemory
from router.replica_routing.prefix import ConversationPrefix
from router.replica_routing.settings import AffinitySettings

# hit: to the replica holding the conversation; adapter: to one that served its adapter;
# new: to its home (nothing known here); fallback: elsewhere, for `Reason`.
Outcome = Literal["hit", "adapter", "new", "fallback"]
Reason = Literal["none", "imbalance", "busy", "unavailable", "replica_gone"]


@dataclass(frozen=True, slots=True)
class Preference:
    """Where memory says the request should go, before load is looked at."""

    replicas: tuple[ReplicaID, ...]
    outcome: Outcome
    departed: bool  # the conversation was on a replica that is gone


@dataclass(frozen=True, slots=True)
class ReplicaLoad:
    queue_len: int | None  # requests on the replica as Serve last saw; None: unreachable
    max_ongoing: int


@dataclass(frozen=True, slots=True)
class Choice:
    preferred: ReplicaID
    preference: Outcome  # why it is preferred: hit, adapter or new
    reason: Reason  # why it may be passed over; none: it is tried first
    ranks: tuple[tuple[ReplicaID, ...], ...]  # tried in order; Serve takes the shortest queue in a rank

    def outcome(self, routed: ReplicaID) -> tuple[Outcome, Reason]:
        """What happened, once Serve has placed the request on `routed`: the preference held,
        or a fallback and why (a preferred replica that refused the request was busy)."""
        if self.reason == "replica_gone":
            return "fallback", "replica_gone"
        if routed == self.preferred:
            return self.preference, "none"
        return "fallback", "busy" if self.reason == "none" else self.reason


def prefer(
    prefix: ConversationPrefix,
    adapter: str | None,
    live: AbstractSet[ReplicaID],
    prefixes: PrefixMemory,
    adapters: AdapterMemory,
) -> Preference:
    match = prefixes.longest_match(prefix, live)
    if match.holders and match.blocks >= prefix.opening_blocks:
        return Preference(match.holders, "hit", False)
    if adapter is not None:
        served = adapters.holders(adapter, live)
        if served:
            return Preference(served, "adapter", match.departed)
    return Preference(tuple(live), "new", match.departed)


def choose(
    preference: Preference,
    home_key: bytes,
    loads: Mapping[ReplicaID, ReplicaLoad],
    settings: AffinitySettings,
) -> Choice:
    """`loads` has every live replica; the preference's replicas are among them."""
    if preference.outcome == "new" and settings.new_conversations == "least_loaded":
        preferred = min(preference.replicas, key=lambda r: (_queue(loads[r]), -_rendezvous(home_key, r)))
    else:
        preferred = max(preference.replicas, key=lambda r: _rendezvous(home_key, r))
    others = tuple(r for r in loads if r != preferred)
    load = loads[preferred]
    known = [entry.queue_len for entry in loads.values() if entry.queue_len is not None]
    reason: Reason = "replica_gone" if preference.departed else "none"
    if load.queue_len is None:
        reason = "unavailable"
    elif load.queue_len >= load.max_ongoing:
        reason = "busy"
    elif load.queue_len - min(known) > settings.max_queue_imbalance:
        reason = "imbalance"
    if reason in ("unavailable", "busy", "imbalance") and others:
        return Choice(preferred, preference.outcome, reason, (others, (preferred,)))
    return Choice(preferred, preference.outcome, reason, ((preferred,), others) if others else ((preferred,),))


def _rendezvous(home_key: bytes, replica: ReplicaID) -> int:
    digest = hashlib.blake2b(home_key + replica.unique_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _queue(load: ReplicaLoad) -> float:
    return load.queue_len if load.queue_len is not None else float("inf")
