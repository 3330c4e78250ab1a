"""AppConfig: a valid config passes; every rejected case says where, what, and what is allowed."""

import copy
from pathlib import Path

import pytest
from pydantic import ValidationError

from serve_app.config import AppConfig, format_validation_error

from app_args import MINIMAL_ARGS as MINIMAL

CONFIG_DIR = Path(__file__).resolve().parents[2] / "serve_app" / "configs"

def args(**changes) -> dict:
    return {**copy.deepcopy(MINIMAL), **changes}


def problems(document: dict) -> list[str]:
    with pytest.raises(ValidationError) as info:
        AppConfig.model_validate(document)
    return format_validation_error(info.value)


def only_problem(document: dict) -> str:
    found = problems(document)
    assert len(found) == 1, found
    return found[0]


def test_minimal_config_is_valid():
    config = AppConfig.model_validate(args())
    assert [m.name for m in config.models] == ["text-model", "vl-model"]
    assert config.model("vl-model").accepts_images
    assert not config.model("text-model").accepts_images
    assert config.routes["vision"].model == "vl-model"
    assert config.routes["math"].fallbacks == ()


def test_config_is_frozen():
    config = AppConfig.model_validate(args())
    with pytest.raises(ValidationError):
        config.cache_dir = "/elsewhere"
    with pytest.raises(ValidationError):
        config.models[0].context_length = 4096
    with pytest.raises(ValidationError):
        config.routes["math"].model = "vl-model"


def test_unknown_top_level_field_lists_allowed_fields():
    message = only_problem(args(modles=[]))
    assert message.startswith("modles: unknown field")
    for field in ("models", "routes", "router", "images", "cache_dir"):
        assert repr(field) in message


@pytest.mark.parametrize(
    "where,mutate,allowed",
    [
        ("models[0].contxt_length", lambda d: d["models"][0].update(contxt_length=1), ["context_length", "source"]),
        ("models[0].engine.devcie", lambda d: d["models"][0].update(engine={"kind": "transformers", "devcie": "cpu"}), ["device", "max_concurrency"]),
        ("models[0].engine.tensor_parallel", lambda d: d["models"][0].update(engine={"kind": "vllm", "tensor_parallel": 2}), ["tensor_parallel_size", "gpu_memory_utilization"]),
        ("router.health_timeout", lambda d: d.update(router={"health_timeout": 1}), ["health_timeout_s"]),
        ("images.max_size", lambda d: d.update(images={"max_size": 1}), ["max_bytes", "max_pixels"]),
    ],
)
def test_unknown_nested_field_lists_allowed_fields(where, mutate, allowed):
    document = args()
    mutate(document)
    message = only_problem(document)
    assert message.startswith(f"{where}: unknown field; allowed fields: ")
    for field in allowed:
        assert repr(field) in message


@pytest.mark.parametrize(
    "mutate,allowed",
    [
        (lambda d: d["routes"]["math"].update(fallback=["text-model"]), ["fallbacks", "model", "defaults"]),
        (lambda d: d["routes"]["math"].update(defaults={"temprature": 0.1}), ["temperature", "top_p", "max_tokens"]),
    ],
    ids=["route-field", "route-defaults-field"],
)
def test_unknown_field_inside_a_route_lists_allowed_fields(mutate, allowed):
    document = args()
    mutate(document)
    message = only_problem(document)
    assert message.startswith("routes.math.")
    for field in allowed:
        assert repr(field) in message


def test_route_to_unknown_model_lists_configured_models():
    document = args()
    document["routes"]["math"]["model"] = "qwen-math"
    message = only_problem(document)
    assert message.startswith("routes.math.model: ")
    assert "'qwen-math'" in message
    assert "'text-model'" in message and "'vl-model'" in message


def test_fallback_to_unknown_model_names_its_index():
    document = args()
    document["routes"]["code"]["fallbacks"] = ["vl-model", "qwen-coder"]
    message = only_problem(document)
    assert message.startswith("routes.code.fallbacks[1]: ")
    assert "'qwen-coder'" in message and "'text-model'" in message


