"""`coalesce`: engine deltas → wire chunks (first at once, merged by interval, final carries the rest)."""

import asyncio
import itertools

import pytest

from deployments.engine import EngineDelta
from deployments.model_server import StreamPacing, coalesce
from deployments.types import GenerationChunk, Usage

USAGE = Usage(prompt_tokens=4, completion_tokens=5)


async def _deltas(deltas):
    for delta in deltas:
        await asyncio.sleep(0)
        yield delta


def run(deltas, *, split_thinking=False, interval_s=3600.0) -> list[GenerationChunk]:
    async def collect():
        return [c async for c in coalesce(_deltas(deltas), split_thinking=split_thinking, interval_s=lambda: interval_s)]

    return asyncio.run(collect())


def text_deltas(*pieces: str, finish="stop") -> list[EngineDelta]:
    return [EngineDelta(p) for p in pieces] + [EngineDelta("", finish_reason=finish, usage=USAGE)]


def test_first_text_goes_out_at_once_then_merged_until_the_end():
    chunks = run(text_deltas("He", "l", "l", "o"), interval_s=3600.0)
    assert chunks == [
        GenerationChunk(content="He"),
        GenerationChunk(content="llo", finish_reason="stop", usage=USAGE),
    ]


def test_first_chunk_is_yielded_before_the_engine_produces_more():
    async def scenario():
        produced = []

        async def engine():
            for piece in ("a", "b", "c"):
                produced.append(piece)
                yield EngineDelta(piece)
            produced.append("end")
            yield EngineDelta("", finish_reason="stop", usage=USAGE)

        stream = coalesce(engine(), split_thinking=False, interval_s=lambda: 3600.0)
        first = await stream.__anext__()
        seen = list(produced)
        rest = [c async for c in stream]
        return first, seen, rest

    first, seen, rest = asyncio.run(scenario())
    assert first == GenerationChunk(content="a")
    assert seen == ["a"]
    assert rest == [GenerationChunk(content="bc", finish_reason="stop", usage=USAGE)]


def test_final_delta_text_is_included():
    chunks = run([EngineDelta("a"), EngineDelta("b"), EngineDelta("c", finish_reason="length", usage=USAGE)])
    assert chunks == [GenerationChunk(content="a"), GenerationChunk(content="bc", finish_reason="length", usage=USAGE)]


def test_single_final_delta():
    chunks = run([EngineDelta("all", finish_reason="stop", usage=USAGE)])
    assert chunks == [GenerationChunk(content="all", finish_reason="stop", usage=USAGE)]


def test_interval_zero_sends_every_delta():
    chunks = run(text_deltas("a", "b", "c"), interval_s=0.0)
    assert chunks == [
        GenerationChunk(content="a"),
        GenerationChunk(content="b"),
        GenerationChunk(content="c"),
        GenerationChunk(content="", finish_reason="stop", usage=USAGE),
    ]


def test_empty_deltas_do_not_make_chunks():
    chunks = run([EngineDelta(""), EngineDelta("a"), EngineDelta(""), EngineDelta("", finish_reason="stop", usage=USAGE)], interval_s=0.0)
    assert chunks == [GenerationChunk(content="a"), GenerationChunk(finish_reason="stop", usage=USAGE)]


def test_without_split_thinking_tags_stay_in_content():
    chunks = run(text_deltas("<think>x</think>y"))
    assert "".join(c.content for c in chunks) == "<think>x</think>y"
    assert all(c.reasoning == "" for c in chunks)


def test_only_the_last_chunk_has_finish_reason_and_usage():
    chunks = run(text_deltas(*"abcdef"), interval_s=0.0)
    assert [c.finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert all(c.usage is None for c in chunks[:-1])
    assert (chunks[-1].finish_reason, chunks[-1].usage) == ("stop", USAGE)


THINKING_TEXT = "<think>\nadd 2 and 2\n</think>\n\nThe answer is 4."


def _splits(text: str, cuts: int):
    for points in itertools.combinations(range(1, len(text)), cuts):
        bounds = (0, *points, len(text))
        yield [text[a:b] for a, b in zip(bounds, bounds[1:])]


@pytest.mark.parametrize("interval_s", [0.0, 3600.0])
def test_split_thinking_for_every_two_and_three_piece_chunking(interval_s):
    chunkings = [*_splits(THINKING_TEXT, 1), *_splits(THINKING_TEXT, 2)]
    for pieces in chunkings:
        chunks = run(text_deltas(*pieces), split_thinking=True, interval_s=interval_s)
        assert "".join(c.reasoning for c in chunks) == "add 2 and 2", pieces
        assert "".join(c.content for c in chunks) == "The answer is 4.", pieces
        for c in chunks:
            assert "think>" not in c.content and "<" not in c.content, pieces
            assert "think>" not in c.reasoning, pieces
        assert (chunks[-1].finish_reason, chunks[-1].usage) == ("stop", USAGE)


def test_split_thinking_streams_reasoning_before_content():
    pieces = ["<think>", "step one. ", "step two.", "</think>", "\n\n", "Four", "."]
    chunks = run(text_deltas(*pieces), split_thinking=True, interval_s=0.0)
    with_reasoning = [i for i, c in enumerate(chunks) if c.reasoning]
    with_content = [i for i, c in enumerate(chunks) if c.content]
    assert with_reasoning and with_content
    assert max(with_reasoning) < min(with_content)
    assert "".join(c.content for c in chunks) == "Four."


def test_unterminated_thinking_is_flushed_as_reasoning():
    chunks = run(text_deltas("<think>", "still thinking ", "when cut", finish="length"), split_thinking=True)
    assert "".join(c.reasoning for c in chunks) == "still thinking when cut"
    assert "".join(c.content for c in chunks) == ""
    assert chunks[-1].finish_reason == "length"


def test_thinking_cut_inside_a_partial_close_tag_keeps_its_text():
    chunks = run(text_deltas("<think>", "still thinking when cut </thi", finish="length"), split_thinking=True)
    assert "".join(c.reasoning for c in chunks) == "still thinking when cut </thi"
    assert "".join(c.content for c in chunks) == ""


def test_coalesce_asks_the_interval_at_every_delta():
    intervals = iter([0.0, 3600.0, 0.0, 3600.0])  # "b" waits for "c"; "d" waits for the end

    async def collect():
        deltas = _deltas(text_deltas("a", "b", "c", "d"))
        return [c async for c in coalesce(deltas, split_thinking=False, interval_s=lambda: next(intervals))]

    assert asyncio.run(collect()) == [
        GenerationChunk(content="a"),
        GenerationChunk(content="bc"),
        GenerationChunk(content="d", finish_reason="stop", usage=USAGE),
    ]


def test_pacing_keeps_the_base_interval_until_the_chunk_rate_would_pass_its_bound():
    pacing = StreamPacing(base_s=0.02, chunks_per_s=100.0)
    for _ in range(2):
        pacing.opened()
    assert pacing.interval_s() == 0.02  # 2 streams at 20 ms: 100 chunks/s, at the bound
    for _ in range(6):
        pacing.opened()
    assert pacing.interval_s() == pytest.approx(0.08)  # 8 streams share 100 chunks/s
    for _ in range(7):
        pacing.closed()
    assert pacing.interval_s() == 0.02
