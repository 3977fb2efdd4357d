"""Prometheus metrics of the history sink (built in one place, small ``track_*`` helpers)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class SinkMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.consumed = Counter(
            "fieldstream_history_messages_total", "messages consumed", ["topic"], registry=registry
        )
        self.rejected = Counter(
            "fieldstream_history_deadletter_total",
            "messages sent to the dead-letter topic",
            ["topic"],
            registry=registry,
        )
        self.rows = Counter("fieldstream_history_rows_total", "rows upserted", ["table"], registry=registry)
        self.batch_seconds = Histogram(
            "fieldstream_history_batch_seconds",
            "decode + upsert + commit time of one batch",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
        self.last_commit = Gauge(
            "fieldstream_history_last_commit_timestamp_seconds",
            "when offsets were last committed",
            registry=registry,
        )

    def track_batch(self, seconds: float, rows_by_table: dict[str, int]) -> None:
        self.batch_seconds.observe(seconds)
        for table, n in rows_by_table.items():
            self.rows.labels(table).inc(n)
        self.last_commit.set(time.time())
