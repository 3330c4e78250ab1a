"""The one interface every inference engine implements.

A model server owns exactly one engine. Engines turn a `GenerationRequest` into raw text
deltas; splitting thinking from the answer and coalescing deltas for the wire happen above them,
once, for every engine (deployments/model_server.py).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import AsyncIterator

from deployments.types import FinishReason, GenerationRequest, Usage


@dataclass(frozen=True, slots=True)
class EngineDelta:
    """Newly generated text. The last delta of a generation has `finish_reason` and `usage`."""

    text: str
    finish_reason: FinishReason | None = None
    usage: Usage | None = None


class Engine(ABC):
    @abstractmethod
    async def start(self) -> None:
        """Load weights and tokenizer; called once before the first request."""

    @abstractmethod
    def generate(self, request: GenerationRequest) -> AsyncIterator[EngineDelta]:
        """Stream the completion of `request`.

        Raises `InvalidRequestError` (bad image, prompt too long) before yielding anything.
        Closing the iterator early aborts the generation and frees its slot.
        """

    @abstractmethod
    def active_generations(self) -> int:
        """Generations holding engine resources now; 0 once every client that left is cleaned up."""

    @abstractmethod
    async def check_health(self) -> None:
        """Raise if the engine can no longer serve."""

    @abstractmethod
    async def shutdown(self) -> None:
        """Release devices and threads."""
