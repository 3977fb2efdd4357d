"""The ``fieldstream`` command. Each component adds its sub-commands through a ``register`` function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fieldstream import demo
from fieldstream.cli import (
    features_commands,
    history_commands,
    models_commands,
    produce_commands,
    serve_commands,
    stack_commands,
    train_commands,
    worker_commands,
)
from fieldstream.logs import configure_logging
from fieldstream.settings import load_settings

#: Modules with ``register(subparsers)``; later components append theirs here.
COMMAND_GROUPS = [
    stack_commands,
    demo,
    produce_commands,
    features_commands,
    history_commands,
    train_commands,
    models_commands,
    worker_commands,
    serve_commands,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fieldstream",
        description="FieldStream: streaming ML for perception in the field (crop/weed frames, soundscapes).",
        epilog="Settings come from FIELDSTREAM_* environment variables and the stack file; see README.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
