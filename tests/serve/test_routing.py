"""Each category reaches its own deployment, over real HTTP with the official openai client."""

import pytest

CATEGORY_CASES = [
    ("math", "Solve 3x + 5 = 20 for x.", "qwen2.5-math"),
    ("code", "Write a Python function that reverses a linked list.", "qwen2.5-coder"),
    (
        "reasoning",
        "Knights always tell the truth and knaves always lie. A says: 'B is a knave.' "
        "B says: 'A and I are both knights.' Who is lying?",
        "qwen3-moe",
    ),
    ("general", "Write a short poem about autumn leaves.", "qwen3-moe"),
]


def _user(text):
    return [{"role": "user", "content": text}]


def _route_of(raw):
    completion = raw.parse()
    return completion, completion.model_extra["route"]


@pytest.mark.parametrize("category,prompt,model", CATEGORY_CASES)
def test_auto_sends_each_category_to_its_deployment(client, category, prompt, model):
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=_user(prompt), max_tokens=8)
    completion, route = _route_of(raw)
    assert raw.headers["x-route-category"] == category
    assert raw.headers["x-route-model"] == model
    assert route["category"] == category and route["model"] == model
    assert route["replica"].startswith(f"{model}#"), "a replica of another deployment answered"
    assert route["reasons"] and route["fallback_from"] is None
    assert float(raw.headers["x-route-confidence"]) == pytest.approx(route["confidence"], abs=1e-3)
    assert completion.model == model
    assert completion.choices[0].message.role == "assistant"


def test_an_image_goes_to_the_vision_model_and_counts_its_tokens(client, image_url):
    content = [{"type": "text", "text": "What is in this picture?"}, {"type": "image_url", "image_url": {"url": image_url}}]
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": content}], max_tokens=4
    )
    with_image, route = _route_of(raw)
    assert raw.headers["x-route-category"] == "vision"
    assert route["replica"].startswith("qwen2.5-vl#")
    text_only = client.chat.completions.create(
        model="qwen2.5-vl", messages=_user("What is in this picture?"), max_tokens=4
    )
    # 12 image tokens for 112x84 plus <|vision_start|> and <|vision_end|>.
    assert with_image.usage.prompt_tokens - text_only.usage.prompt_tokens == 14


def test_a_model_named_explicitly_wins_over_the_classifier(client):
    raw = client.chat.completions.with_raw_response.create(
        model="qwen2.5-math", messages=_user("Write a short poem about autumn leaves."), max_tokens=4
    )
    completion, route = _route_of(raw)
    assert raw.headers["x-route-category"] == "explicit"
    assert route["model"] == "qwen2.5-math" and route["replica"].startswith("qwen2.5-math#")
    assert route["confidence"] == 1.0


def test_general_route_turns_qwen3_thinking_off(client):
    prompt = _user("Write a short poem about autumn leaves.")
    general = client.chat.completions.create(model="auto", messages=prompt, max_tokens=1)
    thinking_on = client.chat.completions.create(
        model="qwen3-moe", messages=prompt, max_tokens=1, extra_body={"chat_template_kwargs": {"enable_thinking": True}}
    )
    assert general.model_extra["route"]["category"] == "general"
    # enable_thinking=false makes the template append an empty <think></think> block.
    assert general.usage.prompt_tokens > thinking_on.usage.prompt_tokens


def test_usage_counts_add_up_and_respect_max_tokens(client):
    completion = client.chat.completions.create(
        model="qwen2.5-coder", messages=_user("Explain recursion."), max_tokens=16, temperature=0
    )
    usage = completion.usage
    assert usage.prompt_tokens > 0 and 1 <= usage.completion_tokens <= 16
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    if completion.choices[0].finish_reason == "length":
        assert usage.completion_tokens == 16


def test_models_lists_auto_and_every_model(client):
    ids = [model.id for model in client.models.list()]
    assert ids == ["auto", "qwen2.5-math", "qwen2.5-coder", "qwen2.5-vl", "qwen3-moe"]


def test_health_and_readiness(http):
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["models"].values()) == {"ready"}


@pytest.mark.parametrize(
    "conversation",
    [
        ["Write a Python function that parses a CSV line.", "now do it in Rust"],
        ["Ratkaise yhtälö 5x + 3 = 28."],
        ["hmm"],  # no known words: the prior decides
    ],
)
def test_auto_reaches_the_deployment_the_classifier_chose_with_its_reasons(client, conversation):
    from deployments.types import Message, TextPart
    from router.classifier import classify, with_fallback
    from serve_app.builder import CONFIG_DIR, serve_config_args
    from serve_app.config import AppConfig

    config = AppConfig.model_validate(serve_config_args(CONFIG_DIR / "demo.yaml"))
    messages = [{"role": "user", "content": text} for text in conversation]
    expected = with_fallback(
        classify([Message("user", (TextPart(text),)) for text in conversation],
                 context_turns=config.router.classify_context_turns),
        config.router.min_confidence,
        config.router.fallback_category,
    )
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=messages, max_tokens=2)
    _, route = _route_of(raw)
    model = config.routes[expected.category].model
    assert route["category"] == expected.category and route["model"] == model
    assert route["replica"].startswith(f"{model}#")
    assert route["reasons"] == list(expected.reasons) and route["reasons"]
    assert route["confidence"] == pytest.approx(expected.confidence)
