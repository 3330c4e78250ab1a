"""LoRA adapters: config rules, naming and selection in the router, the adapter gate, and the
transformers engine on a tiny checkpoint with a tiny PEFT adapter."""

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest

from deployments.errors import InvalidRequestError
from deployments.hf.adapters import AdapterGate
from deployments.types import GenerationRequest, Message, SamplingParams, TextPart
from router.errors import ModelNotFoundError
from router.policy import EXPLICIT_CATEGORY, RoutePolicy
from serve_app.config import AppConfig, format_validation_error, split_model_name
from tests.unit.app_args import MINIMAL_ARGS


def args_with_adapters(**route_models: str) -> dict[str, Any]:
    args = copy.deepcopy(MINIMAL_ARGS)
    args["models"][0]["adapters"] = [{"name": "sql", "source": "/adapters/sql"}, {"name": "math-v2", "source": "org/lora"}]
    for category, model in route_models.items():
        args["routes"][category]["model"] = model
    return args


def problems(args: dict[str, Any]) -> list[str]:
    with pytest.raises(Exception) as caught:
        AppConfig.model_validate(args)
    return format_validation_error(caught.value)


# --- config ------------------------------------------------------------------------------------


def test_split_model_name() -> None:
    assert split_model_name("coder:sql") == ("coder", "sql")
    assert split_model_name("coder") == ("coder", None)


def test_route_may_name_an_adapter() -> None:
    config = AppConfig.model_validate(args_with_adapters(code="text-model:sql"))
    assert config.models[0].adapter_names == ["sql", "math-v2"]


def test_route_naming_an_unknown_adapter_names_field_value_and_allowed() -> None:
    (line,) = problems(args_with_adapters(code="text-model:sqll"))
    assert line == (
        "routes.code.model: unknown adapter 'sqll' of model 'text-model'; its adapters: ['sql', 'math-v2']"
    )


def test_adapter_names_are_unique() -> None:
    args = args_with_adapters()
    args["models"][0]["adapters"].append({"name": "sql", "source": "/elsewhere"})
    (line,) = problems(args)
    assert line.startswith("models[0].adapters: names must be unique, ['sql']")


def test_colon_is_reserved_in_adapter_names() -> None:
    args = args_with_adapters()
    args["models"][0]["adapters"][0]["name"] = "sql:v2"
    (line,) = problems(args)
    assert line.startswith("models[0].adapters[0].name: ':' is reserved") and "'sql:v2'" in line


def test_adapter_name_pattern() -> None:
    args = args_with_adapters()
    args["models"][0]["adapters"][0]["name"] = "SQL"
    (line,) = problems(args)
    assert line.startswith("models[0].adapters[0].name: adapter name 'SQL' must match")


# --- router: naming and selection --------------------------------------------------------------


def classifier_of(category: str):
    from types import SimpleNamespace

    return lambda messages: SimpleNamespace(category=category, confidence=0.9, reasons=("test",))


def messages() -> tuple[Message, ...]:
    return (Message("user", (TextPart("hi"),)),)


def test_served_names_list_each_adapter_after_the_models() -> None:
    policy = RoutePolicy(AppConfig.model_validate(args_with_adapters()), classifier_of("code"))
    assert policy.served_names == ["auto", "text-model", "vl-model", "text-model:sql", "text-model:math-v2"]


def test_explicit_adapter_is_selected_by_name() -> None:
    policy = RoutePolicy(AppConfig.model_validate(args_with_adapters()), classifier_of("code"))
    decision = policy.decide("text-model:sql", messages())
    assert (decision.category, decision.model, decision.adapter) == (EXPLICIT_CATEGORY, "text-model", "sql")
    assert decision.served_model == "text-model:sql"
    assert policy.decide("text-model", messages()).adapter is None


def test_unknown_adapter_is_model_not_found_listing_served_names() -> None:
    policy = RoutePolicy(AppConfig.model_validate(args_with_adapters()), classifier_of("code"))
    with pytest.raises(ModelNotFoundError) as caught:
        policy.decide("text-model:nope", messages())
    assert "text-model:sql" in caught.value.message


def test_classified_route_carries_its_adapter() -> None:
    config = AppConfig.model_validate(args_with_adapters(code="text-model:sql"))
    decision = RoutePolicy(config, classifier_of("code")).decide("auto", messages())
    assert (decision.model, decision.adapter, decision.served_model) == ("text-model", "sql", "text-model:sql")


