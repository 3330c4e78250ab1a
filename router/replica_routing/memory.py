"""What a Router replica remembers about where conversations went: bounded, least recently used.

`PrefixMemory` maps each block hash (prefix.py) to the replicas that recently served a request
containing that block, most recent first. It is bounded twice: by entries (its own memory, a
few hundred bytes each) and by the characters the blocks stand for (what the replicas' KV
caches would have to hold for the memory to be right). The least recently used blocks go first;
a request's blocks are refreshed deepest first, so a conversation's opening outlives its later
turns and the chain stays matchable from its start.

Replicas that have left are not swept out when they go (that would walk every entry on the
router's event loop): lookups pass over them and say so, and rewriting or evicting an entry
drops them.
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import AbstractSet

from ray.serve.request_router import ReplicaID

from router.replica_routing.prefix import ConversationPrefix


@dataclass(frozen=True, slots=True)
class PrefixMatch:
    holders: tuple[ReplicaID, ...]  # live replicas holding the deepest matched block, recent first
    blocks: int  # how many leading blocks those replicas hold
    chars: int  # the characters of those blocks
    departed: bool  # a deeper match was held only by replicas that are gone


class PrefixMemory:
    def __init__(self, max_entries: int, max_chars: int) -> None:
        self._max_entries = max_entries
        self._max_chars = max_chars
        # block hash → (holders, most recent first; characters of the block)
        self._entries: OrderedDict[int, tuple[tuple[ReplicaID, ...], int]] = OrderedDict()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def chars(self) -> int:
        return self._chars

    def longest_match(self, prefix: ConversationPrefix, live: AbstractSet[ReplicaID]) -> PrefixMatch:
        """The deepest run of the prefix's leading blocks that some live replica holds."""
        entries = self._entries
        depth = 0
        for block in prefix.blocks:
            if block not in entries:
                break
            depth += 1
        departed = False
        for index in range(depth - 1, -1, -1):
            holders = tuple(r for r in entries[prefix.blocks[index]][0] if r in live)
            if holders:
                return PrefixMatch(holders, index + 1, sum(prefix.block_sizes[: index + 1]), departed)
            departed = True
        return PrefixMatch((), 0, 0, departed)

    def remember(self, prefix: ConversationPrefix, replica: ReplicaID, live: AbstractSet[ReplicaID]) -> None:
        """`replica` now holds every block of the prefix; then evict down to the bounds."""
        entries = self._entries
        for block, size in zip(reversed(prefix.blocks), reversed(prefix.block_sizes)):
            entry = entries.get(block)
            if entry is None:
                entries[block] = ((replica,), size)
                self._chars += size
                continue
            if entry[0][0] != replica:
                entries[block] = ((replica, *(r for r in entry[0] if r != replica and r in live)), size)
            entries.move_to_end(block)
        while len(entries) > self._max_entries or self._chars > self._max_chars:
            _, (_, size) = entries.popitem(last=False)
            self._chars -= size


class AdapterMemory:
    """LoRA adapter → the replicas that recently served it, most recent first (LRU-bounded)."""

    def __init__(self, max_adapters: int) -> None:
        self._max_adapters = max_adapters
        self._replicas: OrderedDict[str, tuple[ReplicaID, ...]] = OrderedDict()

    def holders(self, adapter: str, live: AbstractSet[ReplicaID]) -> tuple[ReplicaID, ...]:
        return tuple(r for r in self._replicas.get(adapter, ()) if r in live)

    def remember(self, adapter: str, replica: ReplicaID, live: AbstractSet[ReplicaID]) -> None:
        earlier = self._replicas.pop(adapter, ())
        self._replicas[adapter] = (replica, *(r for r in earlier if r != replica and r in live))
        while len(self._replicas) > self._max_adapters:
            self._replicas.popitem(last=False)
