"""What every part of the configuration shares: categories, reserved names, strictness."""

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict


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
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
JSONValue = Union[str, int, float, bool, None]


class ConfigError(ValueError):
    """An invalid application config; the message has one line per problem."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
