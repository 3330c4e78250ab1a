"""Tracing set-up from config: exporters, sampling, propagation, and the errors operators see."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError

from serve_app import telemetry
from serve_app.config import OTLP_EXPORTER_PACKAGE, AppConfig, TelemetryConfig, format_validation_error

from app_args import MINIMAL_ARGS

REPO = Path(__file__).resolve().parents[2]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture(autouse=True)
def tracing_off_afterwards():
    yield
    telemetry.setup(TelemetryConfig())


def config_problems(telemetry_args: dict) -> list[str]:
    document = {**copy.deepcopy(MINIMAL_ARGS), "telemetry": telemetry_args}
    with pytest.raises(ValidationError) as info:
        AppConfig.model_validate(document)
    return format_validation_error(info.value)


def test_tracing_is_off_by_default_and_costs_nothing():
    config = AppConfig.model_validate(MINIMAL_ARGS).telemetry
    assert config.exporter == "none" and not config.log_prompts
    telemetry.setup(config)
    span = telemetry.tracer().start_span("anything")
    assert not span.is_recording()
    assert telemetry.inject(trace.set_span_in_context(span)) == {}


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"exporter": "otlp"}, "telemetry.endpoint: required when exporter is 'otlp'"),
        ({"exporter": "file"}, "telemetry.path: required when exporter is 'file'"),
        ({"path": "/tmp/spans.jsonl"}, "telemetry.path: '/tmp/spans.jsonl' is only used with exporter 'file', not 'none'"),
        ({"exporter": "jaeger"}, "telemetry.exporter: Input should be 'none', 'console', 'otlp' or 'file' (got 'jaeger')"),
        ({"sample_ratio": 1.5}, "telemetry.sample_ratio: Input should be less than or equal to 1 (got 1.5)"),
        ({"exporter": "otlp", "endpoint": "collector:4318"}, "telemetry.endpoint: String should match pattern"),
        ({"log_prompt": True}, "telemetry.log_prompt: unknown field; allowed fields: ['endpoint', 'exporter', 'log_prompts', 'path', 'sample_ratio', 'service_name']"),
    ],
)
def test_config_errors_name_the_field_the_value_and_what_is_allowed(settings, expected):
    found = config_problems(settings)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_otlp_without_its_package_is_a_config_error_naming_the_package():
    config = TelemetryConfig(exporter="otlp", endpoint="http://collector:4318/v1/traces")
    if telemetry._importable("opentelemetry.exporter.otlp.proto.http.trace_exporter"):
        pytest.skip(f"{OTLP_EXPORTER_PACKAGE} is installed here")
    with pytest.raises(telemetry.TelemetryError) as info:
        telemetry.setup(config)
    assert f"pip install {OTLP_EXPORTER_PACKAGE}" in str(info.value)
    assert str(info.value).startswith("telemetry.exporter: 'otlp' needs")


def test_file_exporter_appends_one_json_line_per_span(tmp_path):
    path = tmp_path / "traces" / "spans.jsonl"
    telemetry.setup(TelemetryConfig(exporter="file", path=str(path), service_name="router-test"))
    with telemetry.tracer().start_as_current_span("outer"):
        with telemetry.tracer().start_as_current_span("inner", attributes={"k": 1}):
            pass
    spans = [json.loads(line) for line in path.read_text().splitlines()]
    assert [s["name"] for s in spans] == ["inner", "outer"]
    inner, outer = spans
    assert inner["parent_id"] == outer["context"]["span_id"]
    assert inner["context"]["trace_id"] == outer["context"]["trace_id"]
    assert inner["attributes"] == {"k": 1}
    assert outer["resource"]["attributes"]["service.name"] == "router-test"


def test_setup_twice_with_the_same_config_keeps_the_provider(tmp_path):
    config = TelemetryConfig(exporter="file", path=str(tmp_path / "spans.jsonl"))
    telemetry.setup(config)
    first = telemetry.tracer()
    telemetry.setup(config)
    with first.start_as_current_span("still exported"):
        pass
    assert "still exported" in (tmp_path / "spans.jsonl").read_text()


def test_console_exporter_prints_spans_on_stdout():
    program = (
        "from serve_app import telemetry; from serve_app.config import TelemetryConfig; "
        "telemetry.setup(TelemetryConfig(exporter='console')); "
        "telemetry.tracer().start_span('printed').end()"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '"name": "printed"' in result.stdout


def test_incoming_traceparent_becomes_the_parent_and_goes_out_again():
    exporter = InMemorySpanExporter()
    telemetry.setup(TelemetryConfig(), exporter=exporter)
    incoming = {"Traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
    span = telemetry.tracer().start_span("child", context=telemetry.extract(incoming))
    outgoing = telemetry.inject(trace.set_span_in_context(span))
    span.end()
    (finished,) = exporter.get_finished_spans()
    assert trace.format_trace_id(finished.context.trace_id) == TRACE_ID
    assert trace.format_span_id(finished.parent.span_id) == PARENT_ID
    assert outgoing["traceparent"] == f"00-{TRACE_ID}-{trace.format_span_id(finished.context.span_id)}-01"


def test_sample_ratio_zero_drops_new_traces_but_follows_a_sampled_caller():
    exporter = InMemorySpanExporter()
    telemetry.setup(TelemetryConfig(sample_ratio=0.0), exporter=exporter)
    telemetry.tracer().start_span("new trace").end()
    sampled = telemetry.extract({"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    telemetry.tracer().start_span("caller sampled", context=sampled).end()
    assert [s.name for s in exporter.get_finished_spans()] == ["caller sampled"]
