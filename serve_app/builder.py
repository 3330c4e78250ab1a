"""The application builder: the `import_path` target of every Serve config.

`build_app(args)` validates the YAML `args` once into an `AppConfig` and wires the graph: one
`ModelServer` deployment per model, named after the model, and the `Router` ingress holding a
DeploymentHandle to each. This is the only module that knows both sides.
"""

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from ray.serve import Application
from ray.serve.config import RequestRouterConfig

from deployments.model_server import ModelServer
from router.ingress import Router
from router.ratelimit import RateLimiter
from router.replica_routing import CONVERSATION_ROUTER
from serve_app import telemetry
from serve_app.config import AppConfig, ConfigError, ModelConfig, VLLMEngineConfig, format_validation_error
from serve_app.placement import gpu_placement

ROUTER_DEPLOYMENT = "Router"
RATE_LIMITER_DEPLOYMENT = "RateLimiter"
CONFIG_DIR = Path(__file__).parent / "configs"
# Logical CPUs a CPU replica claims from Ray. Accounting only (torch threads are set per engine):
# small enough that the whole demo fits the CPUs Ray detects on a 2-core laptop.
CPU_REPLICA_NUM_CPUS = 0.25
# vLLM batches: a replica is efficient with tens of requests in flight.
VLLM_MAX_ONGOING_REQUESTS = 64


def load_app_config(args: dict[str, Any]) -> AppConfig:
    try:
        return AppConfig.model_validate(args)
    except ValidationError as exc:
        problems = "\n  ".join(format_validation_error(exc))
        raise ConfigError(f"invalid qwen-router config:\n  {problems}") from None


def build_app(args: dict[str, Any]) -> Application:
    config = load_app_config(args)
    telemetry.check(config.telemetry)  # a missing exporter package fails here, not in every replica
    models = {
        model.name: ModelServer.options(name=model.name, **model_deployment_options(model)).bind(
            model, config.images, str(config.cache_path), config.telemetry
        )
        for model in config.models
    }
    # One shared limiter, so per-key limits hold across router replicas (router/ratelimit.py).
    limiter = RateLimiter.options(name=RATE_LIMITER_DEPLOYMENT).bind() if config.auth.rate_limited else None
    return Router.options(name=ROUTER_DEPLOYMENT).bind(config, models, rate_limiter=limiter)


def deployment_names(config: AppConfig) -> list[str]:
    """Every deployment `build_app` creates for this config, as `deployments[]` may name them."""
    names = [ROUTER_DEPLOYMENT, *(model.name for model in config.models)]
    return names + [RATE_LIMITER_DEPLOYMENT] if config.auth.rate_limited else names


def model_deployment_options(model: ModelConfig) -> dict[str, Any]:
    """Defaults that fit the engine; `applications[].deployments[]` in YAML overrides them."""
    engine = model.engine
    if isinstance(engine, VLLMEngineConfig):
        options = {**gpu_placement(model), "max_ongoing_requests": VLLM_MAX_ONGOING_REQUESTS}
        if engine.enable_prefix_caching:
            options["request_router_config"] = conversation_routing(VLLM_MAX_ONGOING_REQUESTS)
        return options
    if model.uses_gpu:
        return {**gpu_placement(model), "max_ongoing_requests": 4 * engine.max_concurrency}
    actor = {"num_cpus": CPU_REPLICA_NUM_CPUS}
    return {"ray_actor_options": actor, "max_ongoing_requests": 4 * engine.max_concurrency}


def conversation_routing(max_ongoing_requests: int) -> RequestRouterConfig:
    """Conversation-aware replica routing (router/replica_routing/), on by default where it pays:
    an engine that reuses the KV cache of a shared prefix (vLLM with prefix caching) answers a
    follow-up on the replica that served the turn before it without prefilling the conversation
    again. Replicas may be a quarter of their capacity apart before load overrules that."""
    return RequestRouterConfig(
        request_router_class=CONVERSATION_ROUTER,
        request_router_kwargs={"max_queue_imbalance": max(4, max_ongoing_requests // 4)},
    )


def serve_config_args(path: Path, application: int = 0) -> dict[str, Any]:
    """The `args` of one application in a Serve config file."""
    document = yaml.safe_load(path.read_text())
    return document["applications"][application].get("args") or {}


# `serve build` needs an Application object, not a builder: the demo, with its default args.
app = build_app(serve_config_args(CONFIG_DIR / "demo.yaml"))
