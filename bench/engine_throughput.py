"""Batched generation in the transformers engine: throughput and latency against load, in one run.

At each level of concurrent streams (default 1, 4, 8, 16), side by side on the same machine:
- `reference`: one left-padded `model.generate()` over that many prompts, plain transformers
  in a process of its own, exactly `--max-tokens` each: what the hardware gives a batch;
- `engine`: this checkout's TransformersEngine, closed-loop streaming clients (bench/engine_load.py);
- `engine @ REF`: the same load on the engine of another git ref (default `main`), run from a
  `git archive` of it: the engine before this change;
- `library`: transformers' own ContinuousBatchingManager under the same load;
- `graph`: the whole application under `serve run` (proxy → Router → ModelServer), streaming
  over HTTP with the official request shape, the model named explicitly.

Per row: output tokens/s of all streams together, time to first token and inter-token latency
(p50/p95 over requests), and the ratio of tokens/s to the same row's one-stream figure.

    make bench-engine                                     # tiny demo model (tiny:qwen2)
    .venv/bin/python bench/engine_throughput.py --model random:qwen2.5-0.5b --max-tokens 32
    .venv/bin/python bench/engine_throughput.py --model /path/to/Qwen2.5-Coder-0.5B-Instruct

`random:qwen2.5-0.5b` builds a random-weight checkpoint of the real Qwen2.5-0.5B architecture
(bench/random_qwen.py): the real cost per step, meaningless text.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine_load import Timing, chat, closed_loop  # noqa: E402
from bench.random_qwen import ensure_random_qwen2_5_0_5b  # noqa: E402
from deployments.hf.tiny import ensure_tiny_checkpoint  # noqa: E402
from serve_app.launch import ServeRun  # noqa: E402

DEMO = REPO / "serve_app" / "configs" / "demo.yaml"
BENCH_MODEL = "qwen2.5-math"  # the demo deployment the graph part loads with the benchmark's model
BACKENDS = ("reference", "engine", "baseline", "library", "graph")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny:qwen2", help="tiny:qwen2, random:qwen2.5-0.5b, or a checkpoint folder")
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (the engine's torch_threads); default 1 for tiny models "
                        "(the demo's setting: their ops are too small to split), else 2")
    parser.add_argument("--streams", default="1,4,8,16", help="concurrency levels, comma-separated")
    parser.add_argument("--max-tokens", type=int, default=64, help="mean max_tokens per request")
    parser.add_argument("--requests-per-stream", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="runs per level and backend; the median is shown")
    parser.add_argument("--context-length", type=int, default=2048)
    parser.add_argument("--stream-interval-ms", type=float, default=None,
                        help="the graph's delta coalescing (default: the model's, 20 ms)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"any of {', '.join(BACKENDS)}")
    parser.add_argument("--baseline-ref", default="main", help="git ref whose engine is the baseline")
    parser.add_argument("--baseline-streams", default=None, help="levels for the baseline (default: --streams)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "engine_throughput.json")
    args = parser.parse_args()

    if args.threads is None:
        args.threads = 1 if args.model.startswith("tiny:") else 2
    levels = [int(s) for s in args.streams.split(",")]
    baseline_levels = [int(s) for s in (args.baseline_streams or args.streams).split(",")]
    backends = [b for b in args.backends.split(",") if b]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"--backends: unknown {unknown}; allowed: {list(BACKENDS)}")
    cache = Path(os.environ.get("QWEN_ROUTER_BENCH_CACHE", Path.home() / ".cache" / "qwen-router"))
    model = resolve_model(args.model, cache, args.dtype)
    settings = {
        "model": args.model, "dtype": args.dtype, "threads": args.threads, "max_tokens": args.max_tokens,
        "requests_per_stream": args.requests_per_stream, "repeats": args.repeats,
        "context_length": args.context_length,
        "max_concurrency": max(levels), "baseline_ref": args.baseline_ref, "cpu": cpu_name(),
    }
    runs: dict[str, dict[int, list[Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="qwen-router-bench-engine-") as tmp:
        workers = start_workers(backends, args, model, Path(tmp))
        try:
            for streams in levels:
                for _ in range(args.repeats):  # round robin: every backend sees the same noise
                    for name, process in workers.items():
                        if name == "baseline" and streams not in baseline_levels:
                            continue
                        command = {"streams": streams, "max_tokens": args.max_tokens,
                                   "requests_per_stream": args.requests_per_stream}
                        result = ask(process, command)
                        runs.setdefault(name, {}).setdefault(streams, []).append(result)
                        print(f"{name:10} {streams:3} streams: {result}", file=sys.stderr, flush=True)
        finally:
            for process in workers.values():
                process.stdin.close()
                process.wait(timeout=60)
        rows = {name: {streams: median_run(r) for streams, r in by_level.items()} for name, by_level in runs.items()}
        if "graph" in backends:
            rows["graph"] = run_graph(args, model, levels, Path(tmp))
    results = {"settings": settings, "rows": {label(name, args): rows[name] for name in rows}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results, levels))


def median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median tokens/s, and every run's tokens/s beside it."""
    ordered = sorted(results, key=lambda r: r["tokens_per_s"])
    return {**ordered[len(ordered) // 2], "tokens_per_s_runs": [r["tokens_per_s"] for r in results]}


def resolve_model(name: str, cache: Path, dtype: str) -> str:
    if name.startswith("tiny:"):
        return str(ensure_tiny_checkpoint(name.removeprefix("tiny:"), cache))
    if name == "random:qwen2.5-0.5b":
        return str(ensure_random_qwen2_5_0_5b(cache, dtype))
    if not Path(name).is_dir():
        raise SystemExit(f"--model: {name!r} is no checkpoint folder; allowed: tiny:qwen2, random:qwen2.5-0.5b, a folder")
    return name


def label(name: str, args: argparse.Namespace) -> str:
    return f"engine @ {args.baseline_ref}" if name == "baseline" else name


def start_workers(backends: list[str], args: argparse.Namespace, model: str, tmp: Path) -> dict[str, subprocess.Popen]:
    """One process per backend (bench/engine_load.py says why)."""
    common = ["--model", model, "--dtype", args.dtype, "--threads", str(args.threads),
              "--max-concurrency", str(max(int(s) for s in args.streams.split(","))),
              "--context-length", str(args.context_length)]
    worker_file = REPO / "bench" / "engine_load.py"
    workers: dict[str, subprocess.Popen] = {}
    for name in ("reference", "engine"):
        if name in backends:
            workers[name] = spawn([sys.executable, str(worker_file), "--worker", name, *common], REPO)
    if "baseline" in backends:
        workers["baseline"] = spawn(
            [sys.executable, str(worker_file), "--worker", "engine", *common], checkout(args.baseline_ref, tmp)
        )
    if "library" in backends:
        workers["library"] = spawn([sys.executable, str(worker_file), "--worker", "library", *common], REPO)
    for process in workers.values():
        ready = json.loads(process.stdout.readline() or "{}")
        if not ready.get("ready"):
            raise RuntimeError(f"a benchmark worker did not start: {process.args}")
    return dict(sorted(workers.items(), key=lambda item: BACKENDS.index(item[0])))


def spawn(command: list[str], code: Path) -> subprocess.Popen:
    """A worker whose `deployments` and `serve_app` come from `code` (first on sys.path)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)


def checkout(ref: str, tmp: Path) -> Path:
    """The project's packages as of `ref`, unpacked from `git archive`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "deployments", "serve_app"], check=True, capture_output=True
    ).stdout
    target = tmp / f"baseline-{ref.replace('/', '-')}"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def ask(process: subprocess.Popen, command: dict[str, Any]) -> dict[str, Any]:
    process.stdin.write(json.dumps(command) + "\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"benchmark worker {process.args} exited")
    return json.loads(line)


def run_graph(args: argparse.Namespace, model: str, levels: list[int], tmp: Path) -> dict[int, Any]:
    """The same load through `serve run` of the demo, with the benchmark's model as qwen2.5-math."""
    config = yaml.safe_load(DEMO.read_text())
    application = config["applications"][0]
    for entry in application["args"]["models"]:
        if entry["name"] == BENCH_MODEL:
            entry.update(source=model, context_length=args.context_length, engine={
                "kind": "transformers", "dtype": args.dtype, "torch_threads": args.threads,
                "max_concurrency": max(levels)})
            if args.stream_interval_ms is not None:
                entry["stream_interval_ms"] = args.stream_interval_ms
    # One replica that takes every stream: batching is what is measured, not autoscaling.
    application["deployments"] = [
        {"name": BENCH_MODEL, "num_replicas": 1, "max_ongoing_requests": 4 * max(levels)}
        if d["name"] == BENCH_MODEL else d
        for d in application["deployments"]
    ]
    path = tmp / "engine-bench.yaml"
    path.write_text(yaml.safe_dump(config))
    results: dict[int, Any] = {}
    workdir = tmp / "graph"
    workdir.mkdir()
    with ServeRun(path, workdir, ready_timeout_s=600) as run:
        asyncio.run(graph_levels(run.url, levels, args, results))
    return results


async def graph_levels(url: str, levels: list[int], args: argparse.Namespace, results: dict[int, Any]) -> None:
    limits = httpx.Limits(max_connections=max(levels) + 4)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:

        async def one_request(index: int, max_tokens: int) -> Timing:
            body = {"model": BENCH_MODEL, "messages": chat(index), "max_tokens": max_tokens, "temperature": 0,
                    "stream": True, "stream_options": {"include_usage": True}}
            sent, first, tokens = time.perf_counter(), None, 0
            async with client.stream("POST", "/v1/chat/completions", json=body) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        raise RuntimeError(chunk["error"])
                    if first is None and any(c["delta"].get("content") for c in chunk.get("choices", [])):
                        first = time.perf_counter()
                    if chunk.get("usage"):
                        tokens = chunk["usage"]["completion_tokens"]
            return Timing(sent, first, time.perf_counter(), tokens)

        await one_request(0, 4)  # warm-up
        for streams in levels:
            repeated = []
            for _ in range(args.repeats):
                repeated.append(await closed_loop(
                    one_request, streams=streams, requests_per_stream=args.requests_per_stream,
                    mean_tokens=args.max_tokens,
                ))
                print(f"graph      {streams:3} streams: {repeated[-1]}", file=sys.stderr, flush=True)
            results[streams] = median_run(repeated)


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return f"{os.cpu_count()} cores"


def render(results: dict[str, Any], levels: list[int]) -> str:
    settings = results["settings"]
    lines = [
        f"model {settings['model']} ({settings['dtype']}, {settings['threads']} threads), mean max_tokens "
        f"{settings['max_tokens']}, {settings['requests_per_stream']} requests per stream; {settings['cpu']}",
        "",
        "| backend | streams | tokens/s | × 1 stream | TTFT p50 / p95 ms | ITL p50 / p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, by_level in results["rows"].items():
        one = by_level.get("1") or by_level.get(1)
        for streams in levels:
            row = by_level.get(streams) or by_level.get(str(streams))
            if row is None:
                continue
            ratio = f"{row['tokens_per_s'] / one['tokens_per_s']:.2f}×" if one else "–"
            ttft, itl = row["ttft_ms"], row["itl_ms"]
            lines.append(
                f"| {name} | {streams} | {row['tokens_per_s']} | {ratio} | {ttft['p50']} / {ttft['p95']} "
                f"| {itl['p50']} / {itl['p95']} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
