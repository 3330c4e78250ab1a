"""Tracing, set up once per process from the `telemetry` section of the config.

The Router and every ModelServer replica call `setup(config.telemetry)` in their constructor;
other modules only ask for `tracer()`. The process keeps its own TracerProvider instead of
OpenTelemetry's global one, so nothing happens at import time and a second setup with another
config (a test, a reconfigured replica) replaces the first cleanly. Trace context crosses
process boundaries as W3C `traceparent`/`tracestate` entries (`inject` / `extract`).
"""

import importlib.util
import os
import threading
from dataclasses import dataclass
from typing import Mapping, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
    SpanProcessor,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from serve_app.config import OTLP_EXPORTER_PACKAGE, ConfigError, TelemetryConfig

INSTRUMENTATION_NAME = "qwen_router"
_OTLP_MODULE = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
_PROPAGATOR = TraceContextTextMapPropagator()


class TelemetryError(ConfigError):
    """The telemetry config cannot be honoured in this process (e.g. a missing exporter package)."""


@dataclass
class _Installed:
    config: TelemetryConfig
    exporter: SpanExporter | None
    provider: TracerProvider | None


_installed: _Installed | None = None
_lock = threading.Lock()


def check(config: TelemetryConfig) -> None:
    """Fail early, with the package to install, when the chosen exporter cannot be loaded."""
    if config.exporter == "otlp" and not _importable(_OTLP_MODULE):
        raise TelemetryError(
            f"telemetry.exporter: 'otlp' needs the {OTLP_EXPORTER_PACKAGE} package, which is not "
            f"installed (pip install {OTLP_EXPORTER_PACKAGE}); or choose one of none, console, file"
        )


def setup(config: TelemetryConfig, *, exporter: SpanExporter | None = None) -> None:
    """Install this process's tracer provider; `exporter` replaces the configured one (tests).

    Calling it again with the same config is a no-op; with another, the old provider is flushed
    and shut down first.
    """
    global _installed
    with _lock:
        if _installed is not None and (_installed.config, _installed.exporter) == (config, exporter):
            return
        if _installed is not None and _installed.provider is not None:
            _installed.provider.shutdown()
        _installed = _Installed(config, exporter, _provider(config, exporter))


def tracer() -> trace.Tracer:
    """The process's tracer; a no-op one when tracing is off or not set up."""
    installed = _installed
    if installed is None or installed.provider is None:
        return trace.NoOpTracer()
    return installed.provider.get_tracer(INSTRUMENTATION_NAME)


def inject(context: Context | None = None) -> dict[str, str]:
    """The W3C trace headers of `context` (default: the current one); empty when not traced."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=context)
    return carrier


def extract(carrier: Mapping[str, str]) -> Context:
    """The remote parent named by W3C trace headers (case-insensitive), or an empty context."""
    lowered = {key.lower(): value for key, value in carrier.items()}
    return _PROPAGATOR.extract(lowered)


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _provider(config: TelemetryConfig, exporter: SpanExporter | None) -> TracerProvider | None:
    if exporter is None and config.exporter == "none":
        return None
    processor = _processor(config, exporter)
    provider = TracerProvider(
        resource=Resource.create({"service.name": config.service_name}),
        sampler=ParentBased(TraceIdRatioBased(config.sample_ratio)),
    )
    provider.add_span_processor(processor)
    return provider


def _processor(config: TelemetryConfig, exporter: SpanExporter | None) -> SpanProcessor:
    """Spans for a collector go out in batches; console and file spans as they end."""
    if exporter is not None:
        return SimpleSpanProcessor(exporter)
    if config.exporter == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter(service_name=config.service_name))
    if config.exporter == "file":
        assert config.path is not None  # the config's validator guarantees it
        return SimpleSpanProcessor(JsonLinesSpanExporter(config.path))
    check(config)
    otlp = importlib.import_module(_OTLP_MODULE)
    return BatchSpanProcessor(otlp.OTLPSpanExporter(endpoint=config.endpoint))


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON object per finished span to a file that several processes share.

    Each span is a single `write` on a file opened with O_APPEND, so lines from the router and
    the model replicas do not interleave.
    """

    def __init__(self, path: str) -> None:
        self._path = os.path.expanduser(path)
        os.makedirs(os.path.dirname(os.path.abspath(self._path)), exist_ok=True)
        self._fd: int | None = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            if self._fd is None:
                return SpanExportResult.FAILURE
            for span in spans:
                os.write(self._fd, (span.to_json(indent=None) + "\n").encode())
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
