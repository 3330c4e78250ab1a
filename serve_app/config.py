"""The application's configuration: validated once, at the edge, then frozen.

`build_app(args)` turns the YAML `args` of a Serve config into an `AppConfig`; nothing downstream
sees a dict. Every model is strict (`extra="forbid"`) so a typo fails at start with the field's
name. This module imports nothing from the project.
"""

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Category = Literal["math", "code", "vision", "reasoning", "general"]
CATEGORIES: tuple[Category, ...] = ("math", "code", "vision", "reasoning", "general")
Modality = Literal["text", "image"]

# The one model name a client may send that is not a served model: "let the router decide".
AUTO_MODEL = "auto"
# Clients select a LoRA adapter as `<model>:<adapter>`; neither name may contain it.
ADAPTER_SEPARATOR = ":"
TINY_PREFIX = "tiny:"
# Tiny random-weight checkpoints built locally (deployments/hf/tiny.py), by architecture.
TINY_ARCHITECTURES: dict[str, tuple[Modality, ...]] = {
    "qwen2": ("text",),
    "qwen3-moe": ("text",),
    "qwen2.5-vl": ("text", "image"),
}
_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
JSONValue = Union[str, int, float, bool, None]


class ConfigError(ValueError):
    """An invalid application config; the message has one line per problem."""


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
    distributed_executor_backend: Literal["mp", "ray"] = Field(
        "mp",
        description="How vLLM runs its workers when tensor x pipeline parallel > 1: mp (processes "
        "of the replica, which holds every GPU) or ray (one Ray actor per GPU bundle).",
    )
    max_loras: int = Field(4, ge=1, description="LoRA adapters one batch may mix (models with adapters).")
    max_lora_rank: int = Field(16, ge=1, description="Largest LoRA rank among the model's adapters.")
    engine_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Passed through to vLLM's AsyncEngineArgs unchanged, for anything not above.",
    )

    @property
    def num_gpus(self) -> int:
        """GPUs one replica uses: tensor x pipeline parallel."""
        return self.tensor_parallel_size * self.pipeline_parallel_size


_ENGINE_TAGS: dict[str, type[BaseModel]] = {
    "transformers": TransformersEngineConfig,
    "vllm": VLLMEngineConfig,
}
EngineConfig = Annotated[
    Union[TransformersEngineConfig, VLLMEngineConfig], Field(discriminator="kind")
]


class AdapterConfig(_Strict):
    """A LoRA adapter in PEFT format, served on top of its model as `<model>:<name>`."""

    name: str = Field(..., description="Adapter name; clients send `<model>:<name>` as the model.")
    source: str = Field(..., min_length=1, description="Local PEFT adapter folder or hub id.")
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit).")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if ADAPTER_SEPARATOR in name:
            raise ValueError(f"{ADAPTER_SEPARATOR!r} is reserved (it joins model and adapter); got {name!r}")
        if not re.match(_NAME_PATTERN, name):
            raise ValueError(f"adapter name {name!r} must match {_NAME_PATTERN}")
        return name


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
    adapters: tuple[AdapterConfig, ...] = Field(
        (), description="LoRA adapters served on this model, each as `<name>:<adapter>`."
    )
    accelerator_type: str | None = Field(
        None,
        description="GPU type this model's replicas need (a Ray accelerator type such as H100 "
        "or L4); placement then asks for nodes labelled with it.",
    )
    accept_cold_start: bool = Field(
        False,
        description="Allow this model to scale to zero although a route has no fallback for it: "
        "such requests wait for a replica to start.",
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

    @field_validator("adapters")
    @classmethod
    def _unique_adapters(cls, adapters: tuple[AdapterConfig, ...]) -> tuple[AdapterConfig, ...]:
        names = [a.name for a in adapters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"names must be unique, {duplicates} appear more than once")
        return adapters

    @field_validator("accelerator_type")
    @classmethod
    def _known_accelerator(cls, accelerator: str | None) -> str | None:
        known = ray_accelerator_types()
        if accelerator is not None and accelerator not in known:
            raise ValueError(f"unknown accelerator type {accelerator!r}; Ray knows {known}")
        return accelerator

    @model_validator(mode="after")
    def _accelerator_needs_gpu(self) -> "ModelConfig":
        if self.accelerator_type is not None and not self.uses_gpu:
            raise ValueError(
                f"accelerator_type: {self.accelerator_type!r} needs a GPU engine "
                "(kind vllm, or transformers with device cuda); this model runs on CPU"
            )
        return self

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
    def uses_gpu(self) -> bool:
        engine = self.engine
        return isinstance(engine, VLLMEngineConfig) or engine.device.startswith("cuda")

    @property
    def adapter_names(self) -> list[str]:
        return [a.name for a in self.adapters]

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
    fetch_timeout_s: float = Field(
        5.0, gt=0.0, description="Time limit for one remote image: resolving, connecting, reading."
    )
    remote_allowed_networks: tuple[str, ...] = Field(
        (),
        description="CIDR networks remote image URLs may reach although they are not public "
        "(loopback, private, link-local, reserved), e.g. an internal image store. Default: none.",
    )

    @field_validator("remote_allowed_networks")
    @classmethod
    def _networks_parse(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"{network!r} is not a network; write CIDR such as 10.0.0.0/8 or fd00::/8"
                ) from None
        return networks


class RateLimitConfig(_Strict):
    """One key's budget per minute, shared by every router replica (router/ratelimit.py)."""

    requests_per_minute: int | None = Field(None, ge=1, description="Unset: no request limit.")
    tokens_per_minute: int | None = Field(
        None,
        ge=1,
        description="Prompt tokens (estimated as characters / 4) plus max_tokens, charged when "
        "the request is admitted, as OpenAI counts them. Unset: no token limit.",
    )


KEY_SOURCES = ("sha256", "env", "file")


class ApiKeyConfig(_Strict):
    """One API key, given by exactly one of `sha256`, `env`, `file`; the key is never logged."""

    name: str = Field(
        ..., pattern=_NAME_PATTERN, description="Names the key in logs and rate-limit errors."
    )
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="Hex sha256 of the key (qwen-router hash-key)."
    )
    env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable of the router replicas that holds the key.",
    )
    file: str | None = Field(
        None, min_length=1, description="File that holds the key (a mounted secret); read at start."
    )
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)

    @model_validator(mode="after")
    def _one_source(self) -> "ApiKeyConfig":
        given = [source for source in KEY_SOURCES if getattr(self, source) is not None]
        if len(given) != 1:
            raise ValueError(
                f"key {self.name!r} needs exactly one of {list(KEY_SOURCES)}; got {given or 'none'}"
            )
        return self


