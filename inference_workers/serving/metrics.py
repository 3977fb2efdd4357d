"""Prometheus metrics of the model server, on the registry kserve serves at ``/metrics``.

kserve already times its own preprocess/predict/postprocess per model; these add the stages as the
workers name them (``decode``, ``preprocess``, ``infer``, ``postprocess``) with a ``model_version``
label, so a swap shows in the histograms, and the rejected requests by reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from inference_workers.metrics import BATCH_BUCKETS, LATENCY_BUCKETS_MS


@dataclass
class ServingMetrics:
    registry: CollectorRegistry = field(default=REGISTRY)

    def __post_init__(self) -> None:
        r = self.registry
        self.stage_ms = Histogram(
            "fieldstream_serving_stage_ms",
            "Time per stage of an inference request",
            ["model", "stage", "model_version"],
            buckets=LATENCY_BUCKETS_MS,
            registry=r,
        )
        self.batch_size = Histogram(
            "fieldstream_serving_batch_size",
            "Inputs per request",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.rejected = Counter(
            "fieldstream_serving_rejected", "Requests answered with a 4xx", ["model", "reason"], registry=r
        )
        self.swaps = Counter(
            "fieldstream_serving_model_swaps", "Model versions swapped in", ["model"], registry=r
        )

    def track_request(self, model: str, version: str, size: int, stage_ms: dict[str, float]) -> None:
        self.batch_size.labels(model).observe(size)
        for stage, ms in stage_ms.items():
            self.stage_ms.labels(model, stage, version).observe(ms)

    def track_rejected(self, model: str, reason: str) -> None:
        self.rejected.labels(model, reason).inc()

    def track_swap(self, model: str) -> None:
        self.swaps.labels(model).inc()
