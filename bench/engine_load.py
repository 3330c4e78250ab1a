"""Closed-loop streaming load on one generation backend, and the figures it yields.

A level of S streams is S clients, each sending its requests one after another and streaming
every answer. Client i asks for `max_tokens` between 0.75 and 1.25 times the mean (the same mean
at every level), so after the first round requests end at different steps and new ones join a
running batch, as they do in service. Per request: time to first token (sent → first text), and
inter-token latency (first → last token, over the tokens after the first); per level: output
tokens of every stream over the wall time.

Backends, all driven the same way:
- `EngineBackend`: the project's TransformersEngine (this tree's, or another checkout's when
  this file runs with that checkout first on PYTHONPATH: the old engine side by side);
- `LibraryBackend`: transformers' own ContinuousBatchingManager, streaming, one result handler
  per request;
- `padded_generate`: the hardware's reference, one left-padded `model.generate()` over the
  same prompts.

Run as a worker (`--worker engine|library|reference`), it reads one JSON command per line on
stdin and answers one JSON line; bench/engine_throughput.py drives the workers so that every
backend sees the same machine in one run. Each backend has a process of its own, and in each
only one thread runs multi-threaded torch: libgomp slows every parallel op of a process down
once two threads have run them (deployments/hf/batcher.py has the figures).
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

PROMPT = "Request {index}: write a Python function that reverses a list, and explain it step by step."


@dataclass(frozen=True)
class Timing:
    sent: float
    first: float | None
    last: float
    tokens: int


def request_max_tokens(client: int, streams: int, mean: int) -> int:
    if streams == 1:
        return mean
    return max(2, round(mean * (0.75 + 0.5 * client / (streams - 1))))


def summarize(timings: list[Timing], wall_s: float) -> dict[str, Any]:
    tokens = sum(t.tokens for t in timings)
    ttft = [(t.first - t.sent) * 1000 for t in timings if t.first is not None]
    itl = [(t.last - t.first) * 1000 / (t.tokens - 1) for t in timings if t.first is not None and t.tokens > 1]
    return {
        "tokens_per_s": round(tokens / wall_s, 1),
        "ttft_ms": percentiles(ttft),
        "itl_ms": percentiles(itl),
        "requests": len(timings),
        "tokens": tokens,
        "wall_s": round(wall_s, 2),
    }


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None}
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1), "p95": round(ordered[round(0.95 * (len(ordered) - 1))], 1)}


async def closed_loop(
    one_request: Callable[[int, int], Awaitable[Timing]], *, streams: int, requests_per_stream: int, mean_tokens: int
) -> dict[str, Any]:
    async def client(index: int) -> list[Timing]:
        limit = request_max_tokens(index, streams, mean_tokens)
        return [await one_request(index * requests_per_stream + r, limit) for r in range(requests_per_stream)]

    started = time.perf_counter()
    per_client = await asyncio.gather(*(client(i) for i in range(streams)))
    return summarize([t for timings in per_client for t in timings], time.perf_counter() - started)


def chat(index: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": PROMPT.format(index=index)}]


class EngineBackend:
    """The project's transformers engine, as a model replica runs it."""

    def __init__(self, model: str, *, dtype: str, threads: int, max_concurrency: int, context_length: int) -> None:
        from deployments.transformers_engine import TransformersEngine
        from serve_app.config import ImageConfig, ModelConfig, TransformersEngineConfig

        engine = TransformersEngineConfig(dtype=dtype, torch_threads=threads, max_concurrency=max_concurrency)
        config = ModelConfig(name="bench", source=model, context_length=context_length, engine=engine)
        self._engine = TransformersEngine(config, ImageConfig(), Path("/nonexistent-cache"))

    async def start(self) -> None:
        await self._engine.start()

    async def close(self) -> None:
        await self._engine.shutdown()

    async def request(self, index: int, max_tokens: int) -> Timing:
        from deployments.types import GenerationRequest, Message, SamplingParams, TextPart

        text = chat(index)[0]["content"]
        request = GenerationRequest(
            f"bench-{index}", (Message("user", (TextPart(text),)),), SamplingParams(max_tokens=max_tokens, temperature=0)
        )
        sent, first, tokens = time.perf_counter(), None, 0
        async for delta in self._engine.generate(request):
            if first is None and delta.text:
                first = time.perf_counter()
            if delta.usage is not None:
                tokens = delta.usage.completion_tokens
        return Timing(sent, first, time.perf_counter(), tokens)