class AuthConfig(_Strict):
    """API keys and per-key rate limits; with no keys the API is open."""

    keys: tuple[ApiKeyConfig, ...] = Field(
        (), description="When any is set, /v1/* requires `Authorization: Bearer <key>`."
    )
    rate_limiter_timeout_s: float = Field(
        0.5, gt=0.0, description="How long a request waits for the shared rate limiter."
    )
    rate_limit_fail_open: bool = Field(
        False,
        description="Admit requests when the rate limiter does not answer in time (logged); "
        "off: they get 503 with Retry-After.",
    )

    @field_validator("keys")
    @classmethod
    def _unique_names(cls, keys: tuple[ApiKeyConfig, ...]) -> tuple[ApiKeyConfig, ...]:
        names = [key.name for key in keys]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"key names must be unique, {duplicates} appear more than once")
        return keys

    @property
    def rate_limited(self) -> bool:
        return any(k.rate_limit.requests_per_minute or k.rate_limit.tokens_per_minute for k in self.keys)


class MaxTokensCaps(_Strict):
    """Largest `max_tokens` a request may ask for, per route; more is refused (400), never cut."""

    default: int | None = Field(None, ge=1, description="For every route without its own cap.")
    math: int | None = Field(None, ge=1)
    code: int | None = Field(None, ge=1)
    vision: int | None = Field(None, ge=1)
    reasoning: int | None = Field(None, ge=1)
    general: int | None = Field(None, ge=1)
    explicit: int | None = Field(None, ge=1, description="Requests that name a model.")

    def cap(self, category: str) -> int | None:
        return getattr(self, category, None) or self.default


class LimitsConfig(_Strict):
    """Bounds on one request, checked by the router before any model work."""

    max_body_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Largest request body, checked before parsing (413)."
    )
    max_messages: int = Field(256, ge=1, description="Messages in one request.")
    max_message_chars: int = Field(
        200_000, ge=1, description="Characters of text in one message, all its text parts together."
    )
    max_tokens: MaxTokensCaps = Field(default_factory=MaxTokensCaps)


class RouterConfig(_Strict):
    classify_context_turns: int = Field(
        2, ge=0, description="Earlier user turns the classifier looks at besides the latest."
    )
    min_confidence: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Calibrated classifier confidence below which a request takes the "
        "`fallback_category` route instead (0 never falls back).",
    )
    fallback_category: Literal["math", "code", "reasoning", "general"] = Field(
        "general", description="Where low-confidence requests go; a text category (vision needs an image)."
    )
    health_timeout_s: float = Field(
        2.0, gt=0.0, description="How long /readyz waits for each model deployment."
    )
    request_timeout_s: float = Field(
        300.0,
        gt=0.0,
        description="Longest a request may take end to end: then 504, or an SSE error event once "
        "the stream has begun.",
    )
    max_cold_start_wait_s: float = Field(
        30.0,
        gt=0.0,
        description="How long a request waits for a model with no running replica (scaled to "
        "zero, restarting) before the route's next model takes over.",
    )
    spill_over_per_replica: float | None = Field(
        None,
        gt=0.0,
        description="Capacity-aware routing: once this router has this many requests in flight "
        "per running replica of the chosen model, the route's next model below that mark takes "
        "the request. Unset: off.",
    )
    fleet_refresh_s: float = Field(
        1.0,
        gt=0.0,
        description="How often the router reads replica counts and health from Ray Serve.",
    )


