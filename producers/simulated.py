"""Simulator output as ready-to-send records: media (+ ``labels.v1`` ground truth), no Kafka client.

:func:`simulated_frames` renders ``devices`` boom cameras (ids ``<prefix>-0 .. <prefix>-N-1``)
round-robin: frame 0 of every device, then frame 1, ...; :func:`simulated_chunks` does the same for
acoustic recorders. Each device gets its own simulator (its field / soundscape is keyed by the seed
and the device id, so devices differ with one seed). ``captured_at`` is real UTC epoch ms counted
from ``start_time_ms`` on the device clock (frame ``i`` at ``+ i * 1000 / fps`` ms, chunk ``g`` at
``+ 5000 * g`` ms).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from fieldstream.contracts import AudioRecord, FrameRecord, encode_audio, encode_frame
from fieldstream.settings import MB
from fieldstream.topics import AUDIO_RAW, FRAMES_RAW
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, SimulatedFrame, encode_jpeg
from producers.labels import LabelBox, chunk_label, frame_label, label_record
from producers.runner import Outgoing
from producers.soundscape import SimulatedChunk, SoundscapeConfig, SoundscapeSimulator

DEFAULT_CAMERA_FPS = 10.0


def now_ms() -> int:
    return int(time.time() * 1000)


def device_ids(prefix: str, devices: int) -> list[str]:
    if devices < 1:
        raise ValueError("devices must be >= 1")
    return [f"{prefix}-{d}" for d in range(devices)]


@dataclass(frozen=True)
class FrameRun:
    """What ``fieldstream produce frames`` simulates. ``count`` per device; None = until stopped."""

    devices: int = 1
    device_prefix: str = "boom"
    count: int | None = 100
    fps: float = DEFAULT_CAMERA_FPS
    width: int = 640
    height: int = 480
    speed_mps: float = 6.0
    seed: int = 0
    jpeg_quality: int = 85
    new_weed_kind: str | None = None
    season: str | None = None
    drift_at_s: float | None = None
    labels: bool = True
    start_time_ms: int | None = None  # None: now
    max_payload: int = 8 * MB

    def configs(self, start_time_ms: int) -> list[FieldCameraConfig]:
        return [
            FieldCameraConfig(
                device_id=device,
                width=self.width,
                height=self.height,
                fps=self.fps,
                speed_mps=self.speed_mps,
                seed=self.seed,
                jpeg_quality=self.jpeg_quality,
                new_weed_kind=self.new_weed_kind,
                season=self.season,
                drift_at_s=self.drift_at_s,
                start_time_ms=start_time_ms,
            )
            for device in device_ids(self.device_prefix, self.devices)
        ]


def frame_outgoing(frame: SimulatedFrame, jpeg_quality: int, labels: bool, max_payload: int) -> Outgoing:
    """One simulated frame as a ``frames.raw.v1`` record (+ its ``labels.v1`` record)."""
    record = FrameRecord(
        device_id=frame.device_id,
        frame_id=frame.frame_id,
        captured_at=frame.captured_at_ms,
        content_type="image/jpeg",
        image=encode_jpeg(frame.image, jpeg_quality),
        lat=frame.lat,
        lon=frame.lon,
        speed_mps=frame.speed_mps,
        boom_offset_m=frame.boom_offset_m,
    )
    label = None
    if labels:
        boxes = [LabelBox(b.class_id, b.class_name, (b.x1, b.y1, b.x2, b.y2), b.kind) for b in frame.boxes]
        message = frame_label(frame.device_id, frame.frame_id, frame.captured_at_ms, boxes, "simulator")
        label = label_record(message)
    return Outgoing(FRAMES_RAW, encode_frame(record, max_payload), label)


def simulated_frames(run: FrameRun) -> Iterator[Outgoing]:
    """Frames of every device, round-robin, each with its ground truth (unless ``labels`` is off)."""
    start = now_ms() if run.start_time_ms is None else run.start_time_ms
    simulators = [FieldCameraSimulator(config) for config in run.configs(start)]
    streams = [sim.frames(run.count) for sim in simulators]
    while True:
        for stream in streams:
            frame = next(stream, None)
            if frame is None:
                return
            yield frame_outgoing(frame, run.jpeg_quality, run.labels, run.max_payload)


@dataclass(frozen=True)
class AudioRun:
    """What ``fieldstream produce audio`` simulates: per device, ``sessions`` x ``chunks_per_session``."""

    devices: int = 1
    device_prefix: str = "recorder"
    sessions: int = 1
    chunks_per_session: int = 12
    species_pool: tuple[str, ...] | None = None
    call_density: float = 1.5
    seed: int = 0
    new_species: str | None = None
    drift_at_s: float | None = None
    labels: bool = True
    start_time_ms: int | None = None  # None: now
    max_payload: int = 8 * MB

    def configs(self, start_time_ms: int) -> list[SoundscapeConfig]:
        return [
            SoundscapeConfig(
                device_id=device,
                sessions=self.sessions,
                chunks_per_session=self.chunks_per_session,
                species_pool=self.species_pool,
                call_density=self.call_density,
                seed=self.seed,
                new_species=self.new_species,
                drift_at_s=self.drift_at_s,
                start_time_ms=start_time_ms,
            )
            for device in device_ids(self.device_prefix, self.devices)
        ]

    @property
    def total(self) -> int:
        return self.devices * self.sessions * self.chunks_per_session


def chunk_outgoing(chunk: SimulatedChunk, labels: bool, max_payload: int) -> Outgoing:
    """One simulated chunk as an ``audio.raw.v1`` record (PCM16 WAV) (+ its ``labels.v1`` record)."""
    record = AudioRecord(
        device_id=chunk.device_id,
        chunk_id=chunk.chunk_id,
        session_id=chunk.session_id,
        captured_at=chunk.captured_at_ms,
        sample_rate=chunk.sample_rate,
        audio=chunk.to_wav(),
    )
    label = None
    if labels:
        message = chunk_label(
            chunk.device_id,
            chunk.chunk_id,
            chunk.session_id,
            chunk.captured_at_ms,
            chunk.species,
            "simulator",
        )
        label = label_record(message)
    return Outgoing(AUDIO_RAW, encode_audio(record, max_payload), label)


def simulated_chunks(run: AudioRun) -> Iterator[Outgoing]:
    """Chunks of every device, round-robin, each with its species ground truth."""
    start = now_ms() if run.start_time_ms is None else run.start_time_ms
    streams = [SoundscapeSimulator(config).chunks() for config in run.configs(start)]
    for _ in range(run.sessions * run.chunks_per_session):
        for stream in streams:
            yield chunk_outgoing(next(stream), run.labels, run.max_payload)
