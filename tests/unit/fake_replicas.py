"""Serve's `RunningReplica` without an actor, and a request placed the way Serve places it.

`FakeReplica` keeps Serve's interface (replica id, capacity, `get_queue_len`); a test sets its
queue length or kills it. `place` runs one request through Serve's own routing loop
(`_choose_replica_for_request`: ranks, probes, backoff), reports the placement back as Serve's
router does once the replica has accepted the request, and by default lets it finish.
"""

import uuid

from ray.exceptions import ActorDiedError
from ray.serve._private.common import DeploymentID, RequestMetadata
from ray.serve.request_router import PendingRequest, ReplicaID, RequestRouter, RunningReplica

MODEL = "qwen2.5-math"
DEPLOYMENT = DeploymentID(name=MODEL, app_name="qwen-router")


class FakeReplica(RunningReplica):
    def __init__(self, unique_id: str, *, queue_len: int = 0, max_ongoing: int = 8) -> None:
        self._id = ReplicaID(unique_id, DEPLOYMENT)
        self.queue_len = queue_len
        self._max_ongoing = max_ongoing
        self.dead = False
        self.probes = 0

    @property
    def replica_id(self) -> ReplicaID:
        return self._id

    @property
    def max_ongoing_requests(self) -> int:
        return self._max_ongoing

    @property
    def multiplexed_model_ids(self) -> set[str]:
        return set()

    async def get_queue_len(self, *, deadline_s: float) -> int:
        self.probes += 1
        if self.dead:
            raise ActorDiedError()
        return self.queue_len


def pending(*args: object) -> PendingRequest:
    request_id = uuid.uuid4().hex
    return PendingRequest(args=list(args), kwargs={}, metadata=RequestMetadata(request_id, request_id, "generate"))


async def place(router: RequestRouter, *args: object, finish: bool = True) -> ReplicaID:
    """Where Serve puts a request: its routing loop picks, the replica takes it (queue + 1), and
    unless `finish` is false the request is done at once (queue - 1)."""
    request = pending(*args)
    replica = await router._choose_replica_for_request(request)
    router.on_send_request(replica.replica_id)
    router.on_request_routed(request, replica.replica_id, None)
    if finish:
        router.decrement_queue_len_cache(replica.replica_id)
    return replica.replica_id
