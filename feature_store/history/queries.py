"""Named history queries and their SQL builder (psycopg2 ``%(name)s`` parameters, never string pasting).

| name | from | one row per |
|---|---|---|
| ``weed-density`` | ``weed_density_1m`` (detections, else labels) | device, minute |
| ``species-per-session`` | ``species_per_session`` (detections, else labels) | session, species |
| ``frame-features`` | ``frame_features`` | frame |
| ``audio-features`` | ``audio_features`` | chunk |
| ``frame-windows`` | ``frame_features_1m`` | device, minute |
| ``audio-windows`` | ``audio_features_1m`` | device, minute |
| ``media`` | ``frames`` + ``audio_chunks`` | archived frame or chunk |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class QueryParams:
    """Filters a user may give; None means no filter."""

    device: str | None = None
    session: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = 1000


@dataclass(frozen=True)
class NamedQuery:
    """A query over one relation: ``time_column`` takes --since/--until (half-open ``[since, until)``);
    ``overlap`` queries match rows whose ``[first, last]`` span overlaps the range instead."""

    name: str
    help: str
    source: str  # a table, a view, or a parenthesised sub-select with an alias
    columns: tuple[str, ...]
    time_column: str
    order_by: tuple[str, ...]
    device_column: str | None = "device_id"
    session_column: str | None = None
    overlap: tuple[str, str] | None = None
    descending: bool = False
    extra: dict[str, str] = field(default_factory=dict)


_MEDIA = (
    "(SELECT 'frame' AS kind, frame_id AS item_id, device_id, NULL::text AS session_id, captured_at,"
    " content_type, size_bytes, media_uri FROM frames"
    " UNION ALL SELECT 'chunk', chunk_id, device_id, session_id, captured_at, content_type, size_bytes,"
    " media_uri FROM audio_chunks) AS media"
)

QUERIES: dict[str, NamedQuery] = {
    q.name: q
    for q in (
        NamedQuery(
            "weed-density",
            "weeds per frame per device per minute (vision detections; labels for minutes without any)",
            "weed_density_1m",
            ("device_id", "minute", "frames", "crops", "weeds", "weeds_per_frame", "source"),
            "minute",
            ("device_id", "minute"),
        ),
        NamedQuery(
            "species-per-session",
            "species heard per session: chunks, best score, first/last seen (detections, else labels)",
            "species_per_session",
            (
                "session_id",
                "device_id",
                "species_id",
                "species_name",
                "chunks",
                "max_score",
                "first_seen",
                "last_seen",
                "source",
            ),
            "first_seen",
            ("session_id", "chunks DESC", "species_id"),
            session_column="session_id",
            overlap=("first_seen", "last_seen"),
        ),
        NamedQuery(
            "frame-features",
            "per-frame features over a time range",
            "frame_features",
            ("frame_id", "device_id", "captured_at", "feature_set", "features"),
            "captured_at",
            ("captured_at", "frame_id"),
        ),
        NamedQuery(
            "audio-features",
            "per-chunk features over a time range",
            "audio_features",
            ("chunk_id", "device_id", "session_id", "captured_at", "feature_set", "features"),
            "captured_at",
            ("captured_at", "chunk_id"),
            session_column="session_id",
        ),
        NamedQuery(
            "frame-windows",
            "1-minute frame feature aggregates per device (frame_features_1m)",
            "frame_features_1m",
            (
                "device_id",
                "window_start",
                "frames",
                "vegetation_fraction_avg",
                "vegetation_fraction_max",
                "green_cluster_density_avg",
                "brightness_mean_avg",
                "sharpness_avg",
            ),
            "window_start",
            ("device_id", "window_start"),
        ),
        NamedQuery(
            "audio-windows",
            "1-minute audio feature aggregates per device (audio_features_1m)",
            "audio_features_1m",
            (
                "device_id",
                "window_start",
                "chunks",
                "sessions",
                "rms_dbfs_avg",
                "spectral_centroid_hz_avg",
                "aci_avg",
                "ndsi_avg",
                "h_avg",
            ),
            "window_start",
            ("device_id", "window_start"),
        ),
        NamedQuery(
            "media",
            "archived frames and chunks with their media URIs (rebuild a dataset from history)",
            _MEDIA,
            (
                "kind",
                "item_id",
                "device_id",
                "session_id",
                "captured_at",
                "content_type",
                "size_bytes",
                "media_uri",
            ),
            "captured_at",
            ("captured_at", "item_id"),
            session_column="session_id",
        ),
    )
}


def build_query(query: NamedQuery, params: QueryParams) -> tuple[str, dict[str, Any]]:
    """``(sql, args)`` for psycopg2: the query's columns from its source with the user's filters."""
    where: list[str] = []
    args: dict[str, Any] = {}
    if params.device is not None:
        if query.device_column is None:
            raise ValueError(f"{query.name} has no device filter")
        where.append(f"{query.device_column} = %(device)s")
        args["device"] = params.device
    if params.session is not None:
        if query.session_column is None:
            raise ValueError(f"{query.name} has no session filter")
        where.append(f"{query.session_column} = %(session)s")
        args["session"] = params.session
    first, last = query.overlap or (query.time_column, query.time_column)
    if params.since is not None:
        where.append(f"{last} >= %(since)s")
        args["since"] = params.since
    if params.until is not None:
        where.append(f"{first} < %(until)s")
        args["until"] = params.until
    sql = f"SELECT {', '.join(query.columns)} FROM {query.source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY " + ", ".join(query.order_by)
    if params.limit is not None:
        if params.limit <= 0:
            raise ValueError("limit must be positive")
        sql += " LIMIT %(limit)s"
        args["limit"] = params.limit
    return sql, args


def run_query(dsn: str, query: NamedQuery, params: QueryParams) -> tuple[list[str], list[Sequence[Any]]]:
    """Run a named query; return the column names and the rows."""
    import psycopg2  # the query catalogue is read by `fieldstream --help`: the driver only when run

    sql, args = build_query(query, params)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute(sql, args)
        names = [d.name for d in cur.description or ()]
        return names, cur.fetchall()