class LibraryBackend:
    """transformers' ContinuousBatchingManager: greedy, streaming, per-request result handlers
    (the shared `get_result` queue starves other consumers, transformers #42943)."""

    def __init__(self, model: str, *, dtype: str, threads: int, max_concurrency: int, context_length: int) -> None:
        import torch
        import transformers

        # Everything on this thread single-threaded; the manager's own generation thread gets
        # `threads` (set just before it starts).
        torch.set_num_threads(1)
        self._threads = threads
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(model)
        self._model = transformers.AutoModelForCausalLM.from_pretrained(
            model, dtype=getattr(torch, dtype), attn_implementation="sdpa"
        ).eval()
        self._max_concurrency = max_concurrency
        self._context_length = context_length
        self._manager: Any = None
        self._count = 0

    async def start(self) -> None:
        from transformers import GenerationConfig
        from transformers.generation.configuration_utils import ContinuousBatchingConfig

        eos = self._model.generation_config.eos_token_id
        generation = GenerationConfig(do_sample=False, eos_token_id=eos, pad_token_id=self._tokenizer.pad_token_id)
        page = 32
        # On CPU its cache would otherwise take 60 % of RAM: size it for the batch instead.
        batching = ContinuousBatchingConfig(
            page_size=page,
            num_blocks=self._max_concurrency * (self._context_length // page),
            max_batch_tokens=self._max_concurrency * 128,
            max_requests_per_batch=self._max_concurrency,
            allow_block_sharing=False,
        )
        self._manager = self._model.init_continuous_batching(
            generation_config=generation, continuous_batching_config=batching
        )
        import torch

        torch.set_num_threads(self._threads)  # read by the manager's thread when it starts
        self._manager.start()

    async def close(self) -> None:
        self._manager.stop(block=True, timeout=30)

    async def request(self, index: int, max_tokens: int) -> Timing:
        ids = self._tokenizer.apply_chat_template(chat(index), add_generation_prompt=True, tokenize=True, return_dict=True)
        self._count += 1
        request_id = f"bench-{self._count}"
        outputs: asyncio.Queue[Any] = asyncio.Queue()
        self._manager.register_result_handler(request_id, outputs.put_nowait)
        sent, first = time.perf_counter(), None
        self._manager.add_request(ids["input_ids"], request_id=request_id, max_new_tokens=max_tokens, streaming=True)
        while True:
            output = await outputs.get()
            if first is None and output.generated_tokens:
                first = time.perf_counter()
            if output.is_finished():
                if output.error:
                    raise RuntimeError(output.error)
                return Timing(sent, first, time.perf_counter(), len(output.generated_tokens))


def padded_generate(model: Any, tokenizer: Any, streams: int, max_tokens: int) -> dict[str, Any]:
    """One left-padded `generate` over `streams` prompts, exactly `max_tokens` new tokens each."""
    import torch
    from transformers.generation.streamers import BaseStreamer

    class FirstToken(BaseStreamer):
        def __init__(self) -> None:
            self.calls, self.first = 0, None

        def put(self, value: Any) -> None:
            self.calls += 1
            if self.calls == 2:  # the first call hands over the prompt
                self.first = time.perf_counter()

        def end(self) -> None:
            pass

    tokenizer.padding_side = "left"
    texts = [tokenizer.apply_chat_template(chat(i), tokenize=False, add_generation_prompt=True) for i in range(streams)]
    inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    streamer = FirstToken()
    sent = time.perf_counter()
    with torch.inference_mode():
        model.generate(
            **inputs,
            max_new_tokens=max_tokens,
            min_new_tokens=max_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            streamer=streamer,
        )
    done = time.perf_counter()
    first = streamer.first if streamer.first is not None else done
    return summarize([Timing(sent, first, done, max_tokens)] * streams, done - sent)


class ReferenceBackend:
    """Padded `model.generate()`, on the worker's only thread."""

    def __init__(self, model: str, *, dtype: str, threads: int, **_: Any) -> None:
        import torch
        import transformers

        torch.set_num_threads(threads)
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(model)
        self._model = transformers.AutoModelForCausalLM.from_pretrained(model, dtype=getattr(torch, dtype)).eval()

    def run(self, streams: int, max_tokens: int) -> dict[str, Any]:
        return padded_generate(self._model, self._tokenizer, streams, max_tokens)


def worker(arguments: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=("engine", "library", "reference"), required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--dtype", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--max-concurrency", type=int, required=True)
    parser.add_argument("--context-length", type=int, required=True)
    args = parser.parse_args(arguments)
    options = {"dtype": args.dtype, "threads": args.threads, "max_concurrency": args.max_concurrency,
               "context_length": args.context_length}
    if args.worker == "reference":
        reference = ReferenceBackend(args.model, **options)
        reference.run(1, 4)  # warm-up
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            print(json.dumps(reference.run(command["streams"], command["max_tokens"])), flush=True)
        return
    backend = (EngineBackend if args.worker == "engine" else LibraryBackend)(args.model, **options)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(backend.start())
    loop.run_until_complete(backend.request(0, 4))  # warm-up
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        result = loop.run_until_complete(
            closed_loop(
                backend.request,
                streams=command["streams"],
                requests_per_stream=command["requests_per_stream"],
                mean_tokens=command["max_tokens"],
            )
        )
        print(json.dumps(result), flush=True)
    loop.run_until_complete(backend.close())


if __name__ == "__main__":
    worker(sys.argv[1:])
