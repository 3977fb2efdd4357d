"""The Flink SQL of one stream (frames or audio): its tables, views and INSERTs.

For ``<kind>`` in ``frames`` / ``audio``::

    <kind>_raw (Kafka) -> <kind>_scored = <kind>_features(v, partition, offset, headers[...]...) AS r
      r.ok     -> <kind>_ok -> features topic (Kafka, JSON), <features table>, <media table> (JDBC upsert),
                               1-minute windows (JDBC upsert)
      not r.ok -> deadletter (Kafka: original key, value, headers + error headers)

The UDF runs once per record: Flink's planner reuses the ``<kind>_scored`` sub-plan for every sink
(``table.optimizer.reuse-sub-plan-enabled``, on by default), checked with ``EXPLAIN``.
"""

from __future__ import annotations

from dataclasses import dataclass

from feature_store.features import FEATURE_SET_VERSION
from fieldstream.settings import Settings
from stream_jobs.features.config import FeatureJobConfig
from stream_jobs.features.kinds import FRAMES, KINDS, MediaKind
from stream_jobs.features.udfs import META_FIELDS, feature_column
from stream_jobs.features.windows import WindowSpec, window_columns, window_select_sql
from stream_jobs.flink.sql import (
    iso_utc_ms,
    jdbc_sink_ddl,
    jdbc_target,
    kafka_sink_ddl,
    kafka_source_ddl,
    literal,
)

DEADLETTER_TABLE = "deadletter_sink"


@dataclass(frozen=True)
class PipelineSpec:
    kind: str
    raw_topic: str
    features_topic: str
    id_column: str  # frame_id | chunk_id
    media_table: str
    media_columns: tuple[tuple[str, str, str], ...]  # (PostgreSQL column, Flink type, SQL expression)
    features_table: str
    features_columns: tuple[tuple[str, str, str], ...]
    window: WindowSpec

    @property
    def udf_name(self) -> str:
        return f"{self.kind}_features"


def _common(kind: MediaKind) -> tuple[tuple[str, str, str], ...]:
    cols = [(kind.modality.id_header, "STRING", "item_id"), ("device_id", "STRING", "device_id")]
    if kind.sessions:
        cols.append(("session_id", "STRING", "session_id"))
    cols.append(("captured_at", "STRING", iso_utc_ms("captured_at")))
    return tuple(cols)


def pipeline_spec(kind: str, config: FeatureJobConfig) -> PipelineSpec:
    """The tables of the feature stream ``kind`` (``frames`` | ``audio``), with the config's topics."""
    media_kind = KINDS[kind]
    if media_kind is FRAMES:
        media = (
            *_common(media_kind),
            ("content_type", "STRING", "content_type"),
            ("media_uri", "STRING", "media_uri"),
            ("size_bytes", "INT", "size_bytes"),
            ("lat", "DOUBLE", "lat"),
            ("lon", "DOUBLE", "lon"),
            ("speed_mps", "DOUBLE", "speed_mps"),
            ("boom_offset_m", "DOUBLE", "boom_offset_m"),
        )
        return PipelineSpec(
            kind,
            config.frames_topic,
            config.features_frames_topic,
            media_kind.modality.id_header,
            "frames",
            media,
            "frame_features",
            _features_columns(media_kind),
            WindowSpec("frame_features_1m", "frames", media_kind.feature_names),
        )
    media = (
        *_common(media_kind),
        ("sample_rate", "INT", "sample_rate"),
        ("content_type", "STRING", "content_type"),
        ("media_uri", "STRING", "media_uri"),
        ("size_bytes", "INT", "size_bytes"),
        ("lat", "DOUBLE", "lat"),
        ("lon", "DOUBLE", "lon"),
    )
    return PipelineSpec(
        kind,
        config.audio_topic,
        config.features_audio_topic,
        media_kind.modality.id_header,
        "audio_chunks",
        media,
        "audio_features",
        _features_columns(media_kind),
        WindowSpec("audio_features_1m", "chunks", media_kind.feature_names, with_sessions=True),
    )


def _features_columns(kind: MediaKind) -> tuple[tuple[str, str, str], ...]:
    return (
        *_common(kind),
        ("feature_set", "STRING", literal(FEATURE_SET_VERSION)),
        ("features", "STRING", "features"),
        ("computed_at", "STRING", iso_utc_ms("computed_at")),
    )