def test_generation_request_carries_the_adapter() -> None:
    from router.convert import to_generation_request
    from router.protocol import ChatCompletionRequest

    config = AppConfig.model_validate(args_with_adapters())
    policy = RoutePolicy(config, classifier_of("code"))
    body = ChatCompletionRequest.model_validate(
        {"model": "text-model:sql", "messages": [{"role": "user", "content": "hi"}]}
    )
    decision = policy.decide(body.model, messages())
    request = to_generation_request(body, messages(), request_id="r", decision=decision, template_defaults={})
    assert request.adapter == "sql"


# --- the adapter gate --------------------------------------------------------------------------


def test_gate_runs_one_adapter_at_a_time_in_arrival_order() -> None:
    switches: list[str | None] = []
    gate = AdapterGate(switches.append)

    async def scenario() -> list[str]:
        log: list[str] = []

        async def generation(name: str, adapter: str | None, hold_s: float) -> None:
            await gate.acquire(adapter)
            log.append(f"+{name}")
            assert gate.active == adapter
            await asyncio.sleep(hold_s)
            log.append(f"-{name}")
            gate.release()

        await asyncio.gather(
            generation("a1", "a", 0.05),
            generation("a2", "a", 0.01),
            generation("b1", "b", 0.01),
            generation("a3", "a", 0.01),  # behind b1: may not jump the queue
        )
        return log

    log = asyncio.run(scenario())
    assert log[:2] == ["+a1", "+a2"]  # same adapter: together
    assert log.index("+b1") > log.index("-a1")  # a switch waits for every running one
    assert log.index("+a3") > log.index("-b1")
    assert switches == ["a", "b", "a"]


def test_gate_waiter_that_leaves_frees_its_turn() -> None:
    gate = AdapterGate(lambda adapter: None)

    async def scenario() -> None:
        await gate.acquire("a")
        waiting = asyncio.ensure_future(gate.acquire("b"))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        gate.release()
        await asyncio.wait_for(gate.acquire("c"), 1)  # nobody is left holding "b"

    asyncio.run(scenario())


# --- the transformers engine with a tiny PEFT adapter ------------------------------------------


@pytest.fixture(scope="module")
def lora_engine(tiny_checkpoints, tmp_path_factory):
    from deployments.hf.tiny import build_tiny_adapter
    from deployments.transformers_engine import TransformersEngine
    from serve_app.config import ImageConfig, ModelConfig

    adapter = build_tiny_adapter(tiny_checkpoints["qwen2"], tmp_path_factory.mktemp("adapter"))
    model = ModelConfig(
        name="m",
        source=str(tiny_checkpoints["qwen2"]),
        context_length=512,
        adapters=[{"name": "sql", "source": str(adapter)}],
        engine={"kind": "transformers", "max_concurrency": 3},
    )
    engine = TransformersEngine(model, ImageConfig(), Path("/nonexistent-cache"))
    asyncio.run(engine.start())
    return engine


def request(adapter: str | None, **sampling: Any) -> GenerationRequest:
    return GenerationRequest(
        "req", messages(), SamplingParams(**{"max_tokens": 16, "temperature": 1.0, "seed": 5, **sampling}), adapter=adapter
    )


async def completion(engine, adapter: str | None) -> tuple[str, Any]:
    deltas = [d async for d in engine.generate(request(adapter))]
    return "".join(d.text for d in deltas), deltas[-1].usage


def test_adapter_changes_the_output_for_the_same_seed(lora_engine) -> None:
    base, _ = asyncio.run(completion(lora_engine, None))
    tuned, usage = asyncio.run(completion(lora_engine, "sql"))
    assert base != tuned
    assert usage.completion_tokens > 0
    assert asyncio.run(completion(lora_engine, None))[0] == base  # the base is restored


def test_concurrent_requests_for_base_and_adapter_each_get_their_own(lora_engine) -> None:
    alone = {a: asyncio.run(completion(lora_engine, a))[0] for a in (None, "sql")}

    async def mixed():
        return await asyncio.gather(*(completion(lora_engine, a) for a in (None, "sql", None, "sql")))

    outputs = [text for text, _ in asyncio.run(mixed())]
    assert outputs == [alone[None], alone["sql"], alone[None], alone["sql"]]
    assert lora_engine.active_generations() == 0


def test_unknown_adapter_is_a_client_error(lora_engine) -> None:
    with pytest.raises(InvalidRequestError, match="no adapter 'nope'"):
        asyncio.run(completion(lora_engine, "nope"))
