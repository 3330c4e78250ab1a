"""One trace per request across the router and the model replica, plus its metrics and log line.

A small app routes like the Router (real middleware, RoutePolicy, Dispatcher, observation);
its "replicas" are fake DeploymentHandles whose streams run the real model-side span from the
trace context the request carries, the way a ModelServer does across the Ray hop.
"""

import dataclasses
import json
import logging

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from deployments.errors import QwenRouterError
from deployments.tracing import GenerationSpan
from deployments.types import GenerationRequest, Message, TextPart, Usage
from router import access_log
from router.classifier import Classification
from router.dispatch import Dispatcher
from router.errors import error_body, error_status
from router.metrics import RouterMetrics
from router.observability import ObservabilityMiddleware, RouterObservability, observation_of
from router.policy import RoutePolicy
from serve_app import telemetry
from serve_app.config import AppConfig, RouterConfig, TelemetryConfig

from fake_handles import FakeHandle, FakeStream, chunk
from fake_metrics import FakeMetrics

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CONFIG = AppConfig.model_validate(
    {
        "models": [
            {"name": "coder", "source": "tiny:qwen2", "context_length": 2048},
            {"name": "vl", "source": "tiny:qwen2.5-vl", "modalities": ["text", "image"], "context_length": 2048},
        ],
        "routes": {
            "code": {"model": "coder", "fallbacks": ["vl"]},
            **{c: {"model": "vl"} for c in ("math", "vision", "reasoning", "general")},
        },
    }
)
DONE = chunk("!", finish_reason="stop", usage=Usage(prompt_tokens=7, completion_tokens=3))


class ReplicaStream(FakeStream):
    """A FakeStream that, like ModelServer.generate, runs a `model.generate` span and names its
    replica in the first chunk."""

    def __init__(self, script, request: GenerationRequest, deployment: str) -> None:
        super().__init__(script)
        self._replica = f"{deployment}#r1"
        self._span = GenerationSpan(request, deployment, self._replica)
        self._first = True

    async def __anext__(self):
        try:
            item = await super().__anext__()
        except StopAsyncIteration:
            self._span.end()
            raise
        except Exception as exc:
            self._span.failed(exc)
            self._span.end()
            raise
        self._span.chunk(item)
        if self._first:
            self._first = False
            return dataclasses.replace(item, replica=self._replica)
        return item


class ReplicaHandle(FakeHandle):
    def _generate(self, request: GenerationRequest) -> ReplicaStream:
        self.requests.append(request)
        self.streams.append(ReplicaStream(self._script, request, self.name))
        return self.streams[-1]


def app_with(handles: dict[str, FakeHandle], observability: RouterObservability) -> FastAPI:
    """The Router's request path, minus OpenAI parsing: classify, dispatch, JSON or SSE."""
    app = FastAPI()
    policy = RoutePolicy(CONFIG, lambda messages: Classification("code", 0.875, ("stub",)))
    dispatcher = Dispatcher(handles, RouterConfig())

    @app.exception_handler(QwenRouterError)
    async def _error(request: Request, exc: QwenRouterError) -> JSONResponse:
        return JSONResponse(error_body(exc, request.state.request_id), status_code=error_status(exc))

    @app.post("/v1/chat/completions")
    async def chat(body: dict, request: Request):
        observation = observation_of(request)
        messages = (Message("user", (TextPart(body["messages"][0]["content"]),)),)
        decision = observation.classify(policy.decide, body.get("model", "auto"), messages)
        generation = GenerationRequest(request_id=request.state.request_id, messages=messages)
        opened = await observation.dispatch(dispatcher.open, generation, decision)
        if body.get("stream"):

            async def events():
                yield f"data: {opened.first.content}\n\n"
                try:
                    async for item in opened.rest():
                        yield f"data: {item.content}\n\n"
                except QwenRouterError as exc:
                    yield f"data: {json.dumps(error_body(exc, request.state.request_id))}\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        chunks = [opened.first] + [item async for item in opened.rest()]
        return {"text": "".join(c.content for c in chunks)}

    app.add_middleware(ObservabilityMiddleware, settings=lambda: observability)
    return app


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    telemetry.setup(TelemetryConfig(), exporter=exporter)
    yield exporter
    telemetry.setup(TelemetryConfig())