# What the router's `user_config` may change in place (see AppConfig.with_policy).
POLICY_FIELDS = ("routes", "router")


TelemetryExporter = Literal["none", "console", "otlp", "file"]
# The package the otlp exporter needs; named in the error when it is missing.
OTLP_EXPORTER_PACKAGE = "opentelemetry-exporter-otlp-proto-http"


class TelemetryConfig(_Strict):
    """Traces and the access log, set up once per process (serve_app/telemetry.py)."""

    exporter: TelemetryExporter = Field(
        "none",
        description="Where spans go: none, console (stdout), otlp (OTLP/HTTP to `endpoint`, needs "
        f"the {OTLP_EXPORTER_PACKAGE} package), or file (JSON lines appended to `path`).",
    )
    endpoint: str | None = Field(
        None,
        pattern=r"^https?://",
        description="OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces (exporter otlp).",
    )
    path: str | None = Field(
        None, min_length=1, description="File every process appends its spans to (exporter file)."
    )
    service_name: str = Field("qwen-router", min_length=1, description="service.name of every span.")
    sample_ratio: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded; an incoming traceparent's sampled flag wins.",
    )
    log_prompts: bool = Field(
        False,
        description="Write prompts in full into the access log; otherwise only a sha256 prefix and length.",
    )

    @model_validator(mode="after")
    def _exporter_settings(self) -> "TelemetryConfig":
        needs = {"otlp": "endpoint", "file": "path"}
        for exporter, name in needs.items():
            value = getattr(self, name)
            if self.exporter == exporter and value is None:
                raise ValueError(f"{name}: required when exporter is {exporter!r}")
            if self.exporter != exporter and value is not None:
                raise ValueError(
                    f"{name}: {value!r} is only used with exporter {exporter!r}, not {self.exporter!r}"
                )
        return self


class AppConfig(_Strict):
    models: tuple[ModelConfig, ...] = Field(..., min_length=1)
    routes: dict[Category, RouteConfig] = Field(
        ..., description="Where each category goes; every category needs a route."
    )
    router: RouterConfig = Field(default_factory=RouterConfig)
    images: ImageConfig = Field(default_factory=ImageConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    telemetry: TelemetryConfig = Field(
        default_factory=TelemetryConfig, description="Tracing exporter, sampling and access-log privacy."
    )
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
            route_model, adapter = split_model_name(route.model)
            if route_model in by_name and adapter is not None:
                if adapter not in by_name[route_model].adapter_names:
                    raise ValueError(
                        f"routes.{category}.model: unknown adapter {adapter!r} of model "
                        f"{route_model!r}; its adapters: {by_name[route_model].adapter_names}"
                    )
            for field, model in [("model", route_model)] + [
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

    @model_validator(mode="after")
    def _defaults_within_caps(self) -> "AppConfig":
        for category, route in self.routes.items():
            cap = self.limits.max_tokens.cap(category)
            if route.defaults.max_tokens is not None and cap is not None and route.defaults.max_tokens > cap:
                raise ValueError(
                    f"routes.{category}.defaults.max_tokens: {route.defaults.max_tokens} is above "
                    f"this route's cap limits.max_tokens ({cap})"
                )
        return self

    def model(self, name: str) -> ModelConfig:
        return next(m for m in self.models if m.name == name)

    def with_policy(self, overrides: dict[str, Any]) -> "AppConfig":
        """This config with parts of its routing policy replaced, validated whole.

        The router's `user_config` carries such overrides so that policy changes apply in place
        (models cannot change that way: they are deployments of their own). Each category under
        `routes` replaces that route; each field under `router` replaces that setting.
        """
        unknown = sorted(set(overrides) - set(POLICY_FIELDS))
        if unknown:
            raise ValueError(
                f"{unknown[0]}: not a policy field; a router user_config may set {list(POLICY_FIELDS)}"
            )
        current = self.model_dump()
        merged = {
            field: {**current[field], **value} if isinstance(value, dict) else value
            for field, value in overrides.items()
        }
        return AppConfig.model_validate({**current, **merged})

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir).expanduser()


def split_model_name(name: str) -> tuple[str, str | None]:
    """`coder:sql` → ("coder", "sql"); a plain model name has no adapter."""
    model, separator, adapter = name.partition(ADAPTER_SEPARATOR)
    return (model, adapter) if separator else (name, None)


def ray_accelerator_types() -> list[str]:
    """The accelerator types Ray labels nodes with (ray.util.accelerators), sorted."""
    from ray.util.accelerators import accelerators

    return sorted({v for k, v in vars(accelerators).items() if k.isupper() and isinstance(v, str)})


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