@pytest.mark.parametrize(
    "route,where",
    [({"model": "text-model"}, "routes.vision.model"), ({"model": "vl-model", "fallbacks": ["text-model"]}, "routes.vision.fallbacks[0]")],
)
def test_vision_route_to_text_only_model_lists_image_models(route, where):
    document = args()
    document["routes"]["vision"] = route
    message = only_problem(document)
    assert message.startswith(f"{where}: ")
    assert "'text-model'" in message
    assert "does not accept images" in message
    assert "['vl-model']" in message


def test_missing_category_route_is_named():
    document = args()
    del document["routes"]["code"]
    message = only_problem(document)
    assert message.startswith("routes: ")
    assert "'code'" in message


def test_unknown_category_lists_categories():
    document = args()
    document["routes"]["poetry"] = {"model": "text-model"}
    message = only_problem(document)
    assert message.startswith("routes.poetry: ")
    assert "'poetry'" in message
    for category in ("math", "code", "vision", "reasoning", "general"):
        assert f"'{category}'" in message


def test_duplicate_model_names():
    document = args()
    document["models"].append(dict(document["models"][0]))
    message = only_problem(document)
    assert message.startswith("models: ")
    assert "unique" in message and "'text-model'" in message


def test_reserved_model_name_auto():
    document = args()
    document["models"][0]["name"] = "auto"
    message = problems(document)[0]
    assert message.startswith("models[0].name: ")
    assert "'auto'" in message and "reserved" in message


def test_bad_model_name_pattern_shows_value_and_pattern():
    document = args()
    document["models"][0]["name"] = "Qwen/Math 7B"
    message = problems(document)[0]
    assert message.startswith("models[0].name: ")
    assert "'Qwen/Math 7B'" in message
    assert "^[a-z0-9]" in message


def test_unknown_tiny_architecture_lists_allowed():
    document = args()
    document["models"][0]["source"] = "tiny:llama"
    message = only_problem(document)
    assert message.startswith("models[0].source: ")
    assert "'tiny:llama'" in message
    for allowed in ("tiny:qwen2", "tiny:qwen3-moe", "tiny:qwen2.5-vl"):
        assert allowed in message


def test_tiny_source_with_a_modality_it_lacks():
    document = args()
    document["models"][0]["modalities"] = ["text", "image"]
    message = only_problem(document)
    assert message.startswith("models[0].modalities: ")
    assert "tiny:qwen2" in message and "['text']" in message and "['image']" in message


def test_unknown_engine_kind_lists_kinds():
    document = args()
    document["models"][0]["engine"] = {"kind": "tgi"}
    message = only_problem(document)
    assert message.startswith("models[0].engine: ")
    assert "'tgi'" in message and "'transformers'" in message and "'vllm'" in message


@pytest.mark.parametrize(
    "where,mutate,bad,bound",
    [
        ("models[0].context_length", lambda d: d["models"][0].update(context_length=8), "8", "16"),
        ("routes.general.defaults.temperature", lambda d: d["routes"]["general"].update(defaults={"temperature": 2.5}), "2.5", "2"),
        ("models[0].engine.gpu_memory_utilization", lambda d: d["models"][0].update(engine={"kind": "vllm", "gpu_memory_utilization": 1.5}), "1.5", "1"),
        ("models[0].engine.max_concurrency", lambda d: d["models"][0].update(engine={"kind": "transformers", "max_concurrency": 0}), "0", "1"),
    ],
)
def test_out_of_range_numbers_name_value_and_bound(where, mutate, bad, bound):
    document = args()
    mutate(document)
    message = only_problem(document)
    assert message.startswith(f"{where}: ")
    assert f"(got {bad})" in message
    assert f"than or equal to {bound}" in message


def test_missing_required_field():
    document = args()
    del document["models"][1]["context_length"]
    assert only_problem(document) == "models[1].context_length: required field is missing"


def test_several_problems_are_all_reported_under_the_prefix():
    document = args(unknown=1)
    document["models"][0]["context_length"] = 1
    with pytest.raises(ValidationError) as info:
        AppConfig.model_validate(document)
    found = format_validation_error(info.value, "applications[0].args")
    assert len(found) == 2
    assert all(line.startswith("applications[0].args.") for line in found)


def test_non_validation_error_is_one_line():
    assert format_validation_error(ValueError("boom"), "file.yaml") == ["file.yaml: boom"]


def test_demo_config_is_shipped():
    assert (CONFIG_DIR / "demo.yaml").is_file()


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    from serve_app.serve_config import check_config_file

    assert check_config_file(path) == []
