"""ModelServer: the Ray Serve deployment that hosts one model behind one engine.

The builder creates one deployment of this class per configured model, named after the model,
so operators tune each specialist under its own name in `applications[].deployments[]`.
Everything an engine emits passes through here once: thinking is split from the answer and
deltas are coalesced, so one Ray item carries several tokens instead of one. Each item costs the
replica, the Router and the proxy about a millisecond of CPU in Ray, whatever it carries, so the
interval widens with the streams a replica has open (`StreamPacing`): the replica's chunk rate
stays bounded under load instead of growing with it.
"""

import dataclasses
import time
from pathlib import Path
from typing import AsyncIterator, Callable

from ray import serve

from deployments.engine import Engine, EngineDelta
from deployments.registry import engine_class
from deployments.thinking import ThinkingSplitter
from deployments.tracing import GenerationSpan
from deployments.types import GenerationChunk, GenerationRequest, ModelInfo
from serve_app import telemetry
from serve_app.config import ImageConfig, ModelConfig, TelemetryConfig


@serve.deployment(
    max_ongoing_requests=8,
    health_check_period_s=10,
    graceful_shutdown_timeout_s=30,
)
class ModelServer:
    async def __init__(
        self, model: ModelConfig, images: ImageConfig, cache_dir: str, telemetry_config: TelemetryConfig
    ) -> None:
        telemetry.setup(telemetry_config)
        self._model = model
        context = serve.get_replica_context()
        self._deployment = context.deployment
        self._replica = f"{context.deployment}#{context.replica_id.unique_id}"
        self._engine: Engine = engine_class(model.engine.kind)(model, images, Path(cache_dir))
        self._pacing = StreamPacing(model.stream_interval_ms / 1000, model.stream_chunks_per_s)
        await self._engine.start()

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        """Stream the completion; typed errors are raised before the first chunk."""
        span = GenerationSpan(request, self._deployment, self._replica)
        deltas = self._engine.generate(request)
        chunks = coalesce(deltas, split_thinking=self._model.thinking, interval_s=self._pacing.interval_s)
        self._pacing.opened()
        try:
            first = True
            async for chunk in chunks:
                span.chunk(chunk)
                yield dataclasses.replace(chunk, replica=self._replica) if first else chunk
                first = False
        except Exception as exc:
            span.failed(exc)
            raise
        finally:  # also when the caller went away: stop the engine's work at once
            self._pacing.closed()
            span.end()
            await chunks.aclose()  # type: ignore[attr-defined]
            await deltas.aclose()  # type: ignore[attr-defined]

    async def info(self) -> ModelInfo:
        """Answers once the engine is loaded; the router's /readyz and /v1/models ask this."""
        await self._engine.check_health()
        return ModelInfo(
            name=self._model.name,
            source=self._model.source,
            engine=self._model.engine.kind,
            modalities=self._model.modalities,
            context_length=self._model.context_length,
        )

    async def active_generations(self) -> int:
        """Generations the engine still runs: shows that a client's disconnect freed its slot."""
        return self._engine.active_generations()

    async def check_health(self) -> None:
        """Ray Serve's periodic health check: a failing engine gets the replica replaced."""
        await self._engine.check_health()

    async def __del__(self) -> None:
        await self._engine.shutdown()


class StreamPacing:
    """The coalescing interval of one replica's streams: `base_s`, or wider once the replica has more
    open streams than `chunks_per_s × base_s`, so that all of them together send at most
    `chunks_per_s` chunks a second."""

    def __init__(self, base_s: float, chunks_per_s: float) -> None:
        self._base_s = base_s
        self._chunks_per_s = chunks_per_s
        self._open = 0

    def opened(self) -> None:
        self._open += 1

    def closed(self) -> None:
        self._open -= 1

    def interval_s(self) -> float:
        return max(self._base_s, self._open / self._chunks_per_s)


async def coalesce(
    deltas: AsyncIterator[EngineDelta], *, split_thinking: bool, interval_s: Callable[[], float]
) -> AsyncIterator[GenerationChunk]:
    """Engine deltas → wire chunks: at most one chunk per `interval_s()`, except the first and last.

    The first text goes out at once (time to first token); the last chunk carries the finish
    reason and usage along with any text still pending.
    """
    splitter = ThinkingSplitter() if split_thinking else None
    content: list[str] = []
    reasoning: list[str] = []
    last_sent = float("-inf")
    async for delta in deltas:
        new_reasoning, new_content = splitter.feed(delta.text) if splitter else ("", delta.text)
        reasoning.append(new_reasoning)
        content.append(new_content)
        if delta.finish_reason is not None:
            if splitter:
                tail_reasoning, tail_content = splitter.flush()
                reasoning.append(tail_reasoning)
                content.append(tail_content)
            yield GenerationChunk(
                content="".join(content),
                reasoning="".join(reasoning),
                finish_reason=delta.finish_reason,
                usage=delta.usage,
            )
            return
        now = time.monotonic()
        if (new_reasoning or new_content) and now - last_sent >= interval_s():
            yield GenerationChunk(content="".join(content), reasoning="".join(reasoning))
            content.clear()
            reasoning.clear()
            last_sent = now
