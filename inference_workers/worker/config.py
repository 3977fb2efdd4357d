"""Settings of one inference worker process (the connection settings come from ``Settings``)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from fieldstream.modality import NAMES
from fieldstream.model_names import CHAMPION


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class WorkerConfig:
    kind: str  # a modality's name: "vision" | "audio"
    model_ref: str | None = None  # default: models:/<model>@champion
    group_id: str | None = None  # default: fieldstream-worker-<kind>
    worker_id: str = field(default_factory=default_worker_id)  # part of the transactional.id
    max_batch: int = 16
    max_wait_ms: int = 10
    # a transaction spans the batches of this long (committed sooner when the input runs dry): fewer
    # commits cost less CPU and broker work; read-committed readers see detections at the commit.
    # 100 is Kafka Streams' default under exactly-once; in a backlog here it commits every 2-4 batches
    # (50 committed nearly every batch and ran 10-20% slower)
    commit_interval_ms: int = 100
    decode_threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))  # JPEG/WAV decoding
    metrics_port: int | None = None  # None: no endpoint; 0: any free port
    metrics_host: str = "127.0.0.1"
    transaction_timeout_ms: int = 10_000  # how long a crashed worker's open transaction blocks readers
    watch_models: bool = True
    attach_features: bool = True

    def __post_init__(self) -> None:
        if self.kind not in NAMES:
            raise ValueError(f"worker kind must be one of {', '.join(NAMES)}, not {self.kind!r}")
        if self.max_batch < 1 or self.max_wait_ms < 0 or self.decode_threads < 1:
            raise ValueError("max_batch and decode_threads must be >= 1, max_wait_ms >= 0")
        if not 0 <= self.commit_interval_ms <= self.transaction_timeout_ms // 2:
            raise ValueError(
                f"commit_interval_ms must be between 0 and half the transaction timeout"
                f" ({self.transaction_timeout_ms // 2} ms), not {self.commit_interval_ms}"
            )

    def resolved_model_ref(self, model_name: str) -> str:
        return self.model_ref or f"models:/{model_name}@{CHAMPION}"

    @property
    def group(self) -> str:
        return self.group_id or f"fieldstream-worker-{self.kind}"

    @property
    def transactional_id(self) -> str:
        return f"{self.group}-{self.worker_id}"
