"""The embedded demo's first figures, through the real `serve run` path, in one run.

- start-up: `serve run demo.yaml` until /readyz answers, with an empty cache (tiny checkpoints
  built) and again with a warm one;
- memory: proportional set size (PSS, shared pages split fairly) of every process of the
  running demo, by role;
- latency: the same math request sent alternately with `model: "auto"` (classified, routed to
  qwen2.5-math) and with `model: "qwen2.5-math"`, so both see the same machine noise; the
  ratio of medians is the price of routing.

    make bench            # or: .venv/bin/python bench/serving.py --pairs 40
"""

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from serve_app.launch import ServeRun

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "serve_app" / "configs" / "demo.yaml"
PROMPT = [{"role": "user", "content": "Solve 3x + 5 = 20 for x."}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=40, help="auto/explicit request pairs")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "serving.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qwen-router-bench-") as tmp:
        workdir = Path(tmp)
        with ServeRun(DEMO, workdir) as cold:
            latency = measure_latency(cold.url, args.pairs, args.max_tokens)
            memory = memory_by_role(cold.process.pid)
        with ServeRun(DEMO, workdir) as warm:  # same cache folder: checkpoints already built
            pass
    results = {
        "startup_s": {"cold_cache": round(cold.startup_s, 1), "warm_cache": round(warm.startup_s, 1)},
        "memory_mib": memory,
        "latency_ms": latency,
        "config": {"pairs": args.pairs, "max_tokens": args.max_tokens, "prompt": PROMPT[0]["content"]},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))


def measure_latency(url: str, pairs: int, max_tokens: int) -> dict:
    timings: dict[str, list[float]] = {"auto": [], "explicit": []}
    with httpx.Client(base_url=url, timeout=60) as client:
        for model in ("auto", "qwen2.5-math"):  # warm both paths
            send(client, model, max_tokens)
        for _ in range(pairs):
            for label, model in (("auto", "auto"), ("explicit", "qwen2.5-math")):
                started = time.perf_counter()
                response = send(client, model, max_tokens)
                timings[label].append((time.perf_counter() - started) * 1000)
                assert response.headers["x-route-model"] == "qwen2.5-math", response.headers
    summary = {label: percentiles(values) for label, values in timings.items()}
    summary["auto_over_explicit_p50"] = round(summary["auto"]["p50"] / summary["explicit"]["p50"], 3)
    return summary


def send(client: httpx.Client, model: str, max_tokens: int) -> httpx.Response:
    body = {"model": model, "messages": PROMPT, "max_tokens": max_tokens, "temperature": 0}
    response = client.post("/v1/chat/completions", json=body)
    response.raise_for_status()
    assert response.json()["usage"]["completion_tokens"] == max_tokens, "expected a full-length answer"
    return response


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "n": len(ordered),
    }


def memory_by_role(root_pid: int) -> dict:
    """PSS in MiB of the process tree under `serve run`, grouped by what each process is."""
    totals: dict[str, float] = defaultdict(float)
    for pid in process_tree(root_pid):
        try:
            pss_kib = pss(pid)
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        totals[role(command)] += pss_kib / 1024
    rounded = {name: round(value) for name, value in sorted(totals.items())}
    rounded["total"] = round(sum(totals.values()))
    return rounded


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    tree, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        tree.append(pid)
        frontier.extend(children.get(pid, []))
    return tree


def pss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def role(command: str) -> str:
    if "ServeReplica:" in command:
        return "replica " + command.split("ServeReplica:", 1)[1].split()[0].split(":")[-1]
    for marker, name in (
        ("ServeController", "serve controller"),
        ("ProxyActor", "serve proxy"),
        ("gcs_server", "ray gcs"),
        ("raylet", "raylet"),
        ("dashboard", "ray dashboard and agents"),
        ("runtimeenv", "ray dashboard and agents"),
        ("autoscaler", "ray autoscaler monitor"),
        ("log_monitor", "ray log monitor"),
        ("serve run", "serve run (driver)"),
    ):
        if marker.lower() in command.lower():
            return name
    return "other: " + " ".join(command.split()[:3])[-60:]


def render(results: dict) -> str:
    latency = results["latency_ms"]
    lines = [
        f"start-up (serve run → /readyz): {results['startup_s']['cold_cache']} s with an empty cache, "
        f"{results['startup_s']['warm_cache']} s with built checkpoints",
        "",
        "| process | PSS (MiB) |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in results["memory_mib"].items()),
        "",
        "| request | p50 ms | p90 ms | n |",
        "|---|---|---|---|",
        *(f"| {label} | {latency[label]['p50']} | {latency[label]['p90']} | {latency[label]['n']} |"
          for label in ("auto", "explicit")),
        "",
        f"auto / explicit (p50): {latency['auto_over_explicit_p50']}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
