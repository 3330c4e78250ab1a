"""The whole application: models, routes, router policy; the cross-field rules."""

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from serve_app.config.access import AuthConfig, ImageConfig, LimitsConfig
from serve_app.config.base import CATEGORIES, Category, JSONValue, Strict
from serve_app.config.models import ModelConfig, split_model_name
from serve_app.config.telemetry import TelemetryConfig


class GenerationDefaults(Strict):
    """Generation settings a route applies unless the request sets them itself."""

    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    chat_template_kwargs: dict[str, JSONValue] = Field(
        default_factory=dict, description="e.g. {enable_thinking: true} for the reasoning route."
    )


class RouteConfig(Strict):
    model: str = Field(..., description="Name of the model this category goes to.")
    fallbacks: tuple[str, ...] = Field(
        (), description="Models tried in order when `model` cannot take the request."
    )
    defaults: GenerationDefaults = Field(default_factory=GenerationDefaults)


class RouterConfig(Strict):
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


class AppConfig(Strict):
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
