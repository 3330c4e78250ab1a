"""Engine kinds, loaded lazily by name so that a router or a CPU box never imports vllm."""

import importlib

from deployments.engine import Engine

ENGINES: dict[str, str] = {
    "transformers": "deployments.transformers_engine:TransformersEngine",
    "vllm": "deployments.vllm_engine:VLLMEngine",
}


class UnknownEngineError(ValueError):
    pass


def engine_class(kind: str) -> type[Engine]:
    """The Engine subclass for `kind`; an unknown kind is an error that lists the known ones."""
    try:
        target = ENGINES[kind]
    except KeyError:
        raise UnknownEngineError(
            f"unknown engine kind {kind!r}; known kinds: {', '.join(sorted(ENGINES))}"
        ) from None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)
