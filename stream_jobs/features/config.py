"""Configuration of the feature job (one frozen object; the CLI builds it from flags and settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fieldstream.modality import AUDIO, VISION
from fieldstream.topics import DEADLETTER

#: A feature stream: the feature view of a modality (``VISION.view``, ``AUDIO.view``).
Kind = Literal["frames", "audio"]


class FeatureJobConfig(BaseModel):
    """Topics, timing, memory and ports of one run of the feature job."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_name: str = Field("fieldstream-features", description="Flink job name; names its state folder.")
    group_id: str = Field("fieldstream-features", description="Kafka consumer group (offsets on checkpoint).")
    kinds: tuple[Kind, ...] = Field((VISION.view, AUDIO.view), description="Streams to process.")
    frames_topic: str = VISION.raw_topic
    audio_topic: str = AUDIO.raw_topic
    features_frames_topic: str = VISION.features_topic
    features_audio_topic: str = AUDIO.features_topic
    deadletter_topic: str = DEADLETTER
    parallelism: int = Field(1, ge=1, le=8)
    checkpoint_interval_s: float = Field(5.0, gt=0)
    watermark_delay_s: float = Field(
        5.0, ge=0, description="Out-of-orderness allowed before a window closes."
    )
    idle_timeout_s: float = Field(
        10.0, gt=0, description="A partition silent this long stops holding back time."
    )
    max_future_s: float = Field(3600.0, gt=0, description="Reject captured_at further ahead of the clock.")
    redis_ttl_s: float = Field(24 * 3600.0, gt=0)
    archive_url: str | None = Field(None, description="Media archive (default <data_dir>/media).")
    archive_fsync: bool = False
    arrow_batch_size: int = Field(100, ge=1, description="Rows per vectorised UDF call.")
    bundle_time_ms: int = Field(200, ge=1, description="Longest a row waits for its UDF batch.")
    jdbc_flush_rows: int = Field(500, ge=1)
    jdbc_flush_interval_ms: int = Field(500, ge=1)
    jvm_heap_mb: int = Field(512, ge=256)
    managed_memory_mb: int = Field(128, ge=16)
    metrics_port: int | None = Field(None, description="Flink's Prometheus reporter (job + UDF metrics).")
    health_port: int | None = Field(None, description="/healthz, /readyz and /metrics of the driver.")
    fresh: bool = Field(
        False, description="Ignore retained checkpoints/savepoints (start from group offsets)."
    )

    def state_dir(self, data_dir: Path) -> Path:
        return data_dir / "flink" / self.job_name

    def archive(self, data_dir: Path) -> str:
        return self.archive_url or str((data_dir / "media").resolve())
