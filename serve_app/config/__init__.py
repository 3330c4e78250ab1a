"""The application's configuration: validated once, at the edge, then frozen.

`build_app(args)` turns the YAML `args` of a Serve config into an `AppConfig`; nothing downstream
sees a dict. Every model is strict (`extra="forbid"`) so a typo fails at start with the field's
name. This package imports nothing else from the project.
"""

from serve_app.config.access import (
    KEY_SOURCES,
    ApiKeyConfig,
    AuthConfig,
    ImageConfig,
    LimitsConfig,
    MaxTokensCaps,
    RateLimitConfig,
)
from serve_app.config.app import POLICY_FIELDS, AppConfig, GenerationDefaults, RouteConfig, RouterConfig
from serve_app.config.base import (
    ADAPTER_SEPARATOR,
    AUTO_MODEL,
    CATEGORIES,
    TINY_ARCHITECTURES,
    TINY_PREFIX,
    Category,
    ConfigError,
    JSONValue,
    Modality,
)
from serve_app.config.errors import field_path, format_validation_error
from serve_app.config.models import (
    AdapterConfig,
    EngineConfig,
    ModelConfig,
    TransformersEngineConfig,
    VLLMEngineConfig,
    ray_accelerator_types,
    split_model_name,
)
from serve_app.config.telemetry import OTLP_EXPORTER_PACKAGE, TelemetryConfig, TelemetryExporter

__all__ = [
    "ADAPTER_SEPARATOR", "AUTO_MODEL", "CATEGORIES", "KEY_SOURCES", "OTLP_EXPORTER_PACKAGE",
    "POLICY_FIELDS", "TINY_ARCHITECTURES", "TINY_PREFIX", "AdapterConfig", "ApiKeyConfig",
    "AppConfig", "AuthConfig", "Category", "ConfigError", "EngineConfig", "GenerationDefaults",
    "ImageConfig", "JSONValue", "LimitsConfig", "MaxTokensCaps", "Modality", "ModelConfig",
    "RateLimitConfig", "RouteConfig", "RouterConfig", "TelemetryConfig", "TelemetryExporter",
    "TransformersEngineConfig", "VLLMEngineConfig", "field_path", "format_validation_error",
    "ray_accelerator_types", "split_model_name",
]
