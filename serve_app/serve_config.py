"""Checking a whole config file without starting anything (`qwen-router config check`).

A file is either a Serve config (`applications: [...]`, what `serve run` and `serve deploy`
take) or the bare `args` of the application. For a Serve config this checks what Ray checks at
start (its deploy schema and autoscaling rules), the application's own `args`, and what Ray
would only discover later: that every `deployments[]` override names a deployment this
application really creates, that it sets only known autoscaling fields, and that its
`request_router_config` imports and takes its kwargs (serve_app/request_router_check.py).
"""

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from deployments.vllm_engine import validate_engine_options
from serve_app.builder import ROUTER_DEPLOYMENT, deployment_names
from serve_app.config import AppConfig, format_validation_error
from serve_app.operations import check_operations
from serve_app.request_router_check import FIELD as REQUEST_ROUTER_FIELD, check_request_router

BUILDER_IMPORT_PATH = "serve_app.builder:build_app"


def check_config_file(path: Path) -> list[str]:
    """Every problem in the file, one line each; empty when the file is valid."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: cannot read YAML: {exc}"]
    if not isinstance(document, dict):
        return [f"{path}: expected a mapping at the top level"]
    if "applications" in document:
        return check_serve_config(document)
    return _check_args(document, prefix="")


def check_serve_config(document: dict[str, Any]) -> list[str]:
    from ray.serve.schema import DeploymentSchema, ServeApplicationSchema, ServeDeploySchema

    try:
        # Ray's schema imports a request router's class, and fails on a bad one: checked below.
        ServeDeploySchema.model_validate(_without_request_routers(document))
    except ValidationError as exc:
        return format_validation_error(exc)
    # Ray's schema ignores unknown keys, so a misspelt setting would silently do nothing.
    problems = _unknown_keys(document, ServeDeploySchema, "")
    for index, application in enumerate(document["applications"]):
        prefix = f"applications[{index}]"
        problems += _unknown_keys(application, ServeApplicationSchema, prefix)
        ours = application.get("import_path") == BUILDER_IMPORT_PATH
        models = set(_deployment_names(application.get("args"))) - {ROUTER_DEPLOYMENT} if ours else set()
        for position, deployment in enumerate(application.get("deployments") or []):
            where = f"{prefix}.deployments[{position}]"
            problems += _unknown_keys(deployment, DeploymentSchema, where)
            if REQUEST_ROUTER_FIELD in deployment:
                problems += check_request_router(
                    deployment[REQUEST_ROUTER_FIELD], where, model_deployment=deployment.get("name") in models
                )
        if not ours:
            continue
        args = application.get("args") or {}
        args_problems = _check_args(args, prefix=f"{prefix}.args")
        problems += args_problems
        overrides = application.get("deployments") or []
        config = None if args_problems else AppConfig.model_validate(args)
        known = deployment_names(config) if config else _deployment_names(args)
        problems += _check_overrides(overrides, known, prefix)
        if config:
            problems += check_operations(config, overrides, prefix)
    return problems


def _unknown_keys(section: dict[str, Any], schema: Any, where: str) -> list[str]:
    allowed = sorted(schema.model_fields)
    return [
        f"{where + '.' if where else ''}{key}: unknown field; allowed fields: {allowed}"
        for key in section
        if key not in schema.model_fields
    ]


def _without_request_routers(document: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(document)
    applications = stripped.get("applications")
    for application in applications if isinstance(applications, list) else []:
        deployments = application.get("deployments") if isinstance(application, dict) else None
        for deployment in deployments if isinstance(deployments, list) else []:
            if isinstance(deployment, dict):
                deployment.pop(REQUEST_ROUTER_FIELD, None)
    return stripped


def _deployment_names(args: Any) -> list[str]:
    """The deployments of args too broken to validate: the router and one per named model."""
    models = args.get("models") if isinstance(args, dict) else None
    names = [m.get("name") for m in models or [] if isinstance(m, dict)]
    return [ROUTER_DEPLOYMENT] + [n for n in names if isinstance(n, str)]


def _check_args(args: Any, *, prefix: str) -> list[str]:
    try:
        config = AppConfig.model_validate(args)
    except ValidationError as exc:
        return format_validation_error(exc, prefix)
    return [
        problem
        for index, model in enumerate(config.models)
        if model.engine.kind == "vllm"
        for problem in validate_engine_options(model, prefix=_join(prefix, f"models[{index}].engine"))
    ]


def _join(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def _check_overrides(deployments: list[dict[str, Any]], known: list[str], prefix: str) -> list[str]:
    from ray.serve.config import AutoscalingConfig

    problems = []
    for index, deployment in enumerate(deployments):
        where = f"{prefix}.deployments[{index}]"
        name = deployment.get("name")
        if name not in known:
            problems.append(f"{where}.name: unknown deployment {name!r}; this application has {known}")
        autoscaling = deployment.get("autoscaling_config")
        if not isinstance(autoscaling, dict):
            continue
        problems += _unknown_keys(autoscaling, AutoscalingConfig, f"{where}.autoscaling_config")
        try:
            AutoscalingConfig.model_validate(autoscaling)
        except ValidationError as exc:
            problems += format_validation_error(exc, f"{where}.autoscaling_config")
    return problems
