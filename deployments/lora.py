"""LoRA adapters, for every engine: where their files are, and their rank.

An adapter in the config is a PEFT folder (`adapter_config.json` + weights) given as a local
path or a hub id. Both engines load them at start, so a request naming an adapter never waits
for a download, and a bad adapter fails the replica's start with its name instead of a request.
"""

import json
from pathlib import Path

from huggingface_hub import snapshot_download

from deployments.errors import InvalidRequestError
from serve_app.config import ADAPTER_SEPARATOR, AdapterConfig, ModelConfig

_ADAPTER_FILES = ["adapter_config.json", "*.safetensors", "*.bin"]


class AdapterError(ValueError):
    """An adapter in the config that cannot be served (missing files, rank too large)."""


def adapter_folder(adapter: AdapterConfig) -> Path:
    """A local folder with the adapter's files: the given folder, or the hub snapshot.

    `snapshot_download` honours HF_HUB_OFFLINE=1: it then only looks in the local cache.
    """
    local = Path(adapter.source).expanduser()
    if local.is_dir():
        folder = local
    else:
        folder = Path(
            snapshot_download(adapter.source, revision=adapter.revision, allow_patterns=_ADAPTER_FILES)
        )
    if not (folder / "adapter_config.json").is_file():
        raise AdapterError(f"adapter {adapter.name!r}: no adapter_config.json in {folder}")
    return folder


def adapter_rank(folder: Path) -> int:
    """The LoRA rank `r` an adapter was trained with (what vLLM's max_lora_rank must cover)."""
    config = json.loads((folder / "adapter_config.json").read_text())
    ranks = [int(config.get("r", 0)), *(int(r) for r in (config.get("rank_pattern") or {}).values())]
    return max(ranks)


def check_adapter(model: ModelConfig, adapter: str | None) -> None:
    """Refuse a request for an adapter the model does not serve (the router checks first)."""
    if adapter is not None and adapter not in model.adapter_names:
        served = [f"{model.name}{ADAPTER_SEPARATOR}{name}" for name in model.adapter_names]
        raise InvalidRequestError(
            f"model {model.name!r} has no adapter {adapter!r}; its adapters: {served}", param="model"
        )
