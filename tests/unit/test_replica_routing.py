"""The conversation router on Serve's real `RequestRouter` machinery, with replicas faked.

Each request goes through Serve's own routing loop (fake_replicas.place); assertions are about
where it went and what was counted, for follow-ups, shared prompts, load, dead replicas and
adapters, and about the memory's bounds.
"""

import asyncio
from typing import Any

import pytest
from ray.serve._private.common import DeploymentHandleSource

from deployments.types import GenerationRequest, ImagePart, Message, TextPart
from router.replica_routing.conversation_router import ConversationAffinityRouter
from router.replica_routing.memory import PrefixMemory
from router.replica_routing.prefix import conversation_prefix
from router.replica_routing.settings import AffinitySettings

from fake_metrics import FakeMetrics
from fake_replicas import DEPLOYMENT, FakeReplica, pending, place

SYSTEM = "You are a careful math tutor. " * 40  # about 1,200 characters, shared by every chat


def turn(conversation: int, turns: int, *, system: str = SYSTEM, adapter: str | None = None) -> GenerationRequest:
    """Turn `turns` of a conversation: the system prompt, then every earlier exchange."""
    messages = [Message("system", (TextPart(system),))]
    for index in range(turns):
        messages.append(Message("user", (TextPart(f"chat {conversation}, question {index}: what is {index} + {conversation}?"),)))
        if index < turns - 1:
            messages.append(Message("assistant", (TextPart(f"answer {index} of chat {conversation}"),)))
    return GenerationRequest(f"req-{conversation}-{turns}", tuple(messages), adapter=adapter)


class Recorded(ConversationAffinityRouter):
    metric_factory = FakeMetrics()


def make_router(replicas: list[FakeReplica], **settings: Any) -> Recorded:
    Recorded.metric_factory = FakeMetrics()
    router = Recorded(
        deployment_id=DEPLOYMENT,
        handle_source=DeploymentHandleSource.UNKNOWN,
        use_replica_queue_len_cache=True,
    )
    router.initialize_state(**settings)
    router.update_replicas(replicas)
    return router


def counted(outcome: str, reason: str = "none") -> int:
    return int(Recorded.metric_factory["qwen_router_replica_choices_total"].total(outcome=outcome, reason=reason))


def run(scenario) -> Any:
    return asyncio.run(scenario())


# ---- what is matched ----------------------------------------------------------------------

def test_a_follow_up_starts_with_every_block_of_the_turn_before_it():
    first, second = conversation_prefix(turn(1, 1), 256), conversation_prefix(turn(1, 2), 256)
    assert second.blocks[: len(first.blocks)] == first.blocks and len(second.blocks) > len(first.blocks)
    assert first.opening_blocks == len(first.blocks) == second.opening_blocks
    other = conversation_prefix(turn(2, 1), 256)
    shared = sum(1 for a, b in zip(first.blocks, other.blocks) if a == b)
    assert 0 < shared < len(first.blocks)  # the system prompt, not the question
    assert sum(first.block_sizes) == len(turn(1, 1).prompt_text)


def test_an_adapter_has_a_cache_of_its_own_and_images_count():
    base, sql = conversation_prefix(turn(1, 1), 256), conversation_prefix(turn(1, 1, adapter="sql"), 256)
    assert not set(base.blocks) & set(sql.blocks)
    assert base.home_key != sql.home_key

    def with_image(data: str) -> GenerationRequest:
        parts = (TextPart("what is this?"), ImagePart("data:image/png;base64," + data))
        return GenerationRequest("r", (Message("user", parts),))

    one, two = with_image("A" * 5000 + "B" * 100), with_image("A" * 5000 + "C" * 100)
    assert one.prompt_text != two.prompt_text and len(one.prompt_text) < 500


# ---- placement ----------------------------------------------------------------------------

