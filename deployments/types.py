"""The contract between the router and the model servers.

Small, immutable, serializable values that cross the Ray hop. OpenAI wire types never get
this far: the router converts them in one place (router/convert.py), so a model server knows
nothing about HTTP and an engine knows nothing about OpenAI.
"""

from dataclasses import dataclass, field
from typing import Literal, Mapping, Union

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "abort"]

JSONScalar = Union[str, int, float, bool, None]
# Image URLs up to this long stand for themselves in a request's `prompt_segments`.
_REFERENCE_CHARS = 256


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image by URL: a `data:` URL, or http(s) when the config allows remote images."""

    url: str


ContentPart = Union[TextPart, ImagePart]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    parts: tuple[ContentPart, ...]

    @property
    def text(self) -> str:
        """The message's text parts joined, images left out."""
        return "\n".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        return tuple(p for p in self.parts if isinstance(p, ImagePart))


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """Sampling as the engine applies it. `temperature == 0` means greedy decoding.

    `max_tokens=None` lets the engine use whatever the context window leaves.
    """

    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    request_id: str
    messages: tuple[Message, ...]
    sampling: SamplingParams = field(default_factory=SamplingParams)
    # Passed to the chat template, e.g. {"enable_thinking": False} for Qwen3.
    chat_template_kwargs: Mapping[str, JSONScalar] = field(default_factory=dict)
    # LoRA adapter of the model to generate with (a name from the model's config); None: base.
    adapter: str | None = None
    # W3C trace context (`traceparent`, `tracestate`) of the router's dispatch span, so the
    # model's span joins the request's trace across the Ray hop.
    trace_context: Mapping[str, str] = field(default_factory=dict)

    @property
    def images(self) -> tuple[ImagePart, ...]:
        return tuple(image for message in self.messages for image in message.images)

    @property
    def prompt_segments(self) -> tuple[str, ...]:
        """The conversation as a prefix-cache router reads it: one string per message, in order,
        its role, text and images (as short references). The engine renders its prompt from the
        same messages one after another, so a request that repeats another's messages and adds
        turns shares that request's prompt prefix. A view for request routers, never sent."""
        return tuple(_prompt_segment(message) for message in self.messages)

    @property
    def prompt_text(self) -> str:
        """`prompt_segments` joined: the conversation as one string, for routers that match
        characters (Ray Serve LLM's `PrefixCacheAffinityRouter`)."""
        return "".join(self.prompt_segments)


def _prompt_segment(message: Message) -> str:
    """Role markers around each message, so that no two different messages read the same."""
    parts = (p.text if isinstance(p, TextPart) else f"<image {_image_reference(p.url)}>" for p in message.parts)
    return f"<|{message.role}|>" + "\n".join(parts) + "<|end|>"


def _image_reference(url: str) -> str:
    """A short stand-in that differs between images: a short URL itself, else its length and
    samples of its head, middle and tail (the base64 of two images differs within any few dozen
    characters). Reading all of a multi-megabyte `data:` URL would cost more than a routing
    decision may; a rare collision costs one cache miss, never a wrong answer."""
    if len(url) <= _REFERENCE_CHARS:
        return url
    middle = len(url) // 2
    return f"{len(url)}:{url[:64]}|{url[middle:middle + 64]}|{url[-64:]}"


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class GenerationChunk:
    """One streamed piece of a generation, already split into answer and thinking text.

    The first chunk of a stream names the replica that serves it; the last carries
    `finish_reason` and `usage`.
    """

    content: str = ""
    reasoning: str = ""
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    replica: str | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a model server reports about itself (readiness, /v1/models)."""

    name: str
    source: str
    engine: str
    modalities: tuple[str, ...]
    context_length: int
