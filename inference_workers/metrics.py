"""Prometheus metrics of the inference workers and the model server, built in one place.

Each process has its own registry (tests run several workers in one process). ``track_*`` helpers
keep call sites one line long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

if TYPE_CHECKING:
    from inference_workers.runtime.model import ModelRuntime

LATENCY_BUCKETS_MS = (1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass
class WorkerMetrics:
    kind: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r, labels = self.registry, ["kind"]
        self.records = Counter(
            "fieldstream_worker_records", "Records turned into detections", labels, registry=r
        )
        self.errors = Counter(
            "fieldstream_worker_errors", "Records rejected or failed batches", [*labels, "reason"], registry=r
        )
        self.batch_size = Histogram(
            "fieldstream_worker_batch_size",
            "Records per micro-batch",
            labels,
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.stage_ms = Histogram(
            "fieldstream_worker_stage_ms",
            "Time per stage of a batch (decode, preprocess, infer, postprocess, produce, commit)",
            [*labels, "stage", "model_version"],
            buckets=LATENCY_BUCKETS_MS,
            registry=r,
        )
        self.end_to_end_ms = Histogram(
            "fieldstream_worker_end_to_end_ms",
            "Capture time to detection produced",
            labels,
            buckets=LATENCY_BUCKETS_MS,
            registry=r,
        )
        self.lag = Gauge(
            "fieldstream_worker_consumer_lag", "Records behind the partition end", labels, registry=r
        )
        self.model = Info("fieldstream_worker_model", "The model version serving", labels, registry=r)
        self.swaps = Counter("fieldstream_worker_model_swaps", "Hot swaps of the model", labels, registry=r)

    def track_batch(self, size: int) -> None:
        self.batch_size.labels(self.kind).observe(size)
        self.records.labels(self.kind).inc(size)

    def track_stage(self, stage: str, version: str, ms: float) -> None:
        self.stage_ms.labels(self.kind, stage, version).observe(ms)

    def track_error(self, reason: str, count: int = 1) -> None:
        self.errors.labels(self.kind, reason).inc(count)

    def track_model(self, runtime: ModelRuntime) -> None:
        self.model.labels(self.kind).info(
            {
                "name": runtime.name,
                "version": runtime.version,
                "provider": runtime.provider,
                "precision": runtime.precision,
            }
        )