def deadletter_ddl(config: FeatureJobConfig, settings: Settings) -> str:
    return kafka_sink_ddl(DEADLETTER_TABLE, config.deadletter_topic, settings.kafka_bootstrap, headers=True)


def pipeline_ddl(spec: PipelineSpec, config: FeatureJobConfig, settings: Settings) -> list[str]:
    """CREATE TABLE statements of the stream's source and sinks."""
    k = spec.kind
    target = jdbc_target(settings.postgres_dsn)
    flush = {"flush_rows": config.jdbc_flush_rows, "flush_interval_ms": config.jdbc_flush_interval_ms}
    return [
        kafka_source_ddl(
            f"{k}_raw",
            spec.raw_topic,
            settings.kafka_bootstrap,
            config.group_id,
            watermark_delay_s=config.watermark_delay_s,
            max_future_s=config.max_future_s,
        ),
        kafka_sink_ddl(f"{k}_features_kafka", spec.features_topic, settings.kafka_bootstrap),
        jdbc_sink_ddl(
            f"{k}_media_pg",
            spec.media_table,
            [(c, t) for c, t, _ in spec.media_columns],
            (spec.id_column, "captured_at"),
            target,
            **flush,
        ),
        jdbc_sink_ddl(
            f"{k}_features_pg",
            spec.features_table,
            [(c, t) for c, t, _ in spec.features_columns],
            (spec.id_column, "captured_at"),
            target,
            **flush,
        ),
        jdbc_sink_ddl(
            f"{k}_windows_pg",
            spec.window.table,
            window_columns(spec.window),
            ("device_id", "window_start"),
            target,
            **flush,
        ),
    ]


def pipeline_views(spec: PipelineSpec) -> list[tuple[str, str]]:
    """(view name, SELECT) pairs: every record scored once, then the accepted ones."""
    k = spec.kind
    header_args = "".join(f", headers[{literal(name)}]" for name in KINDS[k].header_names)
    scored = (
        f"SELECT k, v, headers, kafka_partition, kafka_offset, event_time,"
        f" {spec.udf_name}(v, kafka_partition, kafka_offset{header_args}) AS r FROM {k}_raw"
    )
    fields = [name for name, _ in META_FIELDS if name not in ("ok", "error", "error_type")]
    fields += [feature_column(n) for n in spec.window.feature_names]
    ok = f"SELECT event_time, {', '.join(f'r.{f} AS {f}' for f in fields)} FROM {k}_scored WHERE r.ok"
    return [(f"{k}_scored", scored), (f"{k}_ok", ok)]


def pipeline_inserts(spec: PipelineSpec, feature_set: str) -> list[str]:
    """The INSERTs of one stream: features topic, per-record rows, media rows, windows, dead letters."""
    k = spec.kind
    media = ", ".join(expr for _, _, expr in spec.media_columns)
    features = ", ".join(expr for _, _, expr in spec.features_columns)
    error_headers = ", ".join(
        [
            "'error', CAST(r.error AS BYTES)",
            "'error_type', CAST(r.error_type AS BYTES)",
            f"'source_topic', CAST({literal(spec.raw_topic)} AS BYTES)",
            "'source_partition', CAST(CAST(kafka_partition AS STRING) AS BYTES)",
            "'source_offset', CAST(CAST(kafka_offset AS STRING) AS BYTES)",
        ]
    )
    column_of = {n: feature_column(n) for n in spec.window.feature_names}
    return [
        f"INSERT INTO {k}_features_kafka SELECT CAST(device_id AS BYTES), message FROM {k}_ok",
        f"INSERT INTO {k}_features_pg SELECT {features} FROM {k}_ok",
        f"INSERT INTO {k}_media_pg SELECT {media} FROM {k}_ok",
        f"INSERT INTO {k}_windows_pg " + window_select_sql(spec.window, f"{k}_ok", feature_set, column_of),
        f"INSERT INTO {DEADLETTER_TABLE} SELECT k, v,"
        f" CASE WHEN headers IS NULL THEN MAP[{error_headers}]"
        f" ELSE MAP_UNION(headers, MAP[{error_headers}]) END"
        f" FROM {k}_scored WHERE NOT r.ok",
    ]