def test_follow_ups_stay_on_the_replica_of_the_first_turn_and_both_replicas_start_chats():
    async def scenario():
        router = make_router([FakeReplica("r1"), FakeReplica("r2")])
        placements = {}
        for conversation in range(20):
            placements[conversation] = [await place(router, turn(conversation, t)) for t in (1, 2, 3)]
        return placements

    placements = run(scenario)
    assert all(len(set(turns)) == 1 for turns in placements.values()), placements
    starts = [turns[0].unique_id for turns in placements.values()]
    assert min(starts.count("r1"), starts.count("r2")) >= 5, starts  # the shared prompt pulls none
    assert counted("new") == 20 and counted("hit") == 40


def test_every_router_replica_sends_a_conversation_to_the_same_home():
    async def scenario():
        replicas = [FakeReplica("r1"), FakeReplica("r2"), FakeReplica("r3")]
        first, second = make_router(replicas), make_router(replicas)  # each with its own memory
        return [[await place((first, second)[t % 2], turn(c, t)) for t in (1, 2, 3, 4)] for c in range(12)]

    assert all(len(set(turns)) == 1 for turns in run(scenario))


def test_an_imbalanced_preferred_replica_is_passed_over_beyond_the_margin_only():
    async def scenario():
        r1, r2 = FakeReplica("r1"), FakeReplica("r2")
        router = make_router([r1, r2], max_queue_imbalance=4)
        home = await place(router, turn(7, 1))
        busy, idle = (r1, r2) if home == r1.replica_id else (r2, r1)
        router.on_new_queue_len_info(busy.replica_id, 4)  # what the replica last reported
        router.on_new_queue_len_info(idle.replica_id, 0)
        within = await place(router, turn(7, 2))
        router.on_new_queue_len_info(busy.replica_id, 6)
        router.on_new_queue_len_info(idle.replica_id, 0)
        beyond = await place(router, turn(7, 3))
        router.on_new_queue_len_info(busy.replica_id, 0)
        router.on_new_queue_len_info(idle.replica_id, 0)
        after = await place(router, turn(7, 4))
        return busy.replica_id, idle.replica_id, within, beyond, after

    busy, idle, within, beyond, after = run(scenario)
    assert within == busy and beyond == idle
    assert after == idle  # the conversation's latest turns now live there
    assert counted("fallback", "imbalance") == 1 and counted("hit") == 2


def test_a_full_preferred_replica_sends_the_request_elsewhere():
    async def scenario():
        r1, r2 = FakeReplica("r1", max_ongoing=2), FakeReplica("r2", max_ongoing=2)
        router = make_router([r1, r2], max_queue_imbalance=10)
        home = await place(router, turn(3, 1))
        router.on_new_queue_len_info(home, 2)
        other = r2.replica_id if home == r1.replica_id else r1.replica_id
        router.on_new_queue_len_info(other, 1)
        return home, await place(router, turn(3, 2))

    home, second = run(scenario)
    assert second != home and counted("fallback", "busy") == 1


def test_conversations_of_a_replica_that_left_continue_on_the_others_and_stay_there():
    async def scenario():
        replicas = {name: FakeReplica(name) for name in ("r1", "r2", "r3")}
        router = make_router(list(replicas.values()))
        first = {c: await place(router, turn(c, 1)) for c in range(12)}
        gone = max(("r1", "r2", "r3"), key=lambda n: sum(r.unique_id == n for r in first.values()))
        router.update_replicas([r for name, r in replicas.items() if name != gone])  # Serve's update
        later = {c: [await place(router, turn(c, t)) for t in (2, 3)] for c in range(12)}
        return first, later, gone

    first, later, gone = run(scenario)
    moved = [c for c, replica in first.items() if replica.unique_id == gone]
    assert moved
    for conversation, (second, third) in later.items():
        assert second.unique_id != gone and second == third
        if conversation not in moved:
            assert second == first[conversation]  # only the departed replica's chats move
    assert counted("fallback", "replica_gone") == len(moved)


