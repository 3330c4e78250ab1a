"""`config check` of `deployments[].request_router_config`: the class, its kwargs, Ray's fields,
and the builder's defaults for it."""

import copy

import pytest
import yaml

from router.replica_routing import CONVERSATION_ROUTER, RAY_PREFIX_CACHE_ROUTER
from serve_app.builder import model_deployment_options
from serve_app.config import AppConfig
from serve_app.serve_config import check_config_file

from app_args import MINIMAL_ARGS as ARGS

WHERE = "applications[0].deployments[1].request_router_config"


def check(tmp_path, request_router_config, deployment: str = "text-model") -> list[str]:
    args = copy.deepcopy(ARGS)
    document = {
        "applications": [{
            "name": "qwen-router",
            "import_path": "serve_app.builder:build_app",
            "args": args,
            "deployments": [
                {"name": "Router", "num_replicas": 1},
                {"name": deployment, "num_replicas": 2, "request_router_config": request_router_config},
            ],
        }]
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    return check_config_file(path)


@pytest.mark.parametrize("config", [
    {"request_router_class": CONVERSATION_ROUTER},
    {"request_router_class": CONVERSATION_ROUTER, "request_router_kwargs": {"max_queue_imbalance": 8, "block_chars": 128}},
    {"request_router_class": RAY_PREFIX_CACHE_ROUTER, "request_router_kwargs": {"imbalanced_threshold": 4}},
    {"request_routing_stats_period_s": 5},  # Serve's default router, its own settings
])
def test_valid_request_router_configs(tmp_path, config):
    assert check(tmp_path, config) == []


@pytest.mark.parametrize("config,field,words", [
    ({"request_router_class": CONVERSATION_ROUTER, "request_router_kwags": {}},
     "request_router_kwags", ["unknown field", "'request_router_kwargs'"]),
    ({"request_router_class": "router.replica_routing.conversation_router:NoSuchRouter"},
     "request_router_class", ["cannot import", "NoSuchRouter", "AttributeError"]),
    ({"request_router_class": "no_such_module.Router"},
     "request_router_class", ["cannot import", "'no_such_module.Router'", "ModuleNotFoundError"]),
    ({"request_router_class": "serve_app.builder:build_app"},
     "request_router_class", ["not a ray.serve.request_router.RequestRouter subclass"]),
    ({"request_router_class": "ray.serve.llm.request_router.PrefixCacheAffinityRouter"},
     "request_router_class", ["empty prompt", RAY_PREFIX_CACHE_ROUTER, CONVERSATION_ROUTER]),
    ({"request_router_class": CONVERSATION_ROUTER, "request_router_kwargs": {"max_queue_imbalance": -1}},
     "request_router_kwargs.max_queue_imbalance", ["greater than or equal to 0"]),
    ({"request_router_class": CONVERSATION_ROUTER, "request_router_kwargs": {"max_queue_imbalence": 3}},
     "request_router_kwargs.max_queue_imbalence", ["unknown field", "'max_queue_imbalance'"]),
    ({"request_router_class": RAY_PREFIX_CACHE_ROUTER, "request_router_kwargs": {"imbalance": 4}},
     "request_router_kwargs", ["imbalance", "'imbalanced_threshold'"]),
    ({"request_router_kwargs": {"max_queue_imbalance": 3}},  # the class forgotten: Serve's default
     "request_router_kwargs", ["PowerOfTwoChoicesRequestRouter takes no request_router_kwargs", "max_queue_imbalance"]),
    ({"request_router_class": CONVERSATION_ROUTER, "request_routing_stats_period_s": 0},
     "request_routing_stats_period_s", ["greater than 0"]),
])
def test_each_problem_names_the_field_the_value_and_what_is_allowed(tmp_path, config, field, words):
    [problem] = check(tmp_path, config)
    assert problem.startswith(f"{WHERE}.{field}: "), problem
    for word in words:
        assert word in problem, problem


def test_the_conversation_router_is_refused_on_the_router_deployment(tmp_path):
    [problem] = check(tmp_path, {"request_router_class": CONVERSATION_ROUTER}, deployment="Router")
    assert problem.startswith(f"{WHERE}.request_router_class: ") and "model deployment only" in problem


def test_the_builder_turns_conversation_routing_on_where_the_engine_reuses_prefixes():
    def options(engine: dict) -> dict:
        args = copy.deepcopy(ARGS)
        args["models"][0]["engine"] = engine
        return model_deployment_options(AppConfig.model_validate(args).models[0])

    vllm = options({"kind": "vllm"})["request_router_config"]
    assert vllm.request_router_class == CONVERSATION_ROUTER
    assert vllm.request_router_kwargs == {"max_queue_imbalance": 16}  # a quarter of 64 ongoing
    assert "request_router_config" not in options({"kind": "vllm", "enable_prefix_caching": False})
    assert "request_router_config" not in options({"kind": "transformers"})  # no KV reuse across requests
