"""Flink SQL DDL builders for FieldStream's connectors (pure functions, unit-tested).

- Kafka sources read the value as bytes (``'value.format'='raw'``), the key as bytes, and the record
  headers as a ``MAP<STRING NOT NULL, BYTES>`` metadata column (the non-null key type is what the
  Arrow bridge of vectorised Python UDFs requires). ``event_time`` comes from the ``captured_at``
  header (UTC epoch ms) and carries the watermark; a header that is missing or not a number reads
  as epoch 0 (never advances the watermark), and a time too far in the future is ignored by the
  watermark so one bad clock cannot close every window early.
- JDBC sinks upsert on the primary key (PostgreSQL ``INSERT ... ON CONFLICT DO UPDATE``). The JDBC URL
  carries ``stringtype=unspecified`` so text columns are sent untyped and PostgreSQL casts them to
  the column type: ISO-8601 strings become ``timestamptz``, JSON text becomes ``jsonb``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlparse

#: Timestamps go to PostgreSQL as ISO-8601 UTC text (the session time zone is UTC).
ISO_FORMAT = "yyyy-MM-dd''T''HH:mm:ss.SSS''Z''"
MAX_RECORD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class JdbcTarget:
    url: str
    username: str | None = None
    password: str | None = None


def jdbc_target(dsn: str) -> JdbcTarget:
    """A libpq URI (``postgresql://user:pw@host:port/db?sslmode=...``) as a JDBC URL plus credentials."""
    parsed = urlparse(dsn)
    if parsed.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"expected a postgresql:// URI, got {dsn!r}")
    host = parsed.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    port = f":{parsed.port}" if parsed.port else ""
    database = parsed.path.lstrip("/") or (unquote(parsed.username) if parsed.username else "postgres")
    query = dict(parse_qsl(parsed.query))
    query["stringtype"] = "unspecified"
    user = unquote(parsed.username) if parsed.username else None
    password = unquote(parsed.password) if parsed.password else None
    if user and not password:  # the connector wants both options or neither: a lone user goes in the URL
        query["user"] = user
        user = None
    return JdbcTarget(f"jdbc:postgresql://{host}{port}/{database}?{urlencode(query)}", user, password)


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def with_clause(options: Mapping[str, str | None]) -> str:
    return ",\n  ".join(f"{literal(k)} = {literal(v)}" for k, v in options.items() if v is not None)


def iso_utc(expr: str) -> str:
    """SQL turning a TIMESTAMP_LTZ expression into ISO-8601 UTC text (``2026-05-01T10:00:00.123Z``)."""
    return f"DATE_FORMAT({expr}, '{ISO_FORMAT}')"


def iso_utc_ms(expr: str) -> str:
    """SQL turning UTC epoch milliseconds (BIGINT) into ISO-8601 UTC text."""
    return iso_utc(f"TO_TIMESTAMP_LTZ({expr}, 3)")


def kafka_source_ddl(
    table: str,
    topic: str,
    bootstrap: str,
    group_id: str,
    *,
    watermark_delay_s: float = 5.0,
    max_future_s: float = 3600.0,
) -> str:
    """A Kafka source of raw media records: key, value, headers, partition, offset, event time."""
    captured = "COALESCE(TRY_CAST(CAST(headers['captured_at'] AS STRING) AS BIGINT), CAST(0 AS BIGINT))"
    options = {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": bootstrap,
        "properties.group.id": group_id,
        "properties.isolation.level": "read_committed",
        # small fetches bound the heap; a record batch larger than these still comes through whole
        "properties.max.partition.fetch.bytes": str(2 * 1024 * 1024),
        "properties.fetch.max.bytes": str(8 * 1024 * 1024),
        "properties.auto.offset.reset": "earliest",
        "scan.startup.mode": "group-offsets",
        "scan.topic-partition-discovery.interval": "60 s",
        "key.format": "raw",
        "key.fields": "k",
        "value.format": "raw",
        "value.fields-include": "EXCEPT_KEY",
    }
    delay_ms = int(watermark_delay_s * 1000)
    future_ms = int(max_future_s * 1000)
    return f"""CREATE TEMPORARY TABLE {table} (
  k BYTES,
  v BYTES,
  headers MAP<STRING NOT NULL, BYTES> METADATA,
  kafka_partition INT METADATA FROM 'partition' VIRTUAL,
  kafka_offset BIGINT METADATA FROM 'offset' VIRTUAL,
  captured_ms AS {captured},
  event_time AS TO_TIMESTAMP_LTZ({captured}, 3),
  WATERMARK FOR event_time AS CASE
    WHEN event_time > TO_TIMESTAMP_LTZ(UNIX_TIMESTAMP() * 1000 + {future_ms}, 3)
    THEN TO_TIMESTAMP_LTZ(0, 3)
    ELSE event_time - INTERVAL '{delay_ms / 1000:.3f}' SECOND(3) END
) WITH (
  {with_clause(options)}
)"""


def kafka_sink_ddl(table: str, topic: str, bootstrap: str, *, headers: bool = False) -> str:
    """A Kafka sink writing a bytes key ``k`` and a bytes value ``v`` (and ``headers`` when asked)."""
    options = {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": bootstrap,
        "properties.max.request.size": str(MAX_RECORD_BYTES + 1024 * 1024),
        "properties.linger.ms": "5",
        "properties.compression.type": "none",
        "sink.delivery-guarantee": "at-least-once",
        "sink.partitioner": "default",  # Kafka's murmur2 on the key: same partition as Python producers
        "key.format": "raw",
        "key.fields": "k",
        "value.format": "raw",
        "value.fields-include": "EXCEPT_KEY",
    }
    header_column = ",\n  headers MAP<STRING, BYTES> METADATA" if headers else ""
    return f"""CREATE TEMPORARY TABLE {table} (
  k BYTES,
  v BYTES{header_column}
) WITH (
  {with_clause(options)}
)"""


def jdbc_sink_ddl(
    table: str,
    pg_table: str,
    columns: Sequence[tuple[str, str]],
    primary_key: Sequence[str],
    target: JdbcTarget,
    *,
    flush_rows: int = 500,
    flush_interval_ms: int = 500,
) -> str:
    """An upserting JDBC sink into PostgreSQL table ``pg_table``; ``columns`` are (name, Flink type)."""
    names = {name for name, _ in columns}
    missing = [k for k in primary_key if k not in names]
    if missing:
        raise ValueError(f"primary key columns {missing} are not among the columns of {table}")
    options = {
        "connector": "jdbc",
        "url": target.url,
        "table-name": pg_table,
        "username": target.username,
        "password": target.password,
        "sink.buffer-flush.max-rows": str(flush_rows),
        "sink.buffer-flush.interval": f"{flush_interval_ms} ms",
        "sink.max-retries": "5",
    }
    body = ",\n  ".join(f"`{name}` {kind}" for name, kind in columns)
    keys = ", ".join(f"`{k}`" for k in primary_key)
    return f"""CREATE TEMPORARY TABLE {table} (
  {body},
  PRIMARY KEY ({keys}) NOT ENFORCED
) WITH (
  {with_clause(options)}
)"""
