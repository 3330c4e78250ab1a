"""qwen-router against vLLM's own OpenAI server, same model, same GPU: what the router costs.

Starts `vllm serve MODEL` and measures it, stops it, then starts qwen-router (`serve run` of a
generated config: the model on the vLLM engine, every text route to it, the vision route to a
tiny CPU model) and measures the same load. At each concurrency (1, 16, 64 by default) the
clients send the same streaming chat requests with a fixed completion length and record time to
first token (first content byte) and output tokens per second (all completion tokens / wall
time). Results and the ratios router / vLLM go to a JSON file.

Needs a machine with a GPU and the vllm extra (`pip install -e ".[vllm]"`):

    python bench/vllm_compare.py --model Qwen/Qwen2.5-7B-Instruct
    python bench/vllm_compare.py --model Qwen/Qwen2.5-7B-Instruct \\
        --router-url http://127.0.0.1:8000 --vllm-url http://127.0.0.1:8100   # already running
"""

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import yaml

from deployments.vllm_engine import unavailable_reason
from serve_app.launch import ServeRun, free_port, wait_ready

REPO = Path(__file__).resolve().parents[1]
SERVED_NAME = "bench-model"
PROMPT = "Write a detailed essay about the history of the printing press."


@dataclass
class LevelResult:
    concurrency: int
    requests: int
    output_tokens: int
    wall_s: float
    output_tokens_per_s: float
    ttft_p50_ms: float
    ttft_p90_ms: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="hub id or local folder of the checkpoint")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--requests-per-client", type=int, default=4, help="requests each client sends per level")
    parser.add_argument("--max-tokens", type=int, default=256, help="completion length of every request")
    parser.add_argument("--context-length", type=int, default=4096)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    parser.add_argument("--router-url", help="a running qwen-router serving --model as " + SERVED_NAME)
    parser.add_argument("--vllm-url", help="a running `vllm serve` of --model, served as " + SERVED_NAME)
    parser.add_argument("--ready-timeout-s", type=float, default=900.0, help="model download and load time")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "vllm_compare.json")
    args = parser.parse_args()
    if not (args.router_url and args.vllm_url):
        require_gpu_and_vllm()

    with tempfile.TemporaryDirectory(prefix="qwen-router-vllm-bench-") as tmp:
        workdir = Path(tmp)
        vllm_results = measure_vllm(args, workdir)
        router_results = measure_router(args, workdir)

    report = {
        "model": args.model,
        "max_tokens": args.max_tokens,
        "requests_per_client": args.requests_per_client,
        "levels": [
            {
                "concurrency": v.concurrency,
                "vllm": asdict(v),
                "qwen_router": asdict(r),
                "ratio_router_over_vllm": {
                    "output_tokens_per_s": round(r.output_tokens_per_s / v.output_tokens_per_s, 3),
                    "ttft_p50": round(r.ttft_p50_ms / v.ttft_p50_ms, 3),
                },
            }
            for v, r in zip(vllm_results, router_results)
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for level in report["levels"]:
        print(f"concurrency {level['concurrency']:>3}: router/vLLM tokens/s "
              f"{level['ratio_router_over_vllm']['output_tokens_per_s']}, "
              f"TTFT p50 {level['ratio_router_over_vllm']['ttft_p50']}")
    print(f"wrote {args.out}")


def require_gpu_and_vllm() -> None:
    """Stop with a clear message where this benchmark cannot run."""
    reason = unavailable_reason()
    if reason is not None:
        sys.exit(f"{reason}; this benchmark needs vllm on a machine with a GPU")
    from vllm.platforms import current_platform

    if current_platform.device_type != "cuda":
        sys.exit(f"no CUDA GPU for vLLM here (platform: {current_platform.device_type or 'none'}); "
                 "this benchmark compares GPU serving")
    if shutil.which("vllm") is None:
        sys.exit("the `vllm` command is not on PATH; run from the environment vllm is installed in")


def measure_vllm(args: argparse.Namespace, workdir: Path) -> list[LevelResult]:
    if args.vllm_url:
        return run_levels(args, args.vllm_url)
    port = free_port()
    command = [
        "vllm", "serve", args.model, "--served-model-name", SERVED_NAME, "--host", "127.0.0.1",
        "--port", str(port), "--max-model-len", str(args.context_length),
        "--gpu-memory-utilization", str(args.gpu_memory_utilization),
        "--tensor-parallel-size", str(args.tensor_parallel_size),
    ]
    log = workdir / "vllm.log"
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"

        def alive() -> None:
            if process.poll() is not None:
                raise RuntimeError(f"vllm serve exited early; see {log}")

        wait_ready(url, args.ready_timeout_s, check=alive, what=f"see {log}", path="/v1/models")
        return run_levels(args, url)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def measure_router(args: argparse.Namespace, workdir: Path) -> list[LevelResult]:
    if args.router_url:
        return run_levels(args, args.router_url)
    config = workdir / "vllm_compare.yaml"
    config.write_text(yaml.safe_dump(router_config(args)))
    with ServeRun(config, workdir, ready_timeout_s=args.ready_timeout_s) as run:
        return run_levels(args, run.url)


def router_config(args: argparse.Namespace) -> dict:
    """A Serve config serving --model on vLLM, every text category routed to it."""
    model = {
        "name": SERVED_NAME,
        "source": args.model,
        "context_length": args.context_length,
        "engine": {
            "kind": "vllm",
            "gpu_memory_utilization": args.gpu_memory_utilization,
            "tensor_parallel_size": args.tensor_parallel_size,
        },
    }
    vision = {"name": "tiny-vl", "source": "tiny:qwen2.5-vl", "modalities": ["text", "image"], "context_length": 1024}
    routes = {c: {"model": SERVED_NAME} for c in ("math", "code", "reasoning", "general")}
    routes["vision"] = {"model": "tiny-vl"}
    return {
        "http_options": {"host": "127.0.0.1", "port": 8000},
        "applications": [{
            "name": "qwen-router",
            "route_prefix": "/",
            "import_path": "serve_app.builder:build_app",
            "args": {"models": [model, vision], "routes": routes},
            "deployments": [{"name": SERVED_NAME, "max_ongoing_requests": 4 * max(args.concurrency)}],
        }],
    }


def run_levels(args: argparse.Namespace, url: str) -> list[LevelResult]:
    asyncio.run(one_request(url, args.max_tokens))  # warm-up, not measured
    return [asyncio.run(run_level(url, c, args.requests_per_client, args.max_tokens)) for c in args.concurrency]


async def run_level(url: str, concurrency: int, per_client: int, max_tokens: int) -> LevelResult:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:

        async def client_loop() -> list[tuple[float, int]]:
            return [await one_request(url, max_tokens, client) for _ in range(per_client)]

        started = time.perf_counter()
        results = [r for batch in await asyncio.gather(*(client_loop() for _ in range(concurrency))) for r in batch]
        wall_s = time.perf_counter() - started
    ttfts = sorted(ttft for ttft, _ in results)
    tokens = sum(count for _, count in results)
    return LevelResult(
        concurrency=concurrency,
        requests=len(results),
        output_tokens=tokens,
        wall_s=round(wall_s, 3),
        output_tokens_per_s=round(tokens / wall_s, 1),
        ttft_p50_ms=round(1000 * statistics.median(ttfts), 1),
        ttft_p90_ms=round(1000 * ttfts[min(len(ttfts) - 1, int(0.9 * len(ttfts)))], 1),
    )


async def one_request(url: str, max_tokens: int, client: httpx.AsyncClient | None = None) -> tuple[float, int]:
    """(time to first content, completion tokens) of one streamed chat request."""
    body = {
        "model": SERVED_NAME,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
        # vLLM then writes exactly max_tokens; qwen-router ignores unknown fields, so tokens/s
        # counts the tokens each server really produced (a long essay rarely stops early).
        "ignore_eos": True,
    }
    own = client is None
    client = client or httpx.AsyncClient(base_url=url, timeout=600)
    try:
        started = time.perf_counter()
        ttft, tokens = None, 0
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line.removeprefix("data: "))
                if ttft is None and chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
                    ttft = time.perf_counter() - started
                if chunk.get("usage"):
                    tokens = chunk["usage"]["completion_tokens"]
        return (ttft if ttft is not None else time.perf_counter() - started), tokens
    finally:
        if own:
            await client.aclose()


if __name__ == "__main__":
    main()
