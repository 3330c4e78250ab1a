"""Traces and the access log (set up by serve_app/telemetry.py)."""

from typing import Literal

from pydantic import Field, model_validator

from serve_app.config.base import Strict


TelemetryExporter = Literal["none", "console", "otlp", "file"]
# The package the otlp exporter needs; named in the error when it is missing.
OTLP_EXPORTER_PACKAGE = "opentelemetry-exporter-otlp-proto-http"


class TelemetryConfig(Strict):
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