@pytest.fixture
def metrics() -> FakeMetrics:
    return FakeMetrics()


def call(handles, metrics, *, log_prompts=False, headers=None, **body):
    observability = RouterObservability(RouterMetrics(metrics), log_prompts=log_prompts)
    payload = {"messages": [{"role": "user", "content": "write a python function"}], **body}
    with TestClient(app_with(handles, observability)) as client:
        return client.post("/v1/chat/completions", json=payload, headers=headers or {})


def by_name(exporter: InMemorySpanExporter) -> dict:
    found = {}
    for span in exporter.get_finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def access_lines():
    """The access-log entries written during the test (inside Serve its logger stops at Serve's)."""
    collected, level = Collected(), access_log.logger.level
    access_log.logger.addHandler(collected)
    access_log.logger.setLevel(logging.INFO)
    yield lambda: [json.loads(message) for message in collected.messages]
    access_log.logger.removeHandler(collected)
    access_log.logger.setLevel(level)


def test_one_trace_from_the_callers_traceparent_to_the_model_span(spans, metrics, access_lines):
    handles = {"coder": ReplicaHandle("coder", [chunk("def"), DONE]), "vl": ReplicaHandle("vl")}
    traceparent = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
    response = call(handles, metrics, headers={"traceparent": traceparent, "x-request-id": "req-42"})
    assert response.status_code == 200 and response.json() == {"text": "def!"}

    found = by_name(spans)
    (request,), (classify,), (dispatch,), (generate,) = (
        found[n] for n in ("router.request", "router.classify", "router.dispatch", "model.generate")
    )
    assert {trace.format_trace_id(s.context.trace_id) for s in (request, classify, dispatch, generate)} == {TRACE_ID}
    assert trace.format_span_id(request.parent.span_id) == CALLER_SPAN
    assert classify.parent.span_id == request.context.span_id
    assert dispatch.parent.span_id == request.context.span_id
    assert generate.parent.span_id == dispatch.context.span_id  # only via GenerationRequest.trace_context
    assert handles["coder"].requests[0].trace_context["traceparent"].split("-")[2] == trace.format_span_id(
        dispatch.context.span_id
    )

    assert classify.attributes["qwen_router.category"] == "code"
    assert classify.attributes["qwen_router.confidence"] == 0.875
    assert request.attributes["qwen_router.request_id"] == "req-42"
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["qwen_router.model"] == "coder"
    assert request.attributes["gen_ai.usage.input_tokens"] == 7
    assert request.attributes["gen_ai.usage.output_tokens"] == 3
    assert request.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert dispatch.attributes["qwen_router.ttft_ms"] > 0
    assert generate.attributes["qwen_router.deployment"] == "coder"
    assert generate.attributes["gen_ai.usage.output_tokens"] == 3
    assert generate.attributes["qwen_router.ttft_ms"] >= 0
    assert request.status.status_code == StatusCode.UNSET

    assert metrics["qwen_router_requests_total"].total(category="code", model="coder", status="200") == 1
    assert metrics["qwen_router_tokens_total"].total(model="coder", kind="prompt") == 7
    assert metrics["qwen_router_tokens_total"].total(model="coder", kind="completion") == 3
    assert metrics["qwen_router_ttft_ms"].count(model="coder") == 1
    assert metrics["qwen_router_route_confidence"].total(category="code") == 0.875
    assert metrics["qwen_router_classify_latency_ms"].count(category="code") == 1
    assert metrics["qwen_router_fallbacks_total"].count() == 0

    (line,) = access_lines()
    assert line["request_id"] == "req-42" and line["trace_id"] == TRACE_ID
    assert (line["status"], line["category"], line["model"], line["stream"]) == (200, "code", "coder", False)
    assert (line["prompt_tokens"], line["completion_tokens"], line["finish_reason"]) == (7, 3, "stop")
    assert line["replica"] == "coder#r1"  # as in the response's route metadata
    assert line["prompt_chars"] == len("user: write a python function") and "prompt" not in line
    assert "python function" not in json.dumps(line)


