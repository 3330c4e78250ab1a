"""Starting a transformers engine on a tiny checkpoint and driving it, shared by the engine tests."""

import asyncio
from pathlib import Path

from deployments.engine import EngineDelta
from deployments.transformers_engine import TransformersEngine
from deployments.types import GenerationRequest, ImagePart, Message, SamplingParams, TextPart
from serve_app.config import ImageConfig, ModelConfig, TransformersEngineConfig


def start_engine(
    tiny_checkpoints: dict[str, Path], architecture: str = "qwen2", *, context_length: int, **engine: object
) -> TransformersEngine:
    """A started engine for one tiny architecture; `engine` holds `TransformersEngineConfig` fields."""
    model = ModelConfig(
        name="m",
        source=str(tiny_checkpoints[architecture]),
        modalities=("text", "image") if architecture == "qwen2.5-vl" else ("text",),
        context_length=context_length,
        engine=TransformersEngineConfig(**engine),
    )
    started = TransformersEngine(model, ImageConfig(), Path("/nonexistent-cache"))
    asyncio.run(started.start())
    return started


def user_request(text: str = "Hello there", *, images: tuple[str, ...] = (), **sampling: object) -> GenerationRequest:
    """One user turn: the images' URLs, then the text."""
    parts = tuple(ImagePart(url) for url in images) + (TextPart(text),)
    return GenerationRequest("req", (Message("user", parts),), SamplingParams(**sampling))


async def collect_deltas(engine: TransformersEngine, generation: GenerationRequest) -> list[EngineDelta]:
    return [delta async for delta in engine.generate(generation)]


def joined_text(deltas: list[EngineDelta]) -> str:
    return "".join(d.text for d in deltas)
