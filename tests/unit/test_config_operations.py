"""Operational rules in `config check`: scale to zero, reachable targets, the router's overrides."""

import copy

import pytest

from serve_app.config import AppConfig, RouterConfig
from serve_app.serve_config import check_serve_config

from app_args import MINIMAL_ARGS

ZERO = {"min_replicas": 0, "initial_replicas": 0, "max_replicas": 1}


def serve_config(*deployments: dict, args: dict = MINIMAL_ARGS) -> dict:
    application = {
        "name": "qwen-router",
        "import_path": "serve_app.builder:build_app",
        "args": copy.deepcopy(args),
        "deployments": list(deployments),
    }
    return {"applications": [application]}


def with_route(args: dict, category: str, **route) -> dict:
    changed = copy.deepcopy(args)
    changed["routes"][category] = route
    return changed


def test_scale_to_zero_without_a_fallback_is_rejected_naming_the_ways_out():
    problems = check_serve_config(serve_config({"name": "vl-model", "autoscaling_config": ZERO}))
    assert len(problems) == 1
    problem = problems[0]
    assert problem.startswith("applications[0].deployments[0].autoscaling_config.min_replicas: 0")
    assert "route 'vision'" in problem
    assert "routes.vision.fallbacks" in problem and "accept_cold_start" in problem


def test_scale_to_zero_with_a_warm_fallback_is_allowed():
    args = MINIMAL_ARGS
    for category in ("math", "code", "reasoning", "general"):
        args = with_route(args, category, model="text-model", fallbacks=["vl-model"])
    assert check_serve_config(serve_config({"name": "text-model", "autoscaling_config": ZERO}, args=args)) == []


def test_scale_to_zero_when_the_fallback_also_scales_to_zero_is_rejected():
    args = with_route(MINIMAL_ARGS, "math", model="text-model", fallbacks=["vl-model"])
    document = serve_config(
        {"name": "text-model", "autoscaling_config": ZERO},
        {"name": "vl-model", "autoscaling_config": ZERO},
        args=with_route(args, "vision", model="vl-model"),
    )
    problems = check_serve_config(document)
    assert any("route 'math'" in p and "['vl-model']" in p for p in problems)


def test_scale_to_zero_is_allowed_when_the_model_accepts_cold_starts():
    args = copy.deepcopy(MINIMAL_ARGS)
    args["models"][1]["accept_cold_start"] = True
    assert check_serve_config(serve_config({"name": "vl-model", "autoscaling_config": ZERO}, args=args)) == []


def test_router_must_keep_a_replica():
    router = {"name": "Router", "autoscaling_config": {"min_replicas": 0, "max_replicas": 2}}
    problems = check_serve_config(serve_config(router))
    assert problems == [
        "applications[0].deployments[0].autoscaling_config.min_replicas: 0; the router is the entry "
        "point and must keep a replica (allowed: 1 or more; it is small)"
    ]


def test_target_above_max_ongoing_requests_is_rejected():
    autoscaling = {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 32}
    problems = check_serve_config(
        serve_config({"name": "text-model", "max_ongoing_requests": 16, "autoscaling_config": autoscaling})
    )
    assert problems == [
        "applications[0].deployments[0].autoscaling_config.target_ongoing_requests: 32 exceeds "
        "max_ongoing_requests 16, so replicas never reach the target and the deployment never "
        "scales up; allowed: at most 16"
    ]


def test_target_is_compared_with_the_builders_default_max_ongoing_requests():
    # transformers engine, max_concurrency 2 by default → max_ongoing_requests 8
    autoscaling = {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 9}
    problems = check_serve_config(serve_config({"name": "text-model", "autoscaling_config": autoscaling}))
    assert len(problems) == 1 and "at most 8" in problems[0]


def test_router_user_config_is_checked_as_a_policy_override():
    good = {"name": "Router", "user_config": {"routes": {"math": {"model": "vl-model"}}, "router": {"spill_over_per_replica": 4}}}
    assert check_serve_config(serve_config(good)) == []
    bad_model = {"name": "Router", "user_config": {"routes": {"math": {"model": "nope"}}}}
    problems = check_serve_config(serve_config(bad_model))
    assert len(problems) == 1
    assert problems[0].startswith("applications[0].deployments[0].user_config")
    assert "'nope'" in problems[0] and "text-model" in problems[0]
    not_policy = {"name": "Router", "user_config": {"models": []}}
    assert check_serve_config(serve_config(not_policy)) == [
        "applications[0].deployments[0].user_config.models: not a policy field; a router "
        "user_config may set ['routes', 'router']"
    ]


def test_policy_override_replaces_only_what_it_names():
    config = AppConfig.model_validate(MINIMAL_ARGS)
    changed = config.with_policy({"routes": {"math": {"model": "vl-model"}}, "router": {"request_timeout_s": 5}})
    assert changed.routes["math"].model == "vl-model"
    assert changed.routes["code"] == config.routes["code"]
    assert changed.router == RouterConfig(request_timeout_s=5)
    assert changed.models == config.models


@pytest.mark.parametrize("field", ["request_timeout_s", "max_cold_start_wait_s", "spill_over_per_replica", "fleet_refresh_s"])
def test_router_time_and_load_settings_must_be_positive(field):
    with pytest.raises(ValueError, match=field):
        RouterConfig.model_validate({field: 0})


def test_look_back_window_must_outlast_a_metrics_report():
    autoscaling = {"min_replicas": 1, "max_replicas": 2, "look_back_period_s": 5}
    problems = check_serve_config(serve_config({"name": "text-model", "autoscaling_config": autoscaling}))
    assert problems == [
        "applications[0].deployments[0].autoscaling_config.look_back_period_s: 5 is not longer "
        "than metrics_interval_s (10.0), so the window can hold no metrics report; allowed: more than 10.0"
    ]
    autoscaling["look_back_period_s"] = 12
    assert check_serve_config(serve_config({"name": "text-model", "autoscaling_config": autoscaling})) == []


def test_rate_limiter_deployment_may_be_tuned_only_where_it_exists():
    limited = copy.deepcopy(MINIMAL_ARGS)
    limited["auth"] = {"keys": [{"name": "team", "sha256": "ab" * 32, "rate_limit": {"requests_per_minute": 60}}]}
    limiter = {"name": "RateLimiter", "num_replicas": 1}
    assert check_serve_config(serve_config(limiter, args=limited)) == []
    problems = check_serve_config(serve_config(limiter))
    assert problems == [
        "applications[0].deployments[0].name: unknown deployment 'RateLimiter'; this application "
        "has ['Router', 'text-model', 'vl-model']"
    ]
