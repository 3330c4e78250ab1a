"""RoutePolicy: explicit model wins, auto asks the classifier, bad models and modalities refused."""

import pytest

from deployments.errors import InvalidRequestError
from deployments.types import ImagePart, Message, TextPart
from router.classifier import Classification
from router.errors import ModelNotFoundError
from router.policy import EXPLICIT_CATEGORY, RoutePolicy
from serve_app.config import AppConfig, GenerationDefaults

CONFIG = AppConfig.model_validate(
    {
        "models": [
            {"name": "math-model", "source": "tiny:qwen2", "context_length": 1024},
            {"name": "coder", "source": "tiny:qwen2", "context_length": 1024},
            {
                "name": "vl",
                "source": "tiny:qwen2.5-vl",
                "modalities": ["text", "image"],
                "context_length": 1024,
                "chat_template_kwargs": {"add_vision_id": True},
            },
            {
                "name": "moe",
                "source": "tiny:qwen3-moe",
                "context_length": 1024,
                "thinking": True,
                "chat_template_kwargs": {"enable_thinking": False, "keep": 1},
            },
        ],
        "routes": {
            "math": {"model": "math-model", "fallbacks": ["moe"], "defaults": {"temperature": 0.0}},
            "code": {"model": "coder", "fallbacks": ["moe", "math-model"]},
            "vision": {"model": "vl"},
            "reasoning": {
                "model": "moe",
                "defaults": {"temperature": 0.6, "top_p": 0.95, "chat_template_kwargs": {"enable_thinking": True}},
            },
            "general": {"model": "moe"},
        },
    }
)
TEXT = (Message("user", (TextPart("hello"),)),)
IMAGE = (Message("user", (TextPart("what is it?"), ImagePart("data:image/png;base64,AAAA"))),)


class StubClassifier:
    """A fixed classification; records what it was asked."""

    def __init__(self, category: str, confidence: float = 0.7, reasons=("stub signal",)) -> None:
        self.result = Classification(category, confidence, tuple(reasons))  # type: ignore[arg-type]
        self.calls: list = []

    def __call__(self, messages):
        self.calls.append(messages)
        return self.result


def policy(category: str = "general") -> tuple[RoutePolicy, StubClassifier]:
    classifier = StubClassifier(category)
    return RoutePolicy(CONFIG, classifier), classifier


def test_model_names():
    assert policy()[0].model_names == ["math-model", "coder", "vl", "moe"]


def test_explicit_model_wins_over_the_classifier():
    route_policy, classifier = policy("math")
    decision = route_policy.decide("coder", TEXT)
    assert decision.category == EXPLICIT_CATEGORY
    assert decision.model == "coder"
    assert decision.confidence == 1.0
    assert decision.reasons
    assert decision.fallbacks == ()
    assert decision.defaults == GenerationDefaults()
    assert classifier.calls == []


@pytest.mark.parametrize("requested", ["auto", ""])
def test_auto_goes_to_the_classified_route(requested):
    route_policy, classifier = policy("code")
    decision = route_policy.decide(requested, TEXT)
    assert classifier.calls == [TEXT]
    assert decision.category == "code"
    assert decision.model == "coder"
    assert decision.fallbacks == ("moe", "math-model")
    assert decision.confidence == 0.7
    assert decision.reasons == ("stub signal",)
    assert decision.defaults == CONFIG.routes["code"].defaults


def test_auto_carries_route_defaults():
    decision = policy("reasoning")[0].decide("auto", TEXT)
    assert decision.model == "moe"
    assert (decision.defaults.temperature, decision.defaults.top_p) == (0.6, 0.95)


def test_unknown_model_lists_auto_and_models():
    with pytest.raises(ModelNotFoundError) as info:
        policy()[0].decide("gpt-4o", TEXT)
    message = info.value.message
    assert "'gpt-4o'" in message
    assert "auto, math-model, coder, vl, moe" in message
    assert info.value.param == "model"


