"""The transformers engine on real tiny Qwen checkpoints, without Ray.

Random weights: assertions are about structure, counts, determinism and control flow, never
about what the text says.
"""

import asyncio
import base64
import functools
import io
import time

import pytest
from PIL import Image

from deployments.errors import ContextLengthExceededError, EngineError, InvalidRequestError
from deployments.types import GenerationRequest, Message, SamplingParams, TextPart

pytest.importorskip("torch")
from engine_requests import collect_deltas, joined_text, start_engine, user_request  # noqa: E402

_engine = functools.partial(start_engine, context_length=512, max_concurrency=2)


def _png_data_url(width=112, height=84) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def qwen2(tiny_checkpoints):
    return _engine(tiny_checkpoints, "qwen2")


def test_stream_ends_with_one_delta_carrying_finish_reason_and_usage(qwen2):
    deltas = asyncio.run(collect_deltas(qwen2, user_request(max_tokens=12, temperature=0)))
    *body, last = deltas
    assert all(d.finish_reason is None and d.usage is None for d in body)
    assert last.finish_reason in ("stop", "length") and last.usage is not None
    assert last.usage.prompt_tokens > 0
    assert 1 <= last.usage.completion_tokens <= 12
    if last.finish_reason == "length":
        assert last.usage.completion_tokens == 12


def test_prompt_tokens_are_the_rendered_chat_prompt(qwen2):
    short = asyncio.run(collect_deltas(qwen2, user_request("hi", max_tokens=1, temperature=0)))[-1].usage
    longer = asyncio.run(collect_deltas(qwen2, user_request("hi " * 40, max_tokens=1, temperature=0)))[-1].usage
    assert longer.prompt_tokens > short.prompt_tokens + 30


def test_greedy_decoding_is_deterministic(qwen2):
    first = joined_text(asyncio.run(collect_deltas(qwen2, user_request(max_tokens=20, temperature=0))))
    second = joined_text(asyncio.run(collect_deltas(qwen2, user_request(max_tokens=20, temperature=0))))
    assert first == second


@pytest.mark.parametrize("temperature", [1e-300, 5e-324, 1e-6])
def test_vanishing_temperature_decodes_greedily_instead_of_failing(qwen2, temperature):
    greedy = joined_text(asyncio.run(collect_deltas(qwen2, user_request(max_tokens=12, temperature=0))))
    assert joined_text(asyncio.run(collect_deltas(qwen2, user_request(max_tokens=12, temperature=temperature)))) == greedy


@pytest.mark.parametrize("top_p", [5e-324, 1e-300])
def test_vanishing_top_p_keeps_the_most_likely_token(qwen2, top_p):
    deltas = asyncio.run(collect_deltas(qwen2, user_request(max_tokens=6, temperature=1.0, top_p=top_p, seed=1)))
    assert deltas[-1].usage.completion_tokens >= 1


def test_a_failure_before_generation_starts_reaches_the_request_instead_of_hanging(qwen2):
    # A seed torch cannot take fails in the generation thread's set-up.
    request = user_request(max_tokens=4, temperature=1.0, seed=2**64)
    with pytest.raises(EngineError):
        asyncio.run(asyncio.wait_for(collect_deltas(qwen2, request), timeout=30))


def test_seed_makes_sampling_reproducible_even_when_requests_run_concurrently(qwen2):
    async def three():
        return await asyncio.gather(
            collect_deltas(qwen2, user_request(max_tokens=24, temperature=1.0, seed=11)),
            collect_deltas(qwen2, user_request(max_tokens=24, temperature=1.0, seed=12)),
            collect_deltas(qwen2, user_request(max_tokens=24, temperature=1.0, seed=11)),
        )

    a, b, c = (joined_text(d) for d in asyncio.run(three()))
    assert a == c
    assert a != b


def test_stop_string_truncates_the_text_and_finishes_with_stop(qwen2):
    free = joined_text(asyncio.run(collect_deltas(qwen2, user_request("Count: one two", max_tokens=40, temperature=1.0, seed=3))))
    stop = free[10:13]
    assert len(stop) == 3, "the free-running sample is too short to pick a stop string from"
    cut = free.index(stop)
    deltas = asyncio.run(
        collect_deltas(qwen2, user_request("Count: one two", max_tokens=40, temperature=1.0, seed=3, stop=(stop,)))
    )
    assert joined_text(deltas) == free[:cut]
    assert deltas[-1].finish_reason == "stop"


def test_prompt_longer_than_context_is_refused_before_generating(tiny_checkpoints):
    engine = _engine(tiny_checkpoints, "qwen2", context_length=64)
    with pytest.raises(ContextLengthExceededError) as caught:
        asyncio.run(collect_deltas(engine, user_request("word " * 200)))
    assert "64" in caught.value.message and caught.value.prompt_tokens > 64


