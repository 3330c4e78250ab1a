"""The served models: source, engine (transformers or vLLM), LoRA adapters, placement."""

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, field_validator, model_validator

from serve_app.config.base import (
    ADAPTER_SEPARATOR,
    AUTO_MODEL,
    NAME_PATTERN,
    TINY_ARCHITECTURES,
    TINY_PREFIX,
    JSONValue,
    Modality,
    Strict,
)


class TransformersEngineConfig(Strict):
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
        2,
        ge=1,
        le=256,
        description="Sequences one replica decodes together, in one batch; more wait for a place.",
    )
    kv_cache_mib: float = Field(
        1024,
        gt=0,
        description="KV cache one replica may hold for the sequences it decodes, in MiB. A request "
        "joins the batch once its prompt plus max_tokens fits; it must hold one context_length.",
    )
    torch_threads: int | None = Field(
        1, ge=1, description="torch intra-op threads per replica (None: torch's default)."
    )


class VLLMEngineConfig(Strict):
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


ENGINE_TAGS: dict[str, type[BaseModel]] = {
    "transformers": TransformersEngineConfig,
    "vllm": VLLMEngineConfig,
}
EngineConfig = Annotated[
    Union[TransformersEngineConfig, VLLMEngineConfig], Field(discriminator="kind")
]


class AdapterConfig(Strict):
    """A LoRA adapter in PEFT format, served on top of its model as `<model>:<name>`."""

    name: str = Field(..., description="Adapter name; clients send `<model>:<name>` as the model.")
    source: str = Field(..., min_length=1, description="Local PEFT adapter folder or hub id.")
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit).")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if ADAPTER_SEPARATOR in name:
            raise ValueError(f"{ADAPTER_SEPARATOR!r} is reserved (it joins model and adapter); got {name!r}")
        if not re.match(NAME_PATTERN, name):
            raise ValueError(f"adapter name {name!r} must match {NAME_PATTERN}")
        return name


class ModelConfig(Strict):
    """One served model; each becomes its own Ray Serve deployment, named after it."""

    name: str = Field(
        ...,
        pattern=NAME_PATTERN,
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
    stream_chunks_per_s: float = Field(
        100.0,
        gt=0.0,
        description="Chunks per second one replica streams at most, over all its requests: with more "
        "open streams than this × stream_interval_ms, each stream's interval widens to streams / this.",
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


def split_model_name(name: str) -> tuple[str, str | None]:
    """`coder:sql` → ("coder", "sql"); a plain model name has no adapter."""
    model, separator, adapter = name.partition(ADAPTER_SEPARATOR)
    return (model, adapter) if separator else (name, None)


def ray_accelerator_types() -> list[str]:
    """The accelerator types Ray labels nodes with (ray.util.accelerators), sorted."""
    from ray.util.accelerators import accelerators

    return sorted({v for k, v in vars(accelerators).items() if k.isupper() and isinstance(v, str)})