def test_the_operator_can_have_prompts_logged(spans, metrics, access_lines):
    handles = {"coder": ReplicaHandle("coder", [DONE]), "vl": ReplicaHandle("vl")}
    assert call(handles, metrics, log_prompts=True).status_code == 200
    (line,) = access_lines()
    assert line["prompt"] == "user: write a python function"


def test_a_fallback_is_traced_and_counted_with_its_reason(spans, metrics):
    handles = {"coder": ReplicaHandle("coder", [RuntimeError("replica died")]), "vl": ReplicaHandle("vl", [DONE])}
    response = call(handles, metrics)
    assert response.status_code == 200
    found = by_name(spans)
    (dispatch,) = found["router.dispatch"]
    failed, answered = sorted(found["model.generate"], key=lambda s: s.attributes["qwen_router.deployment"])
    assert failed.attributes["qwen_router.deployment"] == "coder" and failed.status.status_code == StatusCode.ERROR
    assert answered.attributes["qwen_router.deployment"] == "vl"
    assert {failed.parent.span_id, answered.parent.span_id} == {dispatch.context.span_id}
    assert dispatch.attributes["qwen_router.fallback_from"] == "coder"
    assert dispatch.attributes["qwen_router.model"] == "vl"
    reason = dispatch.attributes["qwen_router.fallback_reason"]
    assert metrics["qwen_router_fallbacks_total"].total(**{"from": "coder", "to": "vl", "reason": reason}) == 1
    assert metrics["qwen_router_requests_total"].total(category="code", model="vl", status="200") == 1


def test_a_stream_cut_by_the_model_counts_as_the_error_the_client_was_sent(spans, metrics, access_lines):
    handles = {"coder": ReplicaHandle("coder", [chunk("a"), RuntimeError("replica died")]), "vl": ReplicaHandle("vl")}
    response = call(handles, metrics, stream=True)
    assert response.status_code == 200 and '"error"' in response.text
    (line,) = access_lines()
    assert (line["status"], line["stream"], line["model"]) == (503, True, "coder")
    (request,) = by_name(spans)["router.request"]
    assert request.status.status_code == StatusCode.ERROR
    assert metrics["qwen_router_requests_total"].total(status="503") == 1


def test_a_request_refused_before_routing_is_counted_without_a_route(spans, metrics, access_lines):
    response = call({"coder": ReplicaHandle("coder"), "vl": ReplicaHandle("vl")}, metrics, model="no-such-model")
    assert response.status_code == 404
    assert metrics["qwen_router_requests_total"].total(category="none", model="none", status="404") == 1
    (line,) = access_lines()
    assert line["status"] == 404 and line["request_id"]  # made up when the caller sent none
    found = by_name(spans)
    assert "router.dispatch" not in found
    (classify,) = found["router.classify"]
    assert classify.events[0].name == "exception"
    assert found["router.request"][0].status.status_code == StatusCode.UNSET  # a client error


def test_with_tracing_off_requests_are_still_counted_and_logged(metrics, access_lines):
    telemetry.setup(TelemetryConfig())
    handles = {"coder": ReplicaHandle("coder", [DONE]), "vl": ReplicaHandle("vl")}
    assert call(handles, metrics, headers={"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"}).status_code == 200
    # No spans of its own; the caller's context passes through unchanged, as OpenTelemetry's API does.
    assert handles["coder"].requests[0].trace_context == {"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"}
    (line,) = access_lines()
    assert line["trace_id"] == TRACE_ID and line["status"] == 200  # the caller's, for correlation
    assert metrics["qwen_router_requests_total"].total(status="200") == 1
