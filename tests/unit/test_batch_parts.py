"""The pieces of the transformers engine's batcher on the tiny checkpoints, without an engine:
stop strings across token boundaries, per-request sampling, each sequence's cache, and one
packed step against the model's own forward.
"""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from deployments.hf.kv_cache import SequenceCache, TokenBudget, kv_bytes_per_token  # noqa: E402
from deployments.hf.packed_step import packed_logits  # noqa: E402
from deployments.hf.ragged_attention import RAGGED_ATTENTION  # noqa: E402
from deployments.hf.sampling import TokenSampler, nucleus  # noqa: E402
from deployments.hf.sequence import Prompt, Sequence  # noqa: E402
from deployments.hf.streaming import TextStream  # noqa: E402


@pytest.fixture(scope="module")
def tokenizer(tiny_checkpoints):
    return transformers.AutoTokenizer.from_pretrained(tiny_checkpoints["qwen2"])


def test_a_stop_string_split_across_tokens_ends_the_text_before_it(tokenizer) -> None:
    text = "The quick brown fox jumps over the lazy dog again and again"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    pieces = [tokenizer.decode([i]) for i in ids]
    # The end of one token and the start of the next.
    boundary = next(i for i in range(1, len(ids)) if len(pieces[i - 1]) >= 2 and len(pieces[i]) >= 2)
    stop = pieces[boundary - 1][-2:] + pieces[boundary][:2]
    completing = next(k for k in range(len(ids)) if stop in tokenizer.decode(ids[: k + 1]))
    stream = TextStream(tokenizer, [stop])
    sent = []
    for position, token in enumerate(ids):
        sent.append(stream.push(token))
        assert stream.stopped == (position >= completing)
    assert "".join(sent) == text[: text.index(stop)]
    assert stream.flush() == ""


def test_without_a_stop_string_all_text_arrives_by_the_flush(tokenizer) -> None:
    text = "Grüße aus München, 你好"
    stream = TextStream(tokenizer, ["never appears"])
    pieces = [stream.push(t) for t in tokenizer(text, add_special_tokens=False)["input_ids"]]
    assert "".join(pieces) + stream.flush() == text
    assert not stream.stopped


def test_the_earliest_of_several_stop_strings_wins(tokenizer) -> None:
    stream = TextStream(tokenizer, ["lazy", "fox"])
    for token in tokenizer("the fox and the lazy dog", add_special_tokens=False)["input_ids"]:
        stream.push(token)
    assert stream.stopped
    assert stream.flush() == ""


def test_greedy_sampler_takes_the_argmax_and_needs_no_generator() -> None:
    logits = torch.tensor([0.1, 3.0, -1.0, 2.9])
    sampler = TokenSampler(temperature=1e-6, top_p=0.5, seed=None, device=torch.device("cpu"))
    assert sampler.greedy and sampler(logits) == 1


def test_seeded_sampler_repeats_its_draws_and_other_seeds_differ() -> None:
    logits = torch.randn(500, generator=torch.Generator().manual_seed(0))

    def draws(seed: int) -> list[int]:
        sampler = TokenSampler(temperature=1.0, top_p=0.95, seed=seed, device=torch.device("cpu"))
        return [sampler(logits) for _ in range(40)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_nucleus_is_the_smallest_top_set_reaching_top_p() -> None:
    probs = torch.tensor([0.05, 0.5, 0.3, 0.15])
    kept, tokens = nucleus(probs, 0.75)
    assert tokens.tolist() == [1, 2] and kept.tolist() == pytest.approx([0.5, 0.3])
    _, tokens = nucleus(probs, 1e-300)
    assert tokens.tolist() == [1]  # the most likely token always stays


def test_nucleus_of_a_flat_distribution_looks_past_the_first_candidates() -> None:
    probs = torch.full((1000,), 1e-3)
    kept, tokens = nucleus(probs, 0.9)
    assert len(tokens) == 900 and float(kept.sum()) == pytest.approx(0.9)


def test_sequence_cache_grows_and_only_committed_tokens_count() -> None:
    cache = SequenceCache(num_layers=1, max_tokens=300)
    step = torch.ones(1, 2, 70, 4)
    keys, _ = cache.write(0, step, step)
    assert keys.shape[2] == 70 and cache.length == 0
    keys, _ = cache.write(0, 2 * step, 2 * step)  # the same step again, as after a failure
    assert keys.shape[2] == 70 and float(keys.max()) == 2.0
    cache.commit(70)
    keys, values = cache.write(0, 3 * step[:, :, :1], 3 * step[:, :, :1])
    assert keys.shape[2] == 71 and float(values[0, 0, 70, 0]) == 3.0 and float(values[0, 0, 0, 0]) == 2.0
    with pytest.raises(RuntimeError):
        cache.write(0, torch.ones(1, 2, 231, 4), torch.ones(1, 2, 231, 4))


def test_token_budget_reserves_and_releases() -> None:
    budget = TokenBudget(100)
    assert budget.try_reserve(60) and not budget.try_reserve(41) and budget.try_reserve(40)
    budget.release(60)
    assert budget.reserved == 40 and budget.try_reserve(60)


def test_kv_bytes_per_token_counts_keys_and_values_of_every_layer(tiny_checkpoints) -> None:
    config = transformers.AutoConfig.from_pretrained(tiny_checkpoints["qwen2"])
    # 2 layers x 2 KV heads x head_dim 16 x (keys + values) x 4 bytes
    assert kv_bytes_per_token(config, torch.float32) == 2 * 2 * 16 * 2 * 4
    assert kv_bytes_per_token(config, torch.bfloat16) == 2 * 2 * 16 * 2 * 2


@pytest.mark.parametrize("architecture", ["qwen2", "qwen3-moe"])
def test_a_packed_step_gives_each_sequence_the_logits_of_its_own_forward(tiny_checkpoints, tokenizer, architecture) -> None:
    """Two prompts of different lengths prefilled in one packed step, then decoded together:
    every row's logits are what a plain forward over that sequence alone gives."""
    path = tiny_checkpoints[architecture]
    reference = transformers.AutoModelForCausalLM.from_pretrained(path).eval()
    model = transformers.AutoModelForCausalLM.from_pretrained(path).eval()
    model.set_attn_implementation(RAGGED_ATTENTION)
    prompts = [[5, 17, 99, 3, 250, 8, 41], [77, 12, 300]]
    rows = [_sequence(ids, model.config.num_hidden_layers, tokenizer) for ids in prompts]
    histories = [list(ids) for ids in prompts]
    with torch.inference_mode():
        for _ in range(3):
            logits = packed_logits(model, rows, torch.device("cpu"))
            for row, history, row_logits in zip(rows, histories, logits):
                alone = reference(input_ids=torch.tensor([history])).logits[0, -1]
                assert torch.allclose(row_logits, alone, atol=1e-4), architecture
                token = int(alone.argmax())
                row.accept(token)
                history.append(token)


class _Sink:
    """Where a sequence's output would go; these tests read the logits, not the text."""

    def post(self, item: object) -> None:
        pass

    def retire(self) -> None:
        pass


def _sequence(token_ids: list[int], num_layers: int, tokenizer) -> Sequence:
    sequence = Sequence(
        Prompt.text(token_ids),
        sampler=TokenSampler(temperature=0.0, top_p=1.0, seed=None, device=torch.device("cpu")),
        text=TextStream(tokenizer, ()),
        max_new_tokens=10,
        eos_token_ids=frozenset(),
        sink=_Sink(),  # type: ignore[arg-type]
    )
    sequence.cache = SequenceCache(num_layers, 64)
    return sequence
