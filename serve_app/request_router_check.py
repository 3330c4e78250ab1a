"""Checking a deployment's `request_router_config` before Ray imports it (`config check`).

Ray's deploy schema takes `request_router_config` as any mapping and imports the class only when
the application starts; a wrong path then fails the deploy, and `request_router_kwargs` that the
class does not take fail in every Router replica, or are ignored without a word. This checks the
mapping's fields, that the class imports and is a `RequestRouter`, and that the kwargs fit it:
the conversation router's against its settings model, any other class's against the signature
of its `initialize_state`.
"""

import inspect
from typing import Any

from pydantic import ValidationError

from router.replica_routing import CONVERSATION_ROUTER, RAY_PREFIX_CACHE_ROUTER
from serve_app.config import format_validation_error

FIELD = "request_router_config"
# Ray Serve LLM's router reads OpenAI-style `messages` and so sees an empty prompt in this
# application's requests; its subclass in router/replica_routing/ reads them.
_RAY_PREFIX_CACHE_CLASS = "PrefixCacheAffinityRouter"
_OURS = (CONVERSATION_ROUTER, RAY_PREFIX_CACHE_ROUTER)


def check_request_router(value: Any, where: str, *, model_deployment: bool) -> list[str]:
    """Problems with one deployment's `request_router_config`; `where` names the deployment."""
    from ray.serve.config import RequestRouterConfig

    where = f"{where}.{FIELD}"
    if not isinstance(value, dict):
        return [f"{where}: expected a mapping (request_router_class, request_router_kwargs, ...), got {value!r}"]
    fields = RequestRouterConfig.model_fields
    problems = [f"{where}.{key}: unknown field; allowed fields: {sorted(fields)}" for key in value if key not in fields]
    known = {key: item for key, item in value.items() if key in fields and key != "request_router_class"}
    try:
        RequestRouterConfig.model_validate(known)  # Ray's own rules for everything but the class
    except ValidationError as exc:
        problems += format_validation_error(exc, where)
    path = value.get("request_router_class", fields["request_router_class"].default)
    router_class, class_problems = _router_class(path, f"{where}.request_router_class", model_deployment)
    if router_class is None:
        return problems + class_problems
    kwargs = value.get("request_router_kwargs", {})
    if isinstance(kwargs, dict):
        problems += _check_kwargs(router_class, kwargs, f"{where}.request_router_kwargs")
    return problems


def _router_class(path: Any, where: str, model_deployment: bool) -> tuple[type | None, list[str]]:
    from ray._common.utils import import_module_and_attr
    from ray.serve.request_router import RequestRouter

    example = f"allowed: a RequestRouter subclass as 'module:Class' or 'module.Class', e.g. {CONVERSATION_ROUTER!r}"
    if not isinstance(path, str):
        return None, [f"{where}: expected an import path, got {path!r}; {example}"]
    normalised = path.replace(":", ".")
    if not model_deployment and normalised in {p.replace(":", ".") for p in _OURS}:
        return None, [
            f"{where}: {path!r} places requests for a model on its replicas and reads their "
            "GenerationRequest; this deployment gets other calls. allowed: a model deployment only"
        ]
    if model_deployment and normalised.startswith("ray.") and normalised.endswith(f".{_RAY_PREFIX_CACHE_CLASS}"):
        return None, [
            f"{where}: {path!r} reads OpenAI-style `messages` and sees an empty prompt in this "
            "application's requests (it then fails routing them, dividing by the prompt's length); "
            f"allowed: {RAY_PREFIX_CACHE_ROUTER!r} (Ray's router, reading the conversation) or "
            f"{CONVERSATION_ROUTER!r}"
        ]
    try:
        _, router_class = import_module_and_attr(path)
    except (ImportError, AttributeError, ValueError) as exc:
        return None, [f"{where}: cannot import {path!r} ({type(exc).__name__}: {exc}); {example}"]
    if not (inspect.isclass(router_class) and issubclass(router_class, RequestRouter)):
        return None, [f"{where}: {path!r} is not a ray.serve.request_router.RequestRouter subclass; {example}"]
    return router_class, []


def _check_kwargs(router_class: type, kwargs: dict[str, Any], where: str) -> list[str]:
    from ray.serve.request_router import RequestRouter

    from router.replica_routing.conversation_router import ConversationAffinityRouter
    from router.replica_routing.settings import AffinitySettings

    if issubclass(router_class, ConversationAffinityRouter):
        allowed = AffinitySettings.model_fields
        unknown = [f"{where}.{key}: unknown field; allowed fields: {sorted(allowed)}" for key in kwargs if key not in allowed]
        try:
            AffinitySettings.model_validate({key: value for key, value in kwargs.items() if key in allowed})
        except ValidationError as exc:
            return unknown + format_validation_error(exc, where)
        return unknown
    if not kwargs:
        return []
    if router_class.initialize_state is RequestRouter.initialize_state:
        return [
            f"{where}: {router_class.__name__} takes no request_router_kwargs (it would ignore "
            f"{sorted(kwargs)}); allowed: none, or set request_router_class to a router that takes them"
        ]
    signature = inspect.signature(router_class.initialize_state)
    try:
        signature.bind(None, **kwargs)
    except TypeError as exc:
        allowed = [name for name in signature.parameters if name != "self"]
        return [f"{where}: {exc} for {router_class.__name__}.initialize_state; allowed: {allowed}"]
    return []
