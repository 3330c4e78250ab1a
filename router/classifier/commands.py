"""The classifier's subcommands of `qwen-router`: classify, eval-router, train-router."""

import argparse
import json
from pathlib import Path
from typing import Any

_CLASSIFIERS = ("model", "rules")


def add_commands(commands: Any) -> None:
    """Register the subcommands on the CLI's subparsers (their work runs only when chosen)."""
    classify = commands.add_parser("classify", help="classify one user message: category, confidence, reasons")
    classify.add_argument("text")
    _common(classify)
    classify.set_defaults(run=_classify)

    evaluate = commands.add_parser("eval-router", help="score the classifier on labelled requests (JSONL)")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    _common(evaluate)
    evaluate.set_defaults(run=_eval_router)

    train = commands.add_parser("train-router", help="train the classifier's model and record its dev and check-set figures")
    train.add_argument("--train", type=Path, nargs="+",
                       help="labelled training requests, one or more files (default: the packaged train, authored and natural sets)")
    train.add_argument("--dev", type=Path, help="labelled dev requests, for the recorded metrics (default: packaged)")
    train.add_argument("--output", type=Path, help="the artefact to write (default: the shipped model.npz)")
    train.add_argument("--metrics", type=Path, help="where the recorded figures go (default: model_metrics.json)")
    train.add_argument("--leave-one-source-out", action="store_true",
                       help="only evaluate candidate settings, each source of the training files held out in turn")
    train.add_argument("--candidates", nargs="+", metavar="NAME",
                       help="with --leave-one-source-out: which candidates (default: all, the shipped one first)")
    train.add_argument("--loso-output", type=Path, help="with --leave-one-source-out: also write the figures as JSON")
    train.add_argument("--jobs", type=_positive_int, default=1,
                       help="with --leave-one-source-out: held-out sources fitted at a time, one core each (default 1)")
    train.set_defaults(run=_train_router)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: a whole number of 1 or more")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    from serve_app.config import RouterConfig

    defaults = RouterConfig()
    parser.add_argument("--classifier", choices=_CLASSIFIERS, default="model", help="model (default) or the rules baseline")
    parser.add_argument("--min-confidence", type=float, default=defaults.min_confidence,
                        help=f"below it the fallback category answers (default {defaults.min_confidence})")
    parser.add_argument("--context-turns", type=int, default=defaults.classify_context_turns)


def _classifier(args: argparse.Namespace):
    from functools import partial

    from router.classifier import classify, classify_rules

    chosen = classify if args.classifier == "model" else classify_rules
    return partial(chosen, context_turns=args.context_turns)


def _fallback() -> str:
    from serve_app.config import RouterConfig

    return RouterConfig().fallback_category


def _classify(args: argparse.Namespace) -> int:
    from deployments.types import Message, TextPart
    from router.classifier import with_fallback

    result = with_fallback(_classifier(args)([Message("user", (TextPart(args.text),))]), args.min_confidence, _fallback())
    print(f"category:   {result.category}\nconfidence: {result.confidence:.3f}\nreasons:")
    for reason in result.reasons:
        print(f"  - {reason}")
    return 0


def _eval_router(args: argparse.Namespace) -> int:
    from router.classifier.evaluate import evaluate, report
    from router.classifier.records import read_records

    metrics = evaluate(read_records(args.file), _classifier(args), min_confidence=args.min_confidence, fallback=_fallback())
    print(json.dumps(metrics) if args.json else report(metrics))
    return 0


def _train_router(args: argparse.Namespace) -> int:
    from router.classifier.model import ARTEFACT
    from router.classifier.train import DATA, METRICS, TRAINING, train_router

    if args.leave_one_source_out:
        from router.classifier.loso import CANDIDATES, run

        run(args.train or TRAINING, args.candidates or tuple(CANDIDATES), args.loso_output, jobs=args.jobs)
        return 0
    train_router(
        args.train or TRAINING, args.dev or DATA / "dev.jsonl", args.output or ARTEFACT, args.metrics or METRICS
    )
    return 0
