"""The application's configuration: validated once, at the edge, then frozen.

`build_app(args)` turns the YAML `args` of a Serve config into an `AppConfig`; nothing downstream
sees a dict. Every model is strict (`extra="forbid"`) so a typo fails at start with the field's
name. This module imports nothing from the project.
"""

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Category = Literal["math", "code", "vision", "reasoning", "general"]
CATEGORIES: tuple[Category, ...] = ("math", "code", "vision", "reasoning", "general")
Modality = Literal["text", "image"]

# The one model name a client may send that is not a served model: "let the router decide".
AUTO_MODEL = "auto"
TINY_PREFIX = "tiny:"
# Tiny random-weight checkpoints built locally (deployments/hf/tiny.py), by architecture.
TINY_ARCHITECTURES: dict[str, tuple[Modality, ...]] = {
    "qwen2": ("text",),
    "qwen3-moe": ("text",),
    "qwen2.5-vl": ("text", "image"),
}
_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
JSONValue = Union[str, int, float, bool, None]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransformersEngineConfig(_Strict):
    """Hugging Face transformers: runs anywhere (CPU or one GPU); the test and demo engine."""

    kind: Literal["transformers"] = "transformers"
    device: str = Field(
        "cpu",
        pattern=r"^(cpu|cuda(:\d+)?|auto)$",
        description="torch device: cpu, cuda, cuda:N, or auto (cuda when available, else cpu).",
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Weight dtype; auto means bfloat16 on CUDA and float32 on CPU."
    )
    max_concurrency: int = Field(
        2, ge=1, le=256, description="Generations running at once in one replica; more wait."
    )
    torch_threads: int | None = Field(
        1, ge=1, description="torch intra-op threads per replica (None: torch's default)."
    )


class VLLMEngineConfig(_Strict):
    """vLLM's AsyncLLM on GPUs (the `vllm` extra)."""

    kind: Literal["vllm"]
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs one replica shards the model over.")
    pipeline_parallel_size: int = Field(1, ge=1, description="Pipeline stages per replica.")
    max_model_len: int | None = Field(
        None, ge=16, description="Context vLLM allocates for; defaults to the model's context_length."
    )
    gpu_memory_utilization: float = Field(
        0.9, gt=0.0, le=1.0, description="Fraction of each GPU's memory vLLM may use."
    )
    dtype: Literal["auto", "float16", "bfloat16", "float32"] = Field("auto", description="Weights dtype.")
    quantization: str | None = Field(None, description="vLLM quantization method, e.g. awq, fp8.")
    kv_cache_dtype: str = Field("auto", description="KV cache dtype, e.g. auto or fp8.")
    enable_prefix_caching: bool = Field(True, description="Reuse KV cache across shared prefixes.")
    max_num_seqs: int | None = Field(None, ge=1, description="Sequences batched at once per replica.")
    max_num_batched_tokens: int | None = Field(None, ge=1, description="Tokens per engine step.")
    limit_mm_per_prompt: dict[str, int] = Field(
        default_factory=dict, description="Most multimodal items per prompt, e.g. {image: 4}."
    )
    enforce_eager: bool = Field(False, description="Disable CUDA graphs (faster start, slower decode).")
    engine_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Passed through to vLLM's AsyncEngineArgs unchanged, for anything not above.",
    )


_ENGINE_TAGS: dict[str, type[BaseModel]] = {
    "transformers": TransformersEngineConfig,
    "vllm": VLLMEngineConfig,
}
EngineConfig = Annotated[
    Union[TransformersEngineConfig, VLLMEngineConfig], Field(discriminator="kind")
]


class ModelConfig(_Strict):
    """One served model; each becomes its own Ray Serve deployment, named after it."""

    name: str = Field(
        ...,
        pattern=_NAME_PATTERN,
        description="Served model name (what clients send as `model`) and the deployment name.",
    )
    source: str = Field(
        ...,
        min_length=1,
        description="Hugging Face hub id, local folder, or tiny:<architecture> for a local "
        f"random-weight checkpoint ({', '.join(TINY_ARCHITECTURES)}).",
    )
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit).")
    engine: EngineConfig = Field(default_factory=TransformersEngineConfig)
    modalities: tuple[Modality, ...] = Field(("text",), min_length=1, description="Input kinds.")
    context_length: int = Field(
        ..., ge=16, description="Tokens the model may see: prompt plus completion."
    )
    thinking: bool = Field(
        False, description="The model writes <think>...</think> (Qwen3): split it out as reasoning."
    )
    chat_template_kwargs: dict[str, JSONValue] = Field(
        default_factory=dict, description="Defaults passed to the chat template."
    )
    stream_interval_ms: float = Field(
        20.0,
        ge=0.0,
        description="Streamed text is coalesced for up to this long per chunk (0: every token).",
    )

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name == AUTO_MODEL:
            raise ValueError(f"{AUTO_MODEL!r} is reserved for automatic routing; pick another name")
        return name

    @field_validator("source")
    @classmethod
    def _known_tiny_architecture(cls, source: str) -> str:
        if source.startswith(TINY_PREFIX) and source[len(TINY_PREFIX) :] not in TINY_ARCHITECTURES:
            allowed = ", ".join(TINY_PREFIX + arch for arch in TINY_ARCHITECTURES)
            raise ValueError(f"unknown tiny checkpoint {source!r}; allowed: {allowed}")
        return source

    @model_validator(mode="after")
    def _tiny_modalities_match(self) -> "ModelConfig":
        if self.tiny_architecture is not None:
            supported = TINY_ARCHITECTURES[self.tiny_architecture]
            extra = [m for m in self.modalities if m not in supported]
            if extra:
                raise ValueError(
                    f"modalities: {self.source} accepts {list(supported)}, not {extra}"
                )
        return self

    @property
    def tiny_architecture(self) -> str | None:
        if self.source.startswith(TINY_PREFIX):
            return self.source[len(TINY_PREFIX) :]
        return None

    @property
    def accepts_images(self) -> bool:
        return "image" in self.modalities


