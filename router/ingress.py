"""The Router deployment: the HTTP face of qwen-router.

Thin routes: parse, delegate (policy → dispatcher), render. Every failure goes through one
mapping to an OpenAI error body (router/errors.py).

Two constraints of Serve's FastAPI ingress shape this module. `@serve.ingress` snapshots the
app, routes included, when the class is decorated, so every module-level name a route uses
must be defined above the class. And no `from __future__ import annotations`: FastAPI would
then read the request body as a query parameter.
"""

import json
import logging
import time
import uuid
from functools import partial
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from ray import serve
from starlette.exceptions import HTTPException

from deployments.errors import InvalidRequestError, QwenRouterError
from router.classifier import classify
from router.convert import (
    ResponseContext,
    chunk_body,
    completion_body,
    route_metadata,
    to_generation_request,
    to_messages,
    usage_chunk_body,
)
from router.auth import ApiKeys
from router.dispatch import Dispatcher, OpenedStream
from router.fleet import Fleet, serve_status_reader
from router.errors import error_body, error_headers, error_status, sse_error_event
from router.gate import Gate, GateSettings
from router.limits import RequestLimits
from router.observability import ObservabilityMiddleware, RouterObservability, observation_of
from router.policy import RoutePolicy
from router.protocol import ChatCompletionRequest
from router.ratelimit import RateLimits, estimated_tokens
from serve_app.config import ADAPTER_SEPARATOR, AUTO_MODEL, AppConfig, ConfigError, field_path, format_validation_error

logger = logging.getLogger("qwen_router.router")

api = FastAPI(title="qwen-router", summary="OpenAI-compatible chat completions, routed to Qwen specialists.")


def _gate_settings() -> GateSettings:
    """This replica's API keys and body limit, for the gate middleware (router/gate.py)."""
    return serve.get_replica_context().servable_object.gate


api.add_middleware(Gate, settings=_gate_settings)


def _observability() -> RouterObservability:
    """This replica's metrics and access-log settings, for router/observability.py."""
    return serve.get_replica_context().servable_object.observability


# Added after the gate, so it wraps it: the gate's refusals are counted and logged too.
api.add_middleware(ObservabilityMiddleware, settings=_observability)

def request_id_of(request: Request) -> str:
    """Serve's request id: the proxy takes the client's `x-request-id` or makes one, and echoes
    it in the response headers. (Outside a Serve proxy, a fresh id per request.)"""
    if not hasattr(request.state, "request_id"):
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    return request.state.request_id


def error_response(request: Request, exc: BaseException) -> JSONResponse:
    request_id = request_id_of(request)
    status = error_status(exc)
    if status >= 500:
        logger.error("request %s failed with %s", request_id, status, exc_info=status == 500)
    return JSONResponse(
        error_body(exc, request_id),
        status_code=status,
        headers=error_headers(exc),
    )


@api.exception_handler(RequestValidationError)
async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    return error_response(request, validation_error(exc))


@api.exception_handler(HTTPException)
async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    # Unknown paths and methods: same error shape as everything else.
    body = {"error": {"message": str(exc.detail), "type": "invalid_request_error", "param": None, "code": None}}
    return JSONResponse(body, status_code=exc.status_code)


@api.exception_handler(QwenRouterError)
async def _service_error(request: Request, exc: QwenRouterError) -> JSONResponse:
    return error_response(request, exc)


@api.exception_handler(Exception)
async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request, exc)


def validation_error(exc: RequestValidationError) -> InvalidRequestError:
    """FastAPI's validation report → one 400 that names the first bad field."""
    first = exc.errors()[0]
    if first.get("type") == "json_invalid":
        return InvalidRequestError("request body is not valid JSON")
    loc = tuple(first.get("loc", ()))
    param = field_path(loc[1:] if loc[:1] == ("body",) else loc) or None
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    return InvalidRequestError(f"{param}: {message}" if param else message, param=param)


async def _sse(context: ResponseContext, opened: OpenedStream, *, include_usage: bool) -> AsyncIterator[str]:
    """Server-sent events: chunks, then usage if asked, then [DONE]; errors as a last event."""
    finished = False
    try:
        usage = opened.first.usage
        yield _event(chunk_body(context, opened.first, first=True))
        async for chunk in opened.rest():
            usage = chunk.usage or usage
            yield _event(chunk_body(context, chunk, first=False))
        if include_usage and usage is not None:
            yield _event(usage_chunk_body(context, usage))
        finished = True
    except Exception as exc:
        if error_status(exc) >= 500:
            logger.error("request %s: stream failed", context.request_id, exc_info=not isinstance(exc, QwenRouterError))
        yield sse_error_event(exc, context.request_id)
        finished = True
    finally:
        if not finished:  # the client went away: stop the generation on the replica
            opened.cancel()
    yield "data: [DONE]\n\n"


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


