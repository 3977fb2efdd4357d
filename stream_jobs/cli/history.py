"""``fieldstream history QUERY | sink``: query the history store; run the history sink."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fieldstream.settings import load_settings

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """ISO-8601 (``2026-05-01``, ``2026-05-01T10:00:00Z``; naive means UTC) or an age (``15m``,
    ``2h``, ``7d``: that long before now)."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (ISO-8601 or an age like 15m, 2h, 7d)"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(sub: argparse._SubParsersAction) -> None:
    from feature_store.history import QUERIES

    history = sub.add_parser(
        "history",
        help="query the history store (named queries) or run the history sink",
        description="Named queries over the history store (TimescaleDB or PostgreSQL) and the sink that "
        "writes detections, labels and spray actions into it. The SQL behind each query is in "
        "feature_store/history/queries.py and the views of migration 0004.",
    )
    history.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="stack folder (default: $FIELDSTREAM_DATA_DIR or ./.fieldstream)",
    )
    verbs = history.add_subparsers(dest="verb", required=True, metavar="QUERY")
    for query in QUERIES.values():
        p = verbs.add_parser(
            query.name, help=query.help, description=f"{query.help}. Source: {query.source}."
        )
        if query.device_column:
            p.add_argument("--device", help="only this device id")
        if query.session_column:
            p.add_argument("--session", help="only this session id")
        p.add_argument("--since", type=parse_time, help="from this time (ISO-8601 or an age: 15m, 2h, 7d)")
        p.add_argument("--until", type=parse_time, help="before this time (ISO-8601 or an age)")
        p.add_argument("--limit", type=int, default=1000, help="at most this many rows (default 1000)")
        p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
        p.set_defaults(handler=_query, query=query.name)

    sink = verbs.add_parser(
        "sink",
        help="consume detections, labels and spray actions into PostgreSQL until SIGTERM/Ctrl-C",
        description="A Kafka consumer group that upserts detections.vision.v1, detections.audio.v1, "
        "labels.v1 and actions.spray.v1 into their tables (idempotent), dead-letters what breaks its "
        "schema, and commits offsets after each batch is written.",
    )
    sink.add_argument("--group-id", default="fieldstream-history", help="Kafka consumer group")
    sink.add_argument("--batch-size", type=int, default=500, help="messages per batch (default 500)")
    sink.add_argument(
        "--topic",
        action="append",
        default=[],
        metavar="CONTRACT=TOPIC",
        help="read a contract's messages from another topic (e.g. labels.v1=labels.replay); repeatable",
    )
    sink.add_argument("--health-port", type=int, default=None, help="serve /healthz, /readyz, /metrics here")
    sink.add_argument("--health-host", default="127.0.0.1", help="bind address of the health endpoint")
    sink.set_defaults(handler=_sink)


def _query(args: argparse.Namespace) -> int:
    from feature_store.history import QUERIES, QueryParams, render, run_query

    settings = load_settings(data_dir=args.data_dir)
    params = QueryParams(
        device=getattr(args, "device", None),
        session=getattr(args, "session", None),
        since=args.since,
        until=args.until,
        limit=args.limit,
    )
    columns, rows = run_query(settings.postgres_dsn, QUERIES[args.query], params)
    print(render(columns, rows, args.format))
    return 0


def _sink(args: argparse.Namespace) -> int:
    from stream_jobs.history.rows import MAPPINGS
    from stream_jobs.history.service import run_history_sink
    from stream_jobs.history.sink import HistorySinkConfig

    topics = {t: t for t in MAPPINGS}
    for item in args.topic:
        contract, _, topic = item.partition("=")
        if contract not in MAPPINGS or not topic:
            print(f"error: --topic wants CONTRACT=TOPIC with CONTRACT in {sorted(MAPPINGS)}", file=sys.stderr)
            return 2
        topics[contract] = topic
    settings = load_settings(data_dir=args.data_dir)
    config = HistorySinkConfig(group_id=args.group_id, topics=topics, batch_size=args.batch_size)
    return run_history_sink(settings, config, args.health_port, args.health_host)
