"""Operational rules for a Serve config's `deployments[]` overrides, beyond what Ray checks.

Ray accepts any valid autoscaling numbers; these rules catch settings that are valid for Ray but
wrong for this application: a specialist scaled to zero with nothing to take its requests while
it starts, a target load its replicas can never reach, a router that would have to cold-start,
and a router `user_config` that would fail when applied in place.
"""

from typing import Any

from pydantic import ValidationError

from serve_app.builder import ROUTER_DEPLOYMENT, model_deployment_options
from serve_app.config import AppConfig, format_validation_error


def check_operations(config: AppConfig, overrides: list[dict[str, Any]], prefix: str) -> list[str]:
    """Problems with the per-deployment overrides of one application, one line each."""
    models = {model.name: model for model in config.models}
    scaled_to_zero = {
        d.get("name") for d in overrides if _min_replicas(d) == 0 and d.get("name") in models
    }
    problems: list[str] = []
    for index, deployment in enumerate(overrides):
        where = f"{prefix}.deployments[{index}]"
        name = deployment.get("name")
        if name == ROUTER_DEPLOYMENT:
            problems += _check_router(config, deployment, where)
        problems += _check_look_back(deployment, where)
        if name in models:
            default = model_deployment_options(models[name])["max_ongoing_requests"]
            problems += _check_target(deployment, default, where)
            if name in scaled_to_zero and not models[name].accept_cold_start:
                problems += _check_scale_to_zero(config, name, scaled_to_zero, where)
    return problems


def _min_replicas(deployment: dict[str, Any]) -> int | None:
    autoscaling = deployment.get("autoscaling_config")
    if isinstance(autoscaling, dict):
        return autoscaling.get("min_replicas", 1)
    replicas = deployment.get("num_replicas")
    return replicas if isinstance(replicas, int) else None


def _check_router(config: AppConfig, deployment: dict[str, Any], where: str) -> list[str]:
    problems = []
    if _min_replicas(deployment) == 0:
        field = "autoscaling_config.min_replicas" if "autoscaling_config" in deployment else "num_replicas"
        problems.append(
            f"{where}.{field}: 0; the router is the entry point and must keep a replica "
            "(allowed: 1 or more; it is small)"
        )
    user_config = deployment.get("user_config")
    if user_config is None:
        return problems
    if not isinstance(user_config, dict):
        return problems + [f"{where}.user_config: expected a mapping of policy overrides, got {user_config!r}"]
    try:
        config.with_policy(user_config)
    except (ValueError, ValidationError) as exc:
        problems += format_validation_error(exc, f"{where}.user_config")
    return problems


def _check_look_back(deployment: dict[str, Any], where: str) -> list[str]:
    """Ray only warns today, and will refuse it: a window shorter than one metrics report."""
    from ray.serve.config import AutoscalingConfig

    autoscaling = deployment.get("autoscaling_config")
    if not isinstance(autoscaling, dict) or "look_back_period_s" not in autoscaling:
        return []
    interval = autoscaling.get("metrics_interval_s", AutoscalingConfig.model_fields["metrics_interval_s"].default)
    look_back = autoscaling["look_back_period_s"]
    if isinstance(look_back, (int, float)) and look_back <= interval:
        return [
            f"{where}.autoscaling_config.look_back_period_s: {look_back} is not longer than "
            f"metrics_interval_s ({interval}), so the window can hold no metrics report; "
            f"allowed: more than {interval}"
        ]
    return []


def _check_target(deployment: dict[str, Any], default_max_ongoing: int, where: str) -> list[str]:
    autoscaling = deployment.get("autoscaling_config")
    if not isinstance(autoscaling, dict) or "target_ongoing_requests" not in autoscaling:
        return []
    target = autoscaling["target_ongoing_requests"]
    max_ongoing = deployment.get("max_ongoing_requests", default_max_ongoing)
    if isinstance(target, (int, float)) and isinstance(max_ongoing, int) and target > max_ongoing:
        return [
            f"{where}.autoscaling_config.target_ongoing_requests: {target} exceeds "
            f"max_ongoing_requests {max_ongoing}, so replicas never reach the target and the "
            f"deployment never scales up; allowed: at most {max_ongoing}"
        ]
    return []


def _check_scale_to_zero(config: AppConfig, model: str, scaled_to_zero: set, where: str) -> list[str]:
    """A model at zero replicas needs, on every route it leads, a fallback that stays up."""
    problems = []
    for category, route in config.routes.items():
        if route.model != model:
            continue
        warm = [f for f in route.fallbacks if f not in scaled_to_zero]
        if not warm:
            problems.append(
                f"{where}.autoscaling_config.min_replicas: 0 (scale to zero), but route "
                f"{category!r} has no fallback that stays up while {model!r} starts "
                f"(fallbacks: {list(route.fallbacks)}); allowed: add one to "
                f"routes.{category}.fallbacks, set accept_cold_start: true on model {model!r}, "
                "or keep min_replicas at 1 or more"
            )
    return problems