@serve.deployment(max_ongoing_requests=256, ray_actor_options={"num_cpus": 0.1})
@serve.ingress(api)
class Router:
    def __init__(self, config: AppConfig, models: dict[str, Any], rate_limiter: Any | None = None) -> None:
        self.gate = GateSettings(ApiKeys.from_config(config.auth), config.limits.max_body_bytes)
        self.observability = RouterObservability.from_config(config.telemetry)
        self._limits = RequestLimits(config.limits, config.images)
        self._rate_limits = RateLimits(rate_limiter, config.auth)
        fleet = Fleet(serve_status_reader(serve.get_replica_context().app_name), config.router.fleet_refresh_s)
        self._dispatcher = Dispatcher(models, config.router, fleet)
        self._apply(config)
        classify(())  # loads the classifier's weights now rather than on the first request

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        """Routing policy changed in place (`user_config` of this deployment): no restart."""
        try:
            config = self._base_config.with_policy(user_config or {})
        except (ValueError, ValidationError) as exc:
            raise ConfigError("invalid router user_config:\n  " + "\n  ".join(format_validation_error(exc, "user_config"))) from None
        self._apply(config, base=self._base_config)
        logger.info("routing policy updated in place: %s", sorted(user_config or {}))

    def _apply(self, config: AppConfig, base: AppConfig | None = None) -> None:
        self._base_config = base or config
        self._config = config
        self._policy = RoutePolicy(config, partial(classify, context_turns=config.router.classify_context_turns))
        self._dispatcher.settings = config.router

    @api.post("/v1/chat/completions")
    async def chat_completions(self, body: ChatCompletionRequest, request: Request) -> Any:
        request_id = request_id_of(request)
        observation = observation_of(request)
        self._limits.check(body)
        messages = to_messages(body.messages)
        decision = self._limits.cap_max_tokens(body, observation.classify(self._policy.decide, body.model, messages))
        completion_limit = body.completion_limit or decision.defaults.max_tokens or self._config.model(decision.model).context_length
        await self._rate_limits.admit(getattr(request.state, "api_key", None), estimated_tokens(body, completion_limit))
        generation = to_generation_request(
            body,
            messages,
            request_id=request_id,
            decision=decision,
            template_defaults=self._policy.chat_template_kwargs(decision),
        )
        opened = await observation.dispatch(self._dispatcher.open, generation, decision)
        answered = decision.served_model if opened.fallback_from is None else opened.model
        context = ResponseContext(
            request_id=request_id,
            model=answered,
            route=route_metadata(
                decision, answered, opened.fallback_from, opened.first.replica, opened.fallback_reason
            ),
        )
        if body.stream:
            return StreamingResponse(
                _sse(context, opened, include_usage=body.include_usage),
                media_type="text/event-stream",
                headers=context.headers(),
            )
        try:
            chunks = [opened.first] + [chunk async for chunk in opened.rest()]
        except BaseException:
            opened.cancel()
            raise
        return JSONResponse(completion_body(context, chunks), headers=context.headers())

    @api.get("/v1/models")
    async def models(self) -> dict[str, Any]:
        created = int(time.time())
        entries = [{"id": AUTO_MODEL, "object": "model", "created": created, "owned_by": "qwen-router"}]
        entries += [
            {
                "id": m.name,
                "object": "model",
                "created": created,
                "owned_by": "qwen-router",
                "root": m.source,
                "max_model_len": m.context_length,
                "modalities": list(m.modalities),
            }
            for m in self._config.models
        ]
        entries += [  # LoRA adapters, as vLLM lists them: own id, the base model as parent
            {
                "id": f"{m.name}{ADAPTER_SEPARATOR}{a.name}",
                "object": "model",
                "created": created,
                "owned_by": "qwen-router",
                "root": a.source,
                "parent": m.name,
                "max_model_len": m.context_length,
                "modalities": list(m.modalities),
            }
            for m in self._config.models
            for a in m.adapters
        ]
        return {"object": "list", "data": entries}

    @api.get("/healthz")
    async def healthz(self) -> dict[str, str]:
        """The router process is up (says nothing about the models)."""
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz(self) -> JSONResponse:
        """Ready when every model deployment answers within the health timeout or is scaled to
        zero on purpose (a probe must not wake it)."""
        states = await self._dispatcher.readiness(self._policy.model_names, self._config.router.health_timeout_s)
        ready = all(state in ("ready", "scaled to zero") for state in states.values())
        body = {"status": "ready" if ready else "not ready", "models": states}
        return JSONResponse(body, status_code=200 if ready else 503)
