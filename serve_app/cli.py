"""`qwen-router`: the project's command line (checks and offline helpers; serving is `serve run`)."""

import argparse
import sys
from pathlib import Path
from typing import Sequence

from router.classifier.commands import add_commands as add_classifier_commands


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qwen-router", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser(
        "check", help="validate a Serve config (or bare app args) without starting anything"
    )
    check.add_argument("file", type=Path)
    check.set_defaults(run=_config_check)

    tiny = commands.add_parser(
        "tiny-models", help="build the tiny random-weight Qwen checkpoints into a folder"
    )
    tiny.add_argument("directory", type=Path)
    tiny.set_defaults(run=_tiny_models)

    add_classifier_commands(commands)  # classify, eval-router, train-router

    k8s = commands.add_parser("k8s", help="Kubernetes (KubeRay) manifests")
    k8s_commands = k8s.add_subparsers(dest="k8s_command", required=True)
    render = k8s_commands.add_parser(
        "render", help="print the RayService (or its serveConfigV2) for a Serve config"
    )
    render.add_argument("config", type=Path)
    render.add_argument("--profile", choices=["gpu", "cpu"], default="gpu", help="cluster base (default gpu)")
    render.add_argument("--image", help="container image of every Ray pod (default: the base file's)")
    render.add_argument("--serve-config-only", action="store_true", help="print serveConfigV2 only")
    render.set_defaults(run=_k8s_render)

    hash_key = commands.add_parser(
        "hash-key",
        help="print the sha256 of an API key for auth.keys[].sha256 (the key is read from stdin, "
        "never from the command line)",
    )
    hash_key.set_defaults(run=_hash_key)

    args = parser.parse_args(argv)
    return args.run(args)


def _config_check(args: argparse.Namespace) -> int:
    from serve_app.serve_config import check_config_file

    problems = check_config_file(args.file)
    if problems:
        print(f"{args.file}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{args.file}: OK")
    return 0


def _k8s_render(args: argparse.Namespace) -> int:
    from serve_app.k8s import RenderError, dump_manifest, render_command, render_rayservice

    try:
        manifest = render_rayservice(args.config, args.profile, args.image)
    except RenderError as exc:
        print(f"{args.config}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if args.serve_config_only:
        print(manifest["spec"]["serveConfigV2"], end="")
    else:
        print(dump_manifest(manifest, render_command(args.config, args.profile, args.image)), end="")
    return 0


def _hash_key(args: argparse.Namespace) -> int:
    import getpass

    from router.auth import hash_key

    key = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    key = key.strip()
    if not key:
        print("no key given on stdin", file=sys.stderr)
        return 1
    print(hash_key(key))
    return 0


def _tiny_models(args: argparse.Namespace) -> int:
    from transformers.utils import logging as hf_logging

    from deployments.hf.tiny import write_tiny_checkpoints

    hf_logging.disable_progress_bar()

    for architecture, folder in write_tiny_checkpoints(args.directory).items():
        print(f"{architecture}: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
