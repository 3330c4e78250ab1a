"""`qwen-router`: the project's command line (checks and offline helpers; serving is `serve run`)."""

import argparse
import sys
from pathlib import Path
from typing import Sequence


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


def _tiny_models(args: argparse.Namespace) -> int:
    from transformers.utils import logging as hf_logging

    from deployments.hf.tiny import write_tiny_checkpoints

    hf_logging.disable_progress_bar()

    for architecture, folder in write_tiny_checkpoints(args.directory).items():
        print(f"{architecture}: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
