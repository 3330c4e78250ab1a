"""`qwen-router classify`, `eval-router` (text and --json) and `train-router`, in process."""

import json
from pathlib import Path

from serve_app.cli import main

MULTILINGUAL = Path(__file__).resolve().parents[1] / "data" / "routing_multilingual.jsonl"


def test_classify_prints_category_confidence_and_reasons(capsys):
    assert main(["classify", "Write a python function that reverses a list"]) == 0
    out = capsys.readouterr().out
    assert "category:   code" in out and "confidence: " in out and "  - signal " in out


def test_classify_low_confidence_falls_back(capsys):
    assert main(["classify", "now make it faster", "--min-confidence", "0.99"]) == 0
    out = capsys.readouterr().out
    assert "category:   general" in out


def test_classify_with_the_rules_baseline(capsys):
    assert main(["classify", "Solve 2x + 3 = 11", "--classifier", "rules"]) == 0
    assert "category:   math" in capsys.readouterr().out


def test_eval_router_json(capsys):
    assert main(["eval-router", str(MULTILINGUAL), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {"n", "accuracy", "macro_f1", "per_label", "confusion", "latency_ms"}
    assert metrics["n"] == len(MULTILINGUAL.read_text().splitlines())
    assert set(metrics["latency_ms"]) == {"p50", "p99"}
    assert set(metrics["per_label"]["vision"]) == {"precision", "recall", "f1", "support"}
    assert sum(sum(row.values()) for row in metrics["confusion"].values()) == metrics["n"]


def test_eval_router_table(capsys):
    assert main(["eval-router", str(MULTILINGUAL), "--classifier", "rules"]) == 0
    out = capsys.readouterr().out
    assert "macro-F1=" in out and "latency p50=" in out and "confusion (rows: gold" in out


def test_eval_router_names_a_missing_image(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    content = [{"type": "image_url", "image_url": {"url": "images/missing.png"}}]
    bad.write_text(json.dumps({"id": "x", "label": "vision", "messages": [{"role": "user", "content": content}]}) + "\n")
    try:
        main(["eval-router", str(bad)])
    except ValueError as error:
        assert "bad.jsonl:1" in str(error) and "missing.png" in str(error)
    else:
        raise AssertionError("a missing image must fail")


def test_train_router_writes_artefact_and_metrics(tmp_path, capsys):
    rows = [json.loads(line) for line in MULTILINGUAL.read_text().splitlines()]
    for row in rows:  # images resolve next to the copied file
        if isinstance(row["messages"][0]["content"], list):
            row["messages"][0]["content"] = row["messages"][0]["content"][:1]
            row["label"] = "general"
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows * 2))
    out, metrics = tmp_path / "m.npz", tmp_path / "m.json"
    assert main(["train-router", "--train", str(data), "--dev", str(data), "--output", str(out), "--metrics", str(metrics)]) == 0
    assert out.stat().st_size > 0 and json.loads(metrics.read_text())["sets"]["dev"]["n"] == 2 * len(rows)


def test_train_router_names_a_bad_jobs_value(capsys):
    try:
        main(["train-router", "--leave-one-source-out", "--jobs", "0"])
    except SystemExit as exit:
        assert exit.code == 2
    else:
        raise AssertionError("--jobs 0 must be refused")
    assert "--jobs: '0' is not allowed: a whole number of 1 or more" in capsys.readouterr().err
