"""The vectorised (pandas) Python UDF of the feature job: one call per Arrow batch of raw records.

Per batch: decode and compute features (:func:`~stream_jobs.features.kinds.score_batch`), archive the
accepted media (write-then-rename, idempotent), update the Redis online store ("only if newer"), and
return one result row per input record: ``ok`` with metadata, the Kafka message, the features as JSON
and one ``f_<name>`` DOUBLE per feature (for the window aggregates), or ``ok = false`` with the reason
for the dead-letter topic. Store and archive failures raise: Flink then restarts the job from its last
checkpoint (at-least-once side effects, both idempotent) instead of dropping records.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pyflink.table import DataTypes
from pyflink.table.types import DataType
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from feature_store.archive import Archive, MediaItem, open_archive
from feature_store.online import FeatureRow, OnlineStore, RedisOnlineStore
from stream_jobs.features.kinds import KINDS, Scored, headers_from_columns, score_batch
from stream_jobs.features.messages import encode_feature_message, features_json

log = logging.getLogger("fieldstream.features.udf")

#: The result row of the UDF before the feature columns: (name, Flink SQL type).
META_FIELDS: tuple[tuple[str, str], ...] = (
    ("ok", "BOOLEAN"),
    ("error", "STRING"),
    ("error_type", "STRING"),
    ("device_id", "STRING"),
    ("item_id", "STRING"),
    ("session_id", "STRING"),
    ("captured_at", "BIGINT"),
    ("computed_at", "BIGINT"),
    ("content_type", "STRING"),
    ("size_bytes", "INT"),
    ("sample_rate", "INT"),
    ("lat", "DOUBLE"),
    ("lon", "DOUBLE"),
    ("speed_mps", "DOUBLE"),
    ("boom_offset_m", "DOUBLE"),
    ("media_uri", "STRING"),
    ("message", "BYTES"),
    ("features", "STRING"),
)
_TYPES: dict[str, DataType] = {
    "BOOLEAN": DataTypes.BOOLEAN(),
    "STRING": DataTypes.STRING(),
    "BIGINT": DataTypes.BIGINT(),
    "INT": DataTypes.INT(),
    "DOUBLE": DataTypes.DOUBLE(),
    "BYTES": DataTypes.BYTES(),
}


def feature_column(name: str) -> str:
    """The result column of one feature (``f_`` keeps short names such as ``h`` clear of keywords)."""
    return f"f_{name}"


def result_fields(kind: str) -> list[tuple[str, str]]:
    return [*META_FIELDS, *((feature_column(n), "DOUBLE") for n in KINDS[kind].feature_names)]


def result_type(kind: str) -> DataType:
    return DataTypes.ROW([DataTypes.FIELD(name, _TYPES[t]) for name, t in result_fields(kind)])


@dataclass(frozen=True)
class UdfConfig:
    """Everything the UDF needs in the Python worker (pickled with it)."""

    kind: str
    topic: str
    redis_url: str
    redis_ttl_s: float
    archive_url: str
    feature_set: str
    max_payload: int
    max_future_s: float = 3600.0
    archive_fsync: bool = False


class FeatureFunction(ScalarFunction):
    """``<kind>_features(value BYTES, partition INT, offset BIGINT, <header> BYTES...) -> ROW<...>``,
    one header argument per name in the kind's ``header_names``."""

    def __init__(self, config: UdfConfig) -> None:
        self.config = config
        self._store: OnlineStore | None = None
        self._archive: Archive | None = None
        self._lag_ms = 0

    def open(self, function_context: FunctionContext) -> None:
        self._store = RedisOnlineStore.from_url(self.config.redis_url, self.config.redis_ttl_s)
        self._archive = open_archive(self.config.archive_url, fsync=self.config.archive_fsync)
        group = function_context.get_metric_group().add_group("fieldstream").add_group(self.config.kind)
        self._records = group.counter("records")
        self._accepted = group.counter("accepted")
        self._rejected = group.counter("rejected")
        self._online_updates = group.counter("online_updates")
        self._archived_bytes = group.counter("archived_bytes")
        self._batch_ms = group.distribution("batch_ms")
        group.gauge("event_lag_ms", lambda: int(self._lag_ms))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def eval(
        self, values: pd.Series, partitions: pd.Series, offsets: pd.Series, *header_columns: pd.Series
    ) -> Any:
        started = time.perf_counter()
        now_ms = int(time.time() * 1000)
        kind = KINDS[self.config.kind]
        scored = score_batch(
            kind,
            list(values),
            headers_from_columns(kind.header_names, [list(c) for c in header_columns]),
            max_payload=self.config.max_payload,
            now_ms=now_ms,
            max_future_s=self.config.max_future_s,
        )
        accepted = [s for s in scored if s.ok]
        uris = self._side_effects(accepted, now_ms)
        for s, partition, offset in zip(scored, partitions, offsets, strict=True):
            if not s.ok:
                log.warning(
                    "record rejected to dead-letter",
                    extra={
                        "topic": self.config.topic,
                        "partition": partition,
                        "offset": offset,
                        "error": s.error,
                    },
                )
        frame = self._result_frame(scored, uris, now_ms)
        self._records.inc(len(scored))
        self._accepted.inc(len(accepted))
        self._rejected.inc(len(scored) - len(accepted))
        if accepted:
            self._lag_ms = now_ms - max(int(s.captured_at or 0) for s in accepted)
        self._batch_ms.update(int((time.perf_counter() - started) * 1000))
        return frame

    def _side_effects(self, accepted: list[Scored], now_ms: int) -> dict[int, str]:
        assert self._store is not None and self._archive is not None, "open() was not called"
        uris: dict[int, str] = {}
        rows = []
        for s in accepted:
            item = MediaItem(
                self.config.kind,
                str(s.item_id),
                str(s.device_id),
                int(s.captured_at or 0),
                str(s.content_type),
            )
            uris[id(s)] = self._archive.put(item, s.payload or b"")
            self._archived_bytes.inc(len(s.payload or b""))
            rows.append(
                FeatureRow(
                    view=self.config.kind,
                    item_id=str(s.item_id),
                    device_id=str(s.device_id),
                    session_id=s.session_id,
                    captured_at=int(s.captured_at or 0),
                    feature_set=self.config.feature_set,
                    features=s.features or {},
                    computed_at=now_ms,
                )
            )
        self._online_updates.inc(self._store.write_latest(rows))
        return uris

    def _result_frame(self, scored: list[Scored], uris: dict[int, str], now_ms: int) -> pd.DataFrame:
        kind = KINDS[self.config.kind]
        columns: dict[str, list[Any]] = {name: [] for name, _ in result_fields(self.config.kind)}
        for s in scored:
            meta: dict[str, Any] = {name: getattr(s, name, None) for name, _ in META_FIELDS}
            meta["computed_at"] = now_ms if s.ok else None
            meta["media_uri"] = uris.get(id(s))
            if s.ok and s.features is not None:
                meta["message"] = encode_feature_message(self.config.kind, s, self.config.feature_set, now_ms)
                meta["features"] = features_json(s.features)
            else:
                meta["message"] = meta["features"] = None
            for name, _ in META_FIELDS:
                columns[name].append(meta[name])
            for name in kind.feature_names:
                columns[feature_column(name)].append(s.features[name] if s.features else None)
        return pd.DataFrame({name: pd.Series(vals, dtype=object) for name, vals in columns.items()})


def feature_udf(config: UdfConfig) -> Any:
    """The UDF object to register with ``create_temporary_function``."""
    return udf(FeatureFunction(config), result_type=result_type(config.kind), func_type="pandas")
