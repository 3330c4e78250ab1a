"""Autoscaling under load, measured: replicas per deployment over time, latency and errors.

The demo is deployed with `serve deploy` (the operator's path) onto a local Ray cluster, with
autoscaling tuned for a short run: qwen2.5-math may grow from 1 to 3 replicas, qwen2.5-coder
starts at zero (its route falls back to qwen3-moe while it is cold). Then, phase by phase:

  idle       a few seconds of nothing
  burst      CLIENTS closed-loop clients send math requests (math scales up)
  first use  during the burst, one client sends code requests (coder scales 0 → 1)
  cool-down  no traffic (math scales back to 1, coder back to 0)

Every second the script records each deployment's running replicas from Ray Serve's status API;
every request its start, latency, status and the model that answered. It writes a JSON file,
a PNG plot and prints a table.

    make bench-load       # or: .venv/bin/python bench/load.py --burst-s 60 --cooldown-s 75
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import yaml

from serve_app.launch import free_port, local_serve, wait_ready

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "serve_app" / "configs" / "demo.yaml"
MATH = [{"role": "user", "content": "Solve 3x + 5 = 20 for x."}]
CODE = [{"role": "user", "content": "Write a Python function that reverses a linked list."}]
# Short-run autoscaling: decisions within seconds instead of Ray's default half-minute windows.
AUTOSCALING = {
    "qwen2.5-math": {
        "min_replicas": 1, "max_replicas": 3, "target_ongoing_requests": 2,
        "upscale_delay_s": 3, "downscale_delay_s": 15, "look_back_period_s": 12,
    },
    "qwen2.5-coder": {
        "min_replicas": 0, "initial_replicas": 0, "max_replicas": 1, "target_ongoing_requests": 2,
        "upscale_delay_s": 0, "downscale_delay_s": 10, "downscale_to_zero_delay_s": 20, "look_back_period_s": 12,
    },
}


@dataclass
class Sample:
    t_s: float
    replicas: dict[str, int]


@dataclass
class Call:
    start_s: float
    latency_ms: float
    status: int
    kind: str
    model: str | None
    fallback_from: str | None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent math clients in the burst")
    parser.add_argument("--idle-s", type=float, default=5)
    parser.add_argument("--burst-s", type=float, default=60)
    parser.add_argument("--first-use-at-s", type=float, default=20, help="into the burst")
    parser.add_argument("--cooldown-s", type=float, default=75)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "load.json")
    args = parser.parse_args()

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    dashboard_port = free_port()
    with local_serve(num_cpus=8, dashboard_host="127.0.0.1", dashboard_port=dashboard_port) as url:
        with tempfile.TemporaryDirectory(prefix="qwen-router-load-") as tmp:
            deploy(Path(tmp), dashboard_port)
            wait_ready(url, timeout_s=300)
            samples, calls, phases = run(url, args)
    results = summarise(samples, calls, phases, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot(results, args.out.with_suffix(".png"))
    print(render(results))


def deploy(workdir: Path, dashboard_port: int) -> None:
    """`serve deploy` of demo.yaml with the short-run autoscaling, after `config check`."""
    document = yaml.safe_load(DEMO.read_text())
    application = document["applications"][0]
    application["args"]["cache_dir"] = str(workdir / "cache")
    application["args"]["router"] = {"max_cold_start_wait_s": 3}
    for deployment in application["deployments"]:
        if deployment["name"] in AUTOSCALING:
            deployment["autoscaling_config"] = AUTOSCALING[deployment["name"]]
    config = workdir / "load.yaml"
    config.write_text(yaml.safe_dump({"applications": [application]}))
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "qwen-router"), "config", "check", str(config)], check=True)
    subprocess.run(
        [str(bin_dir / "serve"), "deploy", str(config), "--address", f"http://127.0.0.1:{dashboard_port}"],
        check=True,
    )


def run(url: str, args: argparse.Namespace) -> tuple[list[Sample], list[Call], dict[str, float]]:
    from ray import serve

    samples: list[Sample] = []
    calls: list[Call] = []
    lock = threading.Lock()
    started = time.monotonic()
    now = lambda: time.monotonic() - started  # noqa: E731
    burst_end = args.idle_s + args.burst_s
    end = burst_end + args.cooldown_s
    phases = {"burst_start_s": args.idle_s, "first_use_s": args.idle_s + args.first_use_at_s,
              "burst_end_s": burst_end, "end_s": end}

    def client(kind: str, messages: list, start_s: float) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while now() < start_s:
                time.sleep(0.05)
            while now() < burst_end:
                t0 = now()
                body = {"model": "auto", "messages": messages, "max_tokens": args.max_tokens, "temperature": 0}
                try:
                    response = http.post("/v1/chat/completions", json=body)
                    route = response.json().get("route") or {} if response.status_code == 200 else {}
                    call = Call(t0, (now() - t0) * 1000, response.status_code, kind, route.get("model"), route.get("fallback_from"))
                except httpx.HTTPError:
                    call = Call(t0, (now() - t0) * 1000, 0, kind, None, None)
                with lock:
                    calls.append(call)

    threads = [threading.Thread(target=client, args=("math", MATH, args.idle_s)) for _ in range(args.clients)]
    threads.append(threading.Thread(target=client, args=("code", CODE, phases["first_use_s"])))
    for thread in threads:
        thread.start()
    while now() < end:
        application = serve.status().applications.get("qwen-router")
        if application is not None:
            replicas = {name: d.replica_states.get("RUNNING", 0) for name, d in application.deployments.items()}
            samples.append(Sample(round(now(), 1), replicas))
        time.sleep(1)
    for thread in threads:
        thread.join()
    return samples, calls, phases


def summarise(samples: list[Sample], calls: list[Call], phases: dict[str, float], args: argparse.Namespace) -> dict:
    def latency(selected: list[Call]) -> dict:
        ok = sorted(c.latency_ms for c in selected if c.status == 200)
        if not ok:
            return {"n": len(selected), "ok": 0}
        return {
            "n": len(selected),
            "ok": len(ok),
            "errors": len(selected) - len(ok),
            "p50_ms": round(statistics.median(ok), 1),
            "p95_ms": round(ok[int(0.95 * (len(ok) - 1))], 1),
        }

    def first_time(name: str, predicate) -> float | None:
        return next((s.t_s for s in samples if predicate(s.replicas.get(name, 0))), None)

    math_peak = max((s.replicas.get("qwen2.5-math", 0) for s in samples), default=0)
    coder_up = first_time("qwen2.5-coder", lambda n: n >= 1)
    scaling = {
        "qwen2.5-math": {
            "peak_replicas": math_peak,
            "reached_peak_s": first_time("qwen2.5-math", lambda n: n == math_peak),
            "back_to_1_s": next((s.t_s for s in samples if s.t_s > phases["burst_end_s"] and s.replicas.get("qwen2.5-math") == 1), None),
        },
        "qwen2.5-coder": {
            "first_use_s": phases["first_use_s"],
            "first_replica_s": coder_up,
            "back_to_0_s": next((s.t_s for s in samples if coder_up and s.t_s > phases["burst_end_s"] and s.replicas.get("qwen2.5-coder") == 0), None),
            "code_requests_by_model": _count_by(c.model for c in calls if c.kind == "code" and c.status == 200),
        },
    }
    return {
        "config": {"clients": args.clients, "max_tokens": args.max_tokens, "autoscaling": AUTOSCALING, **phases},
        "scaling": scaling,
        "latency": {
            "math": latency([c for c in calls if c.kind == "math"]),
            "code": latency([c for c in calls if c.kind == "code"]),
        },
        "errors": sum(1 for c in calls if c.status != 200),
        "samples": [asdict(s) for s in samples],
        "calls": [asdict(c) for c in calls],
    }


def _count_by(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples, calls, config = results["samples"], results["calls"], results["config"]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    names = sorted({name for s in samples for name in s["replicas"]})
    for name in names:
        top.step([s["t_s"] for s in samples], [s["replicas"].get(name, 0) for s in samples], where="post", label=name)
    top.set_ylabel("running replicas")
    top.legend(loc="upper right", fontsize=8)
    for kind, colour in (("math", "tab:blue"), ("code", "tab:orange")):
        chosen = [c for c in calls if c["kind"] == kind and c["status"] == 200]
        bottom.scatter([c["start_s"] for c in chosen], [c["latency_ms"] for c in chosen], s=6, color=colour, label=f"{kind} requests")
    bottom.set_ylabel("latency (ms)")
    bottom.set_xlabel("time (s)")
    bottom.legend(loc="upper right", fontsize=8)
    for axis in (top, bottom):
        axis.axvspan(config["burst_start_s"], config["burst_end_s"], color="grey", alpha=0.1)
        axis.axvline(config["first_use_s"], color="tab:orange", linestyle=":")
    figure.suptitle(f"qwen-router demo under load: {config['clients']} math clients, then idle")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def render(results: dict) -> str:
    math, coder = results["scaling"]["qwen2.5-math"], results["scaling"]["qwen2.5-coder"]
    lines = [
        "| deployment | event | time (s) |",
        "|---|---|---|",
        f"| qwen2.5-math | burst starts | {results['config']['burst_start_s']} |",
        f"| qwen2.5-math | {math['peak_replicas']} replicas | {math['reached_peak_s']} |",
        f"| qwen2.5-math | burst ends | {results['config']['burst_end_s']} |",
        f"| qwen2.5-math | back to 1 replica | {math['back_to_1_s']} |",
        f"| qwen2.5-coder | first code request | {coder['first_use_s']} |",
        f"| qwen2.5-coder | first replica running | {coder['first_replica_s']} |",
        f"| qwen2.5-coder | back to 0 replicas | {coder['back_to_0_s']} |",
        "",
        f"code requests answered by: {coder['code_requests_by_model']}",
        "| requests | n | ok | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
    ]
    for kind, stats in results["latency"].items():
        lines.append(f"| {kind} | {stats['n']} | {stats['ok']} | {stats.get('p50_ms')} | {stats.get('p95_ms')} |")
    lines.append(f"errors: {results['errors']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
