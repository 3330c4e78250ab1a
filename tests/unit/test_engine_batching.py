"""Continuous batching in the transformers engine, on the tiny checkpoints, without Ray.

Steps are observed by wrapping the batcher's real `packed_logits` (the forward pass still runs):
that shows which sequences shared a step and the logits each token was chosen from. Random
weights: assertions are about structure, counts, which settings chose which token, and
determinism, never about what the text says.
"""

import asyncio
import functools

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from deployments.errors import EngineError  # noqa: E402
from deployments.hf import batcher as batcher_module  # noqa: E402
from deployments.hf.sampling import nucleus  # noqa: E402
from deployments.hf.sequence import Sequence  # noqa: E402
from engine_requests import collect_deltas, joined_text, start_engine, user_request  # noqa: E402
from serve_app.config import ImageConfig, TransformersEngineConfig  # noqa: E402

_engine = functools.partial(start_engine, context_length=2048, max_concurrency=4)


@pytest.fixture(scope="module")
def engine(tiny_checkpoints):
    engine_ = _engine(tiny_checkpoints)
    yield engine_
    asyncio.run(engine_.shutdown())


class StepLog:
    """Every step the batcher runs: its rows, and the logits each row's token came from."""

    def __init__(self) -> None:
        self.steps: list[list[Sequence]] = []
        self.choices: list[tuple[Sequence, torch.Tensor, int]] = []
        self._logits: dict[int, torch.Tensor] = {}

    def sizes(self) -> list[int]:
        return [len(rows) for rows in self.steps]


@pytest.fixture
def steps(monkeypatch) -> StepLog:
    log = StepLog()
    real_forward, real_accept = batcher_module.packed_logits, Sequence.accept

    def forward(model, rows, device):
        logits = real_forward(model, rows, device)
        log.steps.append(list(rows))
        log._logits.update({id(row): row_logits.clone() for row, row_logits in zip(rows, logits)})
        return logits

    def accept(self, token_id):
        log.choices.append((self, log._logits[id(self)], token_id))
        return real_accept(self, token_id)

    monkeypatch.setattr(batcher_module, "packed_logits", forward)
    monkeypatch.setattr(Sequence, "accept", accept)
    return log


def test_a_request_joins_a_running_batch_and_leaves_while_the_other_goes_on(engine, steps) -> None:
    async def scenario():
        long = engine.generate(user_request("Tell me a long story", max_tokens=300, temperature=0))
        for _ in range(5):
            await long.__anext__()
        short = await collect_deltas(engine, user_request("hi", max_tokens=8, temperature=0))
        still_running = engine.active_generations()
        rest = [d async for d in long]
        return short, still_running, rest

    short, still_running, rest = asyncio.run(scenario())
    assert short[-1].usage.completion_tokens <= 8 and short[-1].finish_reason in ("stop", "length")
    assert still_running == 1  # the short one left; the long one was still decoding
    assert rest[-1].finish_reason in ("stop", "length")
    assert rest[-1].usage.completion_tokens > short[-1].usage.completion_tokens
    assert 2 in steps.sizes()  # they shared steps
    assert engine.active_generations() == 0


def test_cancelling_one_sequence_mid_batch_frees_its_place_for_the_next(tiny_checkpoints, steps) -> None:
    engine = _engine(tiny_checkpoints, max_concurrency=3)

    async def scenario():
        streams = [engine.generate(user_request(f"story {i}", max_tokens=250, temperature=0)) for i in range(3)]
        for stream in streams:
            await stream.__anext__()
        await streams[1].aclose()  # the client of the middle one leaves
        after_leaving = engine.active_generations()
        joined = await collect_deltas(engine, user_request("quick", max_tokens=6, temperature=0))
        others_running = engine.active_generations()
        finals = [[d async for d in stream][-1] for stream in (streams[0], streams[2])]
        return after_leaving, joined, others_running, finals

    after_leaving, joined, others_running, finals = asyncio.run(scenario())
    assert after_leaving == 2  # its place was free as soon as aclose() returned
    assert joined[-1].finish_reason in ("stop", "length")
    assert others_running == 2  # the newcomer ran and left while the other two decoded
    assert all(f.finish_reason in ("stop", "length") for f in finals)
    assert max(steps.sizes()) == 3
    asyncio.run(engine.shutdown())