def test_a_replica_found_dead_by_its_probe_is_dropped_and_the_request_goes_on():
    async def scenario():
        r1, r2 = FakeReplica("r1"), FakeReplica("r2")
        router = make_router([r1, r2])
        home = await place(router, turn(5, 1))
        dead, alive = (r1, r2) if home == r1.replica_id else (r2, r1)
        dead.dead = True
        router.on_replica_actor_unavailable(dead.replica_id)  # its cached queue length is dropped
        return alive.replica_id, await place(router, turn(5, 2)), set(router.curr_replicas)

    alive, second, left = run(scenario)
    assert second == alive and left == {alive}


def test_a_new_conversation_with_an_adapter_goes_where_the_adapter_was_served():
    async def scenario():
        router = make_router([FakeReplica("r1"), FakeReplica("r2")])
        served = await place(router, turn(0, 1, adapter="sql"))
        # New conversations whose home is the other replica still go where `sql` was served.
        placed = [await place(router, turn(c, 1, system=f"prompt {c}", adapter="sql")) for c in range(1, 9)]
        plain = [await place(router, turn(c, 1, system=f"prompt {c}")) for c in range(1, 9)]
        return served, placed, plain

    served, placed, plain = run(scenario)
    assert set(placed) == {served}
    assert len(set(plain)) == 2  # without the adapter the same chats spread
    assert counted("adapter") == 8


def test_least_loaded_placement_of_new_conversations():
    async def scenario():
        r1, r2 = FakeReplica("r1"), FakeReplica("r2")
        router = make_router([r1, r2], new_conversations="least_loaded")
        router.on_new_queue_len_info(r1.replica_id, 3)
        router.on_new_queue_len_info(r2.replica_id, 1)
        return r2.replica_id, [await place(router, turn(c, 1), finish=False) for c in range(2)]

    shortest, placed = run(scenario)
    assert placed == [shortest, shortest]  # r2 at 1, then 2: still below r1's 3


def test_calls_without_a_generation_request_get_two_replicas_and_leave_no_trace():
    async def scenario():
        router = make_router([FakeReplica(f"r{i}") for i in range(4)])
        ranks = await router.choose_replicas(list(router.curr_replicas.values()), pending())
        return ranks, len(router._prefixes)

    ranks, remembered = run(scenario)
    assert len(ranks) == 1 and len(ranks[0]) == 2 and remembered == 0


def test_each_placement_records_its_cpu_cost():
    async def scenario():
        router = make_router([FakeReplica("r1"), FakeReplica("r2")])
        for conversation in range(5):
            await place(router, turn(conversation, 1))

    run(scenario)
    cost = Recorded.metric_factory["qwen_router_replica_choice_ms"]
    assert cost.count(model=DEPLOYMENT.name) == 5
    assert 0 < cost.total(model=DEPLOYMENT.name) / 5 < 50  # generous: a shared 2-core machine


# ---- memory bounds ------------------------------------------------------------------------

@pytest.mark.parametrize("bounds", [{"max_entries": 40}, {"max_chars": 6_000}])
def test_memory_stays_within_its_bounds_and_forgets_the_least_recently_used(bounds):
    settings = AffinitySettings(**bounds)
    memory = PrefixMemory(settings.max_entries, settings.max_chars)
    replicas = [FakeReplica(f"r{i}").replica_id for i in range(2)]
    live = set(replicas)
    prefixes = [conversation_prefix(turn(c, 1, system=f"system prompt {c} " * 30), settings.block_chars) for c in range(30)]
    for index, prefix in enumerate(prefixes):
        memory.remember(prefix, replicas[index % 2], live)
        assert len(memory) <= settings.max_entries and memory.chars <= settings.max_chars
    newest, oldest = prefixes[-1], prefixes[0]
    assert memory.longest_match(newest, live).blocks == len(newest.blocks)
    assert memory.longest_match(oldest, live).blocks == 0
    assert memory.chars == sum(
        size for prefix in prefixes for block, size in zip(prefix.blocks, prefix.block_sizes)
        if block in memory._entries
    )


def test_settings_name_the_bad_field():
    with pytest.raises(ValueError, match="max_queue_imbalance"):
        AffinitySettings(max_queue_imbalance=-1)
    with pytest.raises(ValueError, match="new_conversations"):
        AffinitySettings(new_conversations="random")