def test_prompt_plus_max_tokens_over_context_is_refused(tiny_checkpoints):
    engine = _engine(tiny_checkpoints, "qwen2", context_length=64)
    with pytest.raises(ContextLengthExceededError) as caught:
        asyncio.run(collect_deltas(engine, user_request("hi", max_tokens=60)))
    assert caught.value.max_tokens == 60


def test_without_max_tokens_the_completion_may_fill_the_context(tiny_checkpoints):
    engine = _engine(tiny_checkpoints, "qwen2", context_length=80)
    usage = asyncio.run(collect_deltas(engine, user_request("hi", temperature=0)))[-1].usage
    assert usage.prompt_tokens + usage.completion_tokens <= 80


def test_closing_the_stream_aborts_generation_promptly(tiny_checkpoints):
    engine = _engine(tiny_checkpoints, "qwen2", context_length=1024, max_concurrency=1)
    request = user_request(max_tokens=900, temperature=0)

    started = time.perf_counter()
    full = asyncio.run(collect_deltas(engine, request))
    full_s = time.perf_counter() - started
    assert full[-1].usage.completion_tokens > 300, "needs a long generation to compare with"

    async def read_one_then_leave():
        stream = engine.generate(request)
        await stream.__anext__()
        began = time.perf_counter()
        await stream.aclose()  # returns once the generation thread has stopped
        return time.perf_counter() - began

    abort_s = asyncio.run(read_one_then_leave())
    assert abort_s < full_s / 4


def test_max_concurrency_bounds_generations_in_flight(tiny_checkpoints):
    engine = _engine(tiny_checkpoints, "qwen2", max_concurrency=1)
    events: list[str] = []

    async def run(name):
        async for delta in engine.generate(user_request(max_tokens=30, temperature=0)):
            if delta.finish_reason:
                events.append(f"{name} done")
            elif f"{name} first" not in events:
                events.append(f"{name} first")

    async def both():
        await asyncio.gather(run("a"), run("b"))

    asyncio.run(both())
    # With one slot the second generation cannot start before the first has finished.
    assert events.index("a done") < events.index("b first") or events.index("b done") < events.index("a first")


def test_vl_prompt_counts_the_image_tokens(tiny_checkpoints):
    engine = _engine(tiny_checkpoints, "qwen2.5-vl")
    text_only = asyncio.run(collect_deltas(engine, user_request("Describe.", max_tokens=2, temperature=0)))[-1].usage
    with_image = asyncio.run(
        collect_deltas(engine, user_request("Describe.", images=[_png_data_url()], max_tokens=2, temperature=0))
    )[-1].usage
    # 112x84 → 12 image tokens, plus <|vision_start|> and <|vision_end|>.
    assert with_image.prompt_tokens - text_only.prompt_tokens == 14


def test_text_model_refuses_images(qwen2):
    with pytest.raises(InvalidRequestError):
        asyncio.run(collect_deltas(qwen2, user_request(images=[_png_data_url()], max_tokens=2)))


def test_bad_image_is_a_client_error(tiny_checkpoints):
    engine = _engine(tiny_checkpoints, "qwen2.5-vl")
    with pytest.raises(InvalidRequestError):
        asyncio.run(collect_deltas(engine, user_request(images=["data:image/png;base64,aGVsbG8="], max_tokens=2)))


def test_qwen3_thinking_switch_reaches_the_chat_template(tiny_checkpoints):
    engine = _engine(tiny_checkpoints, "qwen3-moe")

    def prompt_tokens(**kwargs):
        request = GenerationRequest(
            "req", (Message("user", (TextPart("hi"),)),), SamplingParams(max_tokens=1), kwargs
        )
        return asyncio.run(collect_deltas(engine, request))[-1].usage.prompt_tokens

    assert prompt_tokens(enable_thinking=False) > prompt_tokens(enable_thinking=True)


def test_disconnect_frees_the_generation_slot(tiny_checkpoints):
    """A consumer that leaves stops its generation thread: the count of running ones drops to 0."""
    engine = _engine(tiny_checkpoints, "qwen2", context_length=1024, max_concurrency=1)

    async def leave_early():
        stream = engine.generate(user_request(max_tokens=900, temperature=0))
        await stream.__anext__()
        during = engine.active_generations()
        await stream.aclose()
        after_close = engine.active_generations()
        # The freed slot is usable at once: a new generation starts and finishes.
        deltas = [d async for d in engine.generate(user_request(max_tokens=4, temperature=0))]
        return during, after_close, deltas[-1].finish_reason

    during, after_close, finish = asyncio.run(leave_early())
    assert (during, after_close) == (1, 0)
    assert finish in ("stop", "length")