class GenerationDefaults(_Strict):
    """Generation settings a route applies unless the request sets them itself."""

    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    chat_template_kwargs: dict[str, JSONValue] = Field(
        default_factory=dict, description="e.g. {enable_thinking: true} for the reasoning route."
    )


class RouteConfig(_Strict):
    model: str = Field(..., description="Name of the model this category goes to.")
    fallbacks: tuple[str, ...] = Field(
        (), description="Models tried in order when `model` cannot take the request."
    )
    defaults: GenerationDefaults = Field(default_factory=GenerationDefaults)


class ImageConfig(_Strict):
    """How images in requests are fetched and bounded (decoded on the model replica)."""

    allow_remote_urls: bool = Field(
        False, description="Fetch http(s) image URLs; off by default, data: URLs always work."
    )
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest encoded image.")
    max_pixels: int = Field(
        12_845_056, ge=64, description="Largest decoded image (width × height); bombs are refused."
    )
    max_images_per_request: int = Field(4, ge=1)
    fetch_timeout_s: float = Field(5.0, gt=0.0, description="Time limit for one remote image.")


class RouterConfig(_Strict):
    classify_context_turns: int = Field(
        2, ge=0, description="Earlier user turns the classifier looks at besides the latest."
    )
    health_timeout_s: float = Field(
        2.0, gt=0.0, description="How long /readyz waits for each model deployment."
    )


class AppConfig(_Strict):
    models: tuple[ModelConfig, ...] = Field(..., min_length=1)
    routes: dict[Category, RouteConfig] = Field(
        ..., description="Where each category goes; every category needs a route."
    )
    router: RouterConfig = Field(default_factory=RouterConfig)
    images: ImageConfig = Field(default_factory=ImageConfig)
    cache_dir: str = Field(
        "~/.cache/qwen-router", description="Where tiny checkpoints are built and kept."
    )

    @model_validator(mode="after")
    def _consistent(self) -> "AppConfig":
        names = [m.name for m in self.models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"models: names must be unique, {duplicates} appear more than once")
        missing = [c for c in CATEGORIES if c not in self.routes]
        if missing:
            raise ValueError(f"routes: every category needs a route; missing {missing}")
        by_name = {m.name: m for m in self.models}
        for category, route in self.routes.items():
            for field, model in [("model", route.model)] + [
                (f"fallbacks[{i}]", f) for i, f in enumerate(route.fallbacks)
            ]:
                if model not in by_name:
                    raise ValueError(
                        f"routes.{category}.{field}: unknown model {model!r}; "
                        f"configured models: {names}"
                    )
                if category == "vision" and not by_name[model].accepts_images:
                    image_models = [m.name for m in self.models if m.accepts_images]
                    raise ValueError(
                        f"routes.vision.{field}: model {model!r} does not accept images "
                        f"(modalities {list(by_name[model].modalities)}); "
                        f"models that do: {image_models}"
                    )
        return self

    def model(self, name: str) -> ModelConfig:
        return next(m for m in self.models if m.name == name)

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir).expanduser()


def format_validation_error(error: Exception, prefix: str = "") -> list[str]:
    """One line per problem: the field path (under `prefix`), the bad value and what is allowed."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return [_anchored(prefix, "", str(error))]
    return [_anchored(prefix, *_describe(item)) for item in error.errors()]


def _anchored(prefix: str, path: str, problem: str) -> str:
    """`prefix.path: problem`, where validators may start `problem` with a relative field."""
    relative = re.match(r"^([\w.\[\]]+): (.*)$", problem, re.DOTALL)
    if relative and not path.endswith(relative.group(1)):
        path, problem = ".".join(p for p in (path, relative.group(1)) if p), relative.group(2)
    where = ".".join(p for p in (prefix, path) if p)
    return f"{where}: {problem}" if where else problem


def _describe(item: Any) -> tuple[str, str]:
    loc = tuple(part for part in item["loc"] if part != "[key]")
    path = field_path(loc)
    message = item["msg"].removeprefix("Value error, ")
    kind = item["type"]
    if kind == "extra_forbidden":
        return path, f"unknown field; allowed fields: {_allowed_fields(loc[:-1])}"
    if kind == "missing":
        return path, "required field is missing"
    got = item.get("input")
    if kind == "value_error" or isinstance(got, (dict, list, tuple)):
        return path, message
    return path, f"{message} (got {got!r})"


def field_path(loc: tuple) -> str:
    """A pydantic error location as users write it: ("models", 0, "name") → models[0].name."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _ENGINE_TAGS and out.endswith("engine"):
            continue  # pydantic's discriminator tag, not a field the user wrote
        else:
            out += ("." if out else "") + str(part)
    return out


def _allowed_fields(loc: tuple) -> list[str]:
    model: Any = AppConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        if part in _ENGINE_TAGS:
            model = _ENGINE_TAGS[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            continue  # a dict key such as a route's category, not a field
        model = _model_type(field.annotation)
    return sorted(getattr(model, "model_fields", {}))


def _model_type(annotation: Any) -> Any:
    """The BaseModel inside an annotation such as tuple[ModelConfig, ...] or dict[str, Route]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_type(arg)
        if found is not None:
            return found
    return None
