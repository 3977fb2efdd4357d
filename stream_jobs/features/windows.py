"""1-minute tumbling-window aggregates per device: the Flink SQL and its reference maths.

A window ``[start, start + 1 min)`` is aligned to the epoch (UTC minutes), holds the accepted records
of one device whose ``captured_at`` falls in it, and is emitted once, when the watermark passes its
end (records later than that are not in any aggregate; their per-record rows still land). Columns
(migration ``0003_feature_window_aggregates.sql``): the count (``frames`` / ``chunks``; plus
``sessions`` for audio), first and last capture time, and per feature ``<name>_avg`` (arithmetic
mean), ``<name>_min``, ``<name>_max``. :func:`reference_aggregates` computes the same in plain Python:
it is the specification the Flink output is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from stream_jobs.flink.sql import iso_utc, literal

WINDOW_MS = 60_000
STATS = ("avg", "min", "max")
_SQL_STAT = {"avg": "AVG", "min": "MIN", "max": "MAX"}


@dataclass(frozen=True)
class WindowSpec:
    """The aggregate table of one media kind."""

    table: str  # PostgreSQL table
    count_column: str  # "frames" | "chunks"
    feature_names: tuple[str, ...]
    with_sessions: bool = False


def window_start_ms(captured_at_ms: int, size_ms: int = WINDOW_MS) -> int:
    """Start of the tumbling window holding ``captured_at_ms`` (epoch-aligned, floor)."""
    return captured_at_ms - captured_at_ms % size_ms


def stat_columns(names: Sequence[str]) -> list[str]:
    return [f"{name}_{stat}" for name in names for stat in STATS]


def window_columns(spec: WindowSpec) -> list[tuple[str, str]]:
    """(name, Flink type) of the JDBC sink, in table order (timestamps travel as ISO-8601 text)."""
    cols = [
        ("device_id", "STRING"),
        ("window_start", "STRING"),
        ("window_end", "STRING"),
        ("feature_set", "STRING"),
        (spec.count_column, "BIGINT"),
    ]
    if spec.with_sessions:
        cols.append(("sessions", "BIGINT"))
    cols += [("first_captured_at", "STRING"), ("last_captured_at", "STRING")]
    cols += [(c, "DOUBLE") for c in stat_columns(spec.feature_names)]
    return cols


def window_select_sql(spec: WindowSpec, source: str, feature_set: str, column_of: dict[str, str]) -> str:
    """``SELECT`` of the window aggregate over view ``source`` (columns ``event_time``, ``device_id``,
    ``session_id`` and one column per feature named by ``column_of``), in :func:`window_columns` order."""
    parts = [
        "device_id",
        iso_utc("window_start"),
        iso_utc("window_end"),
        literal(feature_set),
        "COUNT(*)",
    ]
    if spec.with_sessions:
        parts.append("COUNT(DISTINCT session_id)")
    parts += [iso_utc("MIN(event_time)"), iso_utc("MAX(event_time)")]
    parts += [f"{_SQL_STAT[stat]}({column_of[name]})" for name in spec.feature_names for stat in STATS]
    select = ",\n  ".join(parts)
    return (
        f"SELECT\n  {select}\n"
        f"FROM TABLE(TUMBLE(TABLE {source}, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))\n"
        "GROUP BY device_id, window_start, window_end"
    )


@dataclass(frozen=True)
class WindowRecord:
    device_id: str
    captured_at: int  # epoch ms
    features: dict[str, float]
    session_id: str | None = None


def reference_aggregates(
    records: Iterable[WindowRecord], spec: WindowSpec
) -> dict[tuple[str, int], dict[str, float | int]]:
    """``{(device_id, window_start_ms): {column: value}}`` exactly as the job should write them
    (times as epoch ms here)."""
    groups: dict[tuple[str, int], list[WindowRecord]] = {}
    for rec in records:
        groups.setdefault((rec.device_id, window_start_ms(rec.captured_at)), []).append(rec)
    out: dict[tuple[str, int], dict[str, float | int]] = {}
    for key, members in sorted(groups.items()):
        row: dict[str, float | int] = {
            spec.count_column: len(members),
            "window_end": key[1] + WINDOW_MS,
            "first_captured_at": min(r.captured_at for r in members),
            "last_captured_at": max(r.captured_at for r in members),
        }
        if spec.with_sessions:
            row["sessions"] = len({r.session_id for r in members})
        for name in spec.feature_names:
            values = [r.features[name] for r in members]
            row[f"{name}_avg"] = sum(values) / len(values)
            row[f"{name}_min"] = min(values)
            row[f"{name}_max"] = max(values)
        out[key] = row
    return out
