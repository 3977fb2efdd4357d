"""``fieldstream stack up | down | status | init | env``: the local stack of real services.

Light to import (``fieldstream --help`` builds every parser): the handlers import the stack itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from app.stack.errors import StackError
from fieldstream.settings import load_settings

if TYPE_CHECKING:
    from app.stack.local_stack import LocalStack


def register(sub: argparse._SubParsersAction) -> None:
    stack = sub.add_parser(
        "stack",
        help="start, stop and inspect the local services (Kafka, PostgreSQL, Redis, MLflow, KServe)",
        description="The local stack: real services as local processes under one data folder.",
    )
    stack.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder for the services' data and the stack file"
        " (default: $FIELDSTREAM_DATA_DIR or ./.fieldstream)",
    )
    verbs = stack.add_subparsers(dest="verb", required=True, metavar="VERB")

    up = verbs.add_parser(
        "up",
        help="start the services, wait for health, create topics, apply migrations",
        description="Start Kafka (KRaft), PostgreSQL, Redis, MLflow and the KServe model server; idempotent.",
    )
    for name in ("kafka", "postgres", "redis", "mlflow", "serve"):
        up.add_argument(
            f"--{name}-port",
            type=int,
            default=None,
            help=f"port for {name} (default: the previous one, else a free one)",
        )
    up.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for each service (default 120)"
    )
    up.set_defaults(handler=_up)

    down = verbs.add_parser("down", help="stop what `up` started, by PID; data stays for the next `up`")
    down.set_defaults(handler=_down)

    status = verbs.add_parser("status", help="each service with PID, port, health and resident memory")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.set_defaults(handler=_status)

    init = verbs.add_parser(
        "init",
        help="create the declared topics and apply the migrations on already running services",
        description="For services this command did not start (docker compose, Kubernetes): create the topics"
        " of kafka/topics.yaml on FIELDSTREAM_KAFKA_BOOTSTRAP and apply the database migrations on"
        " FIELDSTREAM_POSTGRES_DSN. Idempotent.",
    )
    init.set_defaults(handler=_init)

    env = verbs.add_parser("env", help='print the settings as shell exports: eval "$(fieldstream stack env)"')
    env.set_defaults(handler=_env)


def _stack(args: argparse.Namespace) -> LocalStack:
    from app.stack.local_stack import LocalStack

    settings = load_settings(data_dir=args.data_dir)
    ports = {
        name: getattr(args, f"{name}_port", None)
        for name in ("kafka", "postgres", "redis", "mlflow", "serve")
    }
    return LocalStack(settings.data_dir, {k: v for k, v in ports.items() if v})


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _up(args: argparse.Namespace) -> int:
    stack = _stack(args)
    print(f"stack up in {stack.data_dir}", file=sys.stderr)
    try:
        report = stack.up(timeout_s=args.timeout, progress=_say)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"stack healthy in {report.seconds:.1f} s: started {', '.join(report.started) or 'nothing'}"
        f"{'; already running ' + ', '.join(report.already_running) if report.already_running else ''};"
        f" {len(report.topics_created)} topics created, {len(report.migrations_applied)} migrations applied;"
        f" history store: {report.postgres_backend}",
        file=sys.stderr,
    )
    _print_table(stack)
    return 0


def _down(args: argparse.Namespace) -> int:
    stack = _stack(args)
    stopped = stack.down(progress=_say)
    print(
        f"stopped {', '.join(stopped) if stopped else 'nothing (no service was running)'}; data kept in"
        f" {stack.data_dir}",
        file=sys.stderr,
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    stack = _stack(args)
    rows = stack.status()
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        _print_table(stack, rows)
    return 0 if all(r.healthy for r in rows) else 3


def _init(args: argparse.Namespace) -> int:
    from confluent_kafka.admin import AdminClient

    from feature_store.timescale.migrate import apply_migrations, history_backend
    from fieldstream.kafka.admin import ensure_topics
    from fieldstream.kafka.config import admin_config
    from fieldstream.topics import load_topic_specs

    settings = load_settings(data_dir=args.data_dir)
    created = ensure_topics(AdminClient(admin_config(settings)), load_topic_specs())
    applied = apply_migrations(settings.postgres_dsn)
    print(
        f"{len(created)} topics created, {len(applied)} migrations applied;"
        f" history store: {history_backend(settings.postgres_dsn)}"
    )
    return 0


def _env(args: argparse.Namespace) -> int:
    for line in _stack(args).env_exports():
        print(line)
    return 0


def _print_table(stack: LocalStack, rows: list | None = None) -> None:
    rows = rows if rows is not None else stack.status()
    print(f"{'SERVICE':<9} {'PID':>8} {'PORT':>6} {'HEALTH':<9} {'RSS MB':>7}  DETAIL")
    for r in rows:
        health = "healthy" if r.healthy else ("starting" if r.running else "stopped")
        mb = r.rss_bytes / 2**20
        print(f"{r.name:<9} {r.pid or '-':>8} {r.port or '-':>6} {health:<9} {mb:>7.0f}  {r.detail}")
    total = sum(r.rss_bytes for r in rows)
    print(f"{'total':<9} {'':>8} {'':>6} {'':<9} {total / 2**20:>7.0f}")
