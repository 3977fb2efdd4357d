"""The ``fieldstream`` command's root.

Each component owns its commands in its own ``cli`` module, with a ``register(subparsers)``; the root
finds them through the ``fieldstream.commands`` entry points (``pyproject.toml``), so it imports no
component by name, and a component's ``cli`` module imports only light configuration: its handlers
import the heavy parts (torch, mlflow, pyflink, onnxruntime, Kafka clients) when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points

from app import demo
from app.cli import stack_commands
from fieldstream.logs import configure_logging
from fieldstream.settings import load_settings

ENTRY_POINT_GROUP = "fieldstream.commands"
#: --help lists the components' commands in the data's order; any other entry point comes after
PIPELINE_ORDER = ("producers", "stream_jobs", "inference_workers", "training")


def component_commands() -> list[EntryPoint]:
    """The components' ``register`` functions, as installed (``pip install -e .`` writes them)."""
    found = list(entry_points(group=ENTRY_POINT_GROUP))
    if not found:
        raise SystemExit(
            f"error: no {ENTRY_POINT_GROUP!r} entry points: the fieldstream package is not installed"
            " (run `make setup`)"
        )
    rank = {name: i for i, name in enumerate(PIPELINE_ORDER)}
    return sorted(found, key=lambda ep: (rank.get(ep.name, len(rank)), ep.name))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fieldstream",
        description="FieldStream: streaming ML for perception in the field (crop/weed frames, soundscapes).",
        epilog="Settings come from FIELDSTREAM_* environment variables and the stack file; see README.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    stack_commands.register(sub)
    demo.register(sub)
    for entry in component_commands():
        entry.load()(sub)
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