def test_mixed_lengths_and_sampling_settings_share_steps_and_each_keeps_its_own(engine, steps) -> None:
    settings = [
        {"max_tokens": 20, "temperature": 0.0},
        {"max_tokens": 35, "temperature": 0.8, "top_p": 0.9},
        {"max_tokens": 12, "temperature": 1.3},
        {"max_tokens": 27, "temperature": 0.7, "top_p": 0.5},
    ]

    async def together():
        return await asyncio.gather(*(collect_deltas(engine, user_request(f"item {i}", **s)) for i, s in enumerate(settings)))

    results = asyncio.run(together())
    for setting, deltas in zip(settings, results):
        usage, finish = deltas[-1].usage, deltas[-1].finish_reason
        assert usage.completion_tokens == setting["max_tokens"] or (finish == "stop" and usage.completion_tokens < setting["max_tokens"])
    assert 4 in steps.sizes()

    by_row: dict[int, list[tuple[torch.Tensor, int]]] = {}
    rows = {}
    for row, logits, token in steps.choices:
        by_row.setdefault(id(row), []).append((logits, token))
        rows[id(row)] = row
    greedy = [r for r in rows.values() if r.sampler.greedy]
    assert len(greedy) == 1
    assert all(token == int(logits.argmax()) for logits, token in by_row[id(greedy[0])])
    for row in rows.values():
        temperature, top_p = row.sampler._temperature, row.sampler._top_p
        if row.sampler.greedy:
            continue
        choices = by_row[id(row)]
        assert any(token != int(logits.argmax()) for logits, token in choices), "sampled rows must sample"
        for logits, token in choices:
            _, allowed = nucleus(torch.softmax(logits.float() / temperature, -1), top_p)
            assert token in allowed.tolist()


def test_a_seeded_request_gives_the_same_text_alone_and_among_others(engine, steps) -> None:
    seeded = {"max_tokens": 24, "temperature": 1.0, "top_p": 0.9, "seed": 11}
    alone = joined_text(asyncio.run(collect_deltas(engine, user_request("seeded", **seeded))))

    async def crowded():
        return await asyncio.gather(
            collect_deltas(engine, user_request("seeded", **seeded)),
            *(collect_deltas(engine, user_request(f"other {i}", max_tokens=30, temperature=0.9)) for i in range(3)),
            collect_deltas(engine, user_request("seeded", **{**seeded, "seed": 12})),
        )

    same, *_, other_seed = asyncio.run(crowded())
    assert joined_text(same) == alone
    assert joined_text(other_seed) != alone
    # Seeded sequences are decoded in batches of their own.
    assert all(len(rows) == 1 for rows in steps.steps if any(r.solo for r in rows))
    assert any(len(rows) > 1 for rows in steps.steps)


def test_a_failing_sequence_fails_alone_and_the_others_finish(engine, monkeypatch) -> None:
    real_forward = batcher_module.packed_logits
    failing_max_tokens = 37  # marks the failing request

    def forward(model, rows, device):
        if any(r.max_new_tokens == failing_max_tokens and r.generated >= 3 for r in rows):
            raise RuntimeError("simulated fault in this sequence's forward pass")
        return real_forward(model, rows, device)

    monkeypatch.setattr(batcher_module, "packed_logits", forward)

    async def scenario():
        async def outcome(request):
            try:
                return await collect_deltas(engine, request)
            except EngineError as error:
                return error

        return await asyncio.gather(
            outcome(user_request("fails", max_tokens=failing_max_tokens, temperature=0)),
            *(outcome(user_request(f"fine {i}", max_tokens=25, temperature=0)) for i in range(3)),
        )

    failed, *fine = asyncio.run(scenario())
    assert isinstance(failed, EngineError)
    for deltas in fine:
        assert not isinstance(deltas, Exception)
        assert deltas[-1].finish_reason in ("stop", "length")
    assert engine.active_generations() == 0
    assert asyncio.run(collect_deltas(engine, user_request(max_tokens=3, temperature=0)))[-1].finish_reason


