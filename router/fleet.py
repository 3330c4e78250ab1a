"""What the router knows about the model deployments right now: replicas, health, its own load.

Ray Serve's controller knows how many replicas of each deployment run and whether the deployment
is healthy; the router reads that in the background (`serve.status()`, every `fleet_refresh_s`)
so the request path never waits on the controller. The load is the router's own count of
requests in flight per model, which is exact for this router replica and needs no extra call.
"""

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Awaitable, Callable, Mapping

logger = logging.getLogger("qwen_router.fleet")

_FAILED_STATUSES = frozenset({"UNHEALTHY", "DEPLOY_FAILED"})


@dataclass(frozen=True, slots=True)
class DeploymentState:
    running_replicas: int
    status: str  # Ray Serve's DeploymentStatus: HEALTHY, UPSCALING, UNHEALTHY, ...

    @property
    def failed(self) -> bool:
        """Nothing running and Serve says it is broken: not worth waiting for."""
        return self.running_replicas == 0 and self.status in _FAILED_STATUSES

    @property
    def scaled_to_zero(self) -> bool:
        """At zero replicas by design: Serve reached its target, and the target is zero."""
        return self.running_replicas == 0 and self.status == "HEALTHY"

    @property
    def cold(self) -> bool:
        """No replica to take a request now: it would wait for one to start."""
        return self.running_replicas == 0


StatusReader = Callable[[], Awaitable[Mapping[str, DeploymentState]]]


class Fleet:
    """Deployment states (refreshed in the background) and in-flight counts (kept here).

    Until the first refresh, or for a deployment the controller does not report, `state` is
    None: the router then simply tries the model.
    """

    def __init__(self, read_status: StatusReader, refresh_s: float) -> None:
        self._read_status = read_status
        self._refresh_s = refresh_s
        self._states: Mapping[str, DeploymentState] = {}
        self._in_flight: Counter[str] = Counter()
        self._refresher: asyncio.Task | None = None
        self._refreshed = False

    def state(self, model: str) -> DeploymentState | None:
        self._ensure_refreshing()
        return self._states.get(model)

    def in_flight(self, model: str) -> int:
        return self._in_flight[model]

    def load_per_replica(self, model: str) -> float:
        """Requests this router has in flight per running replica of the model."""
        state = self.state(model)
        return self._in_flight[model] / max(1, state.running_replicas if state else 1)

    def started(self, model: str) -> Callable[[], None]:
        """Count a request as in flight; call the returned function (once) when it is done."""
        self._in_flight[model] += 1
        done = False

        def finished() -> None:
            nonlocal done
            if not done:
                done = True
                self._in_flight[model] -= 1

        return finished

    @property
    def refreshed(self) -> bool:
        return self._refreshed

    async def refresh(self) -> None:
        self._states = await self._read_status()
        self._refreshed = True

    def _ensure_refreshing(self) -> None:
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_forever())

    async def _refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # keep the last known states; the controller may be busy
                logger.warning("could not read deployment states: %r", exc)
            await asyncio.sleep(self._refresh_s)


def serve_status_reader(app_name: str) -> StatusReader:
    """Read the deployments of one application from Ray Serve's status API (off the loop)."""

    def read() -> dict[str, DeploymentState]:
        from ray import serve

        application = serve.status().applications.get(app_name)
        if application is None:
            return {}
        return {
            name: DeploymentState(
                running_replicas=deployment.replica_states.get("RUNNING", 0),
                status=str(getattr(deployment.status, "value", deployment.status)),
            )
            for name, deployment in application.deployments.items()
        }

    async def read_async() -> dict[str, DeploymentState]:
        return await asyncio.to_thread(read)

    return read_async
