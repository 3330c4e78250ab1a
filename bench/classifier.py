"""Classification latency on one core: the shipped model and the rules baseline.

Every dev-set request is padded with text from other dev requests to exactly 8,000 characters
(the question stays at the start, the padding is real prompt text, not one repeated word), and
each is classified once per round after a warm-up, by the model and the rules baseline in turn
(so both see the same load; their ratio is reported too); the process is pinned to one CPU so the
figure is a single core's. Also timed: the dev requests as they are. And the memory of a
router process: a fresh interpreter imports the Router deployment's module (`router.ingress`,
with Ray Serve, FastAPI and OpenTelemetry), then loads the artefact and classifies; its resident
set size is read before and after. Writes bench/results/classifier.json.

    .venv/bin/python bench/classifier.py [--cpu 0] [--rounds 3]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from deployments.types import Message, TextPart
from router.classifier import classify, classify_rules
from router.classifier.records import read_records

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "router" / "classifier" / "data" / "dev.jsonl"
OUT = REPO / "bench" / "results" / "classifier.json"
SIZE = 8000


def padded_requests(texts: Sequence[str], size: int) -> list[list[Message]]:
    """Each text followed by the next ones until `size` characters: long, realistic prompts."""
    pool = "\n\n".join(texts)
    out = []
    for i, text in enumerate(texts):
        start = pool.find(texts[(i + 1) % len(texts)])
        filler = (pool[start:] + "\n\n" + pool)[: max(0, size - len(text) - 2)]
        out.append([Message("user", (TextPart((text + "\n\n" + filler)[:size]),))])
    return out


def timed(classifiers: dict[str, Callable], requests: Sequence[list[Message]], rounds: int) -> dict[str, dict[str, float]]:
    """Latency percentiles per classifier, interleaved request by request so all see the same load."""
    for messages in requests[:200]:
        for classifier in classifiers.values():
            classifier(messages)  # warm-up: model load, regex and token caches
    samples: dict[str, list[float]] = {name: [] for name in classifiers}
    for _ in range(rounds):
        for messages in requests:
            for name, classifier in classifiers.items():
                start = time.perf_counter()
                classifier(messages)
                samples[name].append((time.perf_counter() - start) * 1000)
    return {
        name: {
            "p50_ms": round(float(np.percentile(values, 50)), 4),
            "p99_ms": round(float(np.percentile(values, 99)), 4),
            "mean_ms": round(float(np.mean(values)), 4),
            "n": len(values),
        }
        for name, values in samples.items()
    }


def ratios(model: dict[str, float], rules: dict[str, float]) -> dict[str, float]:
    """Model over rules per statistic: a figure that travels between loaded and idle machines."""
    return {key: round(model[key] / rules[key], 3) for key in ("p50_ms", "p99_ms", "mean_ms")}


# Run in a fresh interpreter, so nothing this benchmark loaded is counted.
_RSS_PROBE = """
import json
def rss():
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {key: int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}
import router.ingress
before = rss()
from deployments.types import Message, TextPart
from router.classifier import classify
classify([Message("user", (TextPart("Write a python function that reverses a list"),))])
print(json.dumps({"router_imported_mib": round(before["VmRSS"], 1), "artefact_loaded_mib": round(rss()["VmRSS"], 1),
                  "peak_mib": round(rss()["VmHWM"], 1)}))
"""


def router_memory() -> dict[str, float]:
    """Resident set size (MiB) of a process holding the Router's module, before and after the artefact loads."""
    out = subprocess.run([sys.executable, "-c", _RSS_PROBE], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", type=int, default=0, help="the one CPU to pin to")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})

    records = [r for r in read_records(DEV) if not any(m.images for m in r.messages)]
    as_is = [list(r.messages) for r in records]
    long = padded_requests([r.messages[-1].text for r in records], SIZE)
    assert all(len(m[0].text) == SIZE for m in long)
    classifiers = {"model": classify, "rules": classify_rules}
    runs = {"8000_chars": timed(classifiers, long, args.rounds), "dev_as_is": timed(classifiers, as_is, args.rounds)}
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, pinned to CPU {args.cpu}",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "requests": len(records),
        "chars": SIZE,
        **{name: {run: timings[name] for run, timings in runs.items()} for name in classifiers},
        "model_over_rules": {run: ratios(timings["model"], timings["rules"]) for run, timings in runs.items()},
        "router_process_rss": router_memory(),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