def test_requests_whose_caches_do_not_fit_together_run_one_after_the_other(tiny_checkpoints, steps) -> None:
    # 0.25 MiB holds 512 tokens of the tiny model's cache (512 bytes each): one request of
    # ~320 reserved tokens fits, two do not.
    engine = _engine(tiny_checkpoints, kv_cache_mib=0.25, context_length=512)

    async def two():
        return await asyncio.gather(
            *(collect_deltas(engine, user_request(f"long {i}", max_tokens=300, temperature=0)) for i in range(2))
        )

    results = asyncio.run(two())
    assert all(r[-1].finish_reason in ("stop", "length") for r in results)
    assert set(steps.sizes()) == {1}
    asyncio.run(engine.shutdown())


def test_a_kv_cache_budget_below_one_context_is_a_config_error_naming_the_field(tiny_checkpoints) -> None:
    with pytest.raises(ValueError) as caught:
        _engine(tiny_checkpoints, kv_cache_mib=1, context_length=4096)
    message = str(caught.value)
    assert "engine.kv_cache_mib: 1.0 MiB" in message and "4096" in message and "at least 2.0" in message


@pytest.mark.parametrize("architecture", ["qwen2", "qwen3-moe", "qwen2.5-vl"])
def test_alone_a_greedy_request_decodes_what_model_generate_decodes(tiny_checkpoints, image_url, architecture) -> None:
    """The packed step, the per-sequence cache and (Qwen2.5-VL) M-RoPE positions of an image
    prompt, against transformers' own generate on the same checkpoint."""
    path = tiny_checkpoints[architecture]
    engine = _engine(tiny_checkpoints, architecture, context_length=512)
    vision = architecture == "qwen2.5-vl"
    request = user_request("Describe this, please", images=[image_url] if vision else (), max_tokens=24, temperature=0)
    ours = asyncio.run(collect_deltas(engine, request))
    asyncio.run(engine.shutdown())

    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    if vision:
        from deployments.images import load_images

        from deployments.hf.processor import load_vl_processor

        model = transformers.AutoModelForImageTextToText.from_pretrained(path).eval()
        content = [{"type": "image"}, {"type": "text", "text": "Describe this, please"}]
        text = tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True)
        images = asyncio.run(load_images(request.images, ImageConfig()))
        inputs = load_vl_processor(path)(text=[text], images=images, return_tensors="pt")
    else:
        model = transformers.AutoModelForCausalLM.from_pretrained(path).eval()
        chat = [{"role": "user", "content": "Describe this, please"}]
        text = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        generated = model.generate(**inputs, max_new_tokens=24, do_sample=False)
    prompt_length = inputs["input_ids"].shape[1]
    assert ours[-1].usage.prompt_tokens == prompt_length
    assert joined_text(ours) == tokenizer.decode(generated[0, prompt_length:], skip_special_tokens=True)


def test_image_and_text_requests_share_a_batch_on_the_vision_model(tiny_checkpoints, image_url, steps) -> None:
    engine = _engine(tiny_checkpoints, "qwen2.5-vl", context_length=512)

    async def mixed():
        return await asyncio.gather(
            collect_deltas(engine, user_request("Describe.", images=[image_url], max_tokens=20, temperature=0)),
            collect_deltas(engine, user_request("Describe.", max_tokens=20, temperature=0)),
        )

    with_image, text_only = asyncio.run(mixed())
    asyncio.run(engine.shutdown())
    # 112x84 → 12 image tokens, plus <|vision_start|> and <|vision_end|>.
    assert with_image[-1].usage.prompt_tokens - text_only[-1].usage.prompt_tokens == 14
    assert all(r[-1].finish_reason in ("stop", "length") for r in (with_image, text_only))
    assert 2 in steps.sizes()


def test_kv_cache_mib_must_be_positive() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="kv_cache_mib"):
        TransformersEngineConfig(kv_cache_mib=0)