def test_model_names_are_case_sensitive():
    with pytest.raises(ModelNotFoundError):
        policy()[0].decide("Coder", TEXT)


def test_images_to_text_only_explicit_model_name_image_models():
    with pytest.raises(InvalidRequestError) as info:
        policy()[0].decide("coder", IMAGE)
    assert "'coder'" in info.value.message
    assert "['vl']" in info.value.message
    assert info.value.param == "model"


def test_images_to_image_model_explicitly():
    assert policy()[0].decide("vl", IMAGE).model == "vl"


def test_images_classified_to_vision_route():
    assert policy("vision")[0].decide("auto", IMAGE).model == "vl"


def test_images_classified_to_a_text_only_route_are_refused():
    with pytest.raises(InvalidRequestError):
        policy("general")[0].decide("auto", IMAGE)


def test_chat_template_kwargs_route_overrides_model_defaults():
    route_policy, _ = policy("reasoning")
    decision = route_policy.decide("auto", TEXT)
    assert route_policy.chat_template_kwargs(decision) == {"enable_thinking": True, "keep": 1}


def test_chat_template_kwargs_model_defaults_alone():
    route_policy, _ = policy("general")
    assert route_policy.chat_template_kwargs(route_policy.decide("auto", TEXT)) == {"enable_thinking": False, "keep": 1}
    assert route_policy.chat_template_kwargs(route_policy.decide("vl", TEXT)) == {"add_vision_id": True}


def test_chat_template_kwargs_do_not_leak_into_config():
    route_policy, _ = policy("reasoning")
    kwargs = route_policy.chat_template_kwargs(route_policy.decide("auto", TEXT))
    kwargs["enable_thinking"] = "changed"
    assert CONFIG.model("moe").chat_template_kwargs == {"enable_thinking": False, "keep": 1}
    assert CONFIG.routes["reasoning"].defaults.chat_template_kwargs == {"enable_thinking": True}


def _with_router(**router) -> AppConfig:
    return AppConfig.model_validate({**CONFIG.model_dump(), "router": router})


@pytest.mark.parametrize("confidence,expected", [(0.49, "moe"), (0.5, "coder"), (0.9, "coder")])
def test_low_confidence_takes_the_fallback_route(confidence, expected):
    classifier = StubClassifier("code", confidence=confidence)
    decision = RoutePolicy(_with_router(min_confidence=0.5), classifier).decide("auto", TEXT)
    assert decision.model == expected
    assert decision.confidence == confidence
    if expected == "moe":
        assert decision.category == "general"
        assert decision.reasons[0] == "confidence 0.49 < min_confidence 0.50: code → general"
        assert decision.reasons[1:] == ("stub signal",)
        assert decision.defaults == CONFIG.routes["general"].defaults


def test_fallback_category_is_configurable():
    config = _with_router(min_confidence=0.9, fallback_category="reasoning")
    decision = RoutePolicy(config, StubClassifier("math", confidence=0.6)).decide("auto", TEXT)
    assert (decision.category, decision.model, decision.defaults.temperature) == ("reasoning", "moe", 0.6)


def test_min_confidence_zero_never_falls_back():
    decision = RoutePolicy(_with_router(min_confidence=0.0), StubClassifier("math", confidence=0.01)).decide("auto", TEXT)
    assert decision.model == "math-model"


def test_vision_never_falls_back_to_a_text_model():
    config = _with_router(min_confidence=1.0)
    assert RoutePolicy(config, StubClassifier("vision", confidence=1.0)).decide("auto", IMAGE).model == "vl"


@pytest.mark.parametrize(
    "router,field,fragment",
    [
        ({"min_confidence": 1.5}, "min_confidence", "less than or equal to 1"),
        ({"fallback_category": "vision"}, "fallback_category", "'math', 'code', 'reasoning' or 'general'"),
    ],
)
def test_router_config_errors_name_field_and_allowed_values(router, field, fragment):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        _with_router(**router)
    message = str(info.value)
    assert f"router.{field}" in message and fragment in message
