"""Simulator output as ready-to-send records: media (+ ``labels.v1`` ground truth), no Kafka client.

:func:`simulated_frames` renders ``devices`` boom cameras (ids ``<prefix>-0 .. <prefix>-N-1``)
round-robin: frame 0 of every device, then frame 1, ...; :func:`simulated_chunks` does the same for
acoustic recorders. Each device gets its own simulator (its field / soundscape is keyed by the seed
and the device id, so devices differ with one seed). ``captured_at`` is real UTC epoch ms counted
from ``start_time_ms`` on the device clock (frame ``i`` at ``+ i * 1000 / fps`` ms, chunk ``g`` at
``+ 5000 * g`` ms).

Frames are rendered in :class:`FrameBlock` s (consecutive frames of one device) by a
:class:`BlockRenderer`, in this process or, with ``FrameRun.render_workers > 1``, in worker
processes (:mod:`producers.render_workers`); :func:`interleave` puts the blocks back in round-robin
order, so the records are the same whatever the number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import count as counter
from itertools import islice

from fieldstream.contracts import AudioRecord, FrameRecord, encode_audio, encode_frame
from fieldstream.contracts.media import DEFAULT_MAX_PAYLOAD
from fieldstream.topics import AUDIO_RAW, FRAMES_RAW
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, SimulatedFrame, encode_jpeg
from producers.labels import LabelBox, chunk_label, frame_label, label_record
from producers.records import Outgoing
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
    """What ``fieldstream produce frames`` simulates. ``count`` per device; None = until stopped.

    ``render_workers``: processes that render the frames (1 = this process); the records do not
    depend on it.
    """

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
    max_payload: int = DEFAULT_MAX_PAYLOAD
    render_workers: int = 1

    def __post_init__(self) -> None:
        if self.render_workers < 1:
            raise ValueError("render_workers must be >= 1")

    def started(self) -> FrameRun:
        """This run with ``start_time_ms`` fixed (now, when it is None)."""
        return self if self.start_time_ms is not None else replace(self, start_time_ms=now_ms())

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


@dataclass(frozen=True)
class FrameBlock:
    """Frames ``start .. start + count - 1`` of device number ``device`` (0-based)."""

    device: int
    start: int
    count: int


def frame_blocks(devices: int, count: int | None, per_block: int) -> Iterator[FrameBlock]:
    """Blocks of ``per_block`` frames, row by row (a row = the same frames of every device, device
    0 first); the last row is shorter when ``count`` (frames per device, None = endless) ends it."""
    if per_block < 1:
        raise ValueError("per_block must be >= 1")
    for start in counter(0, per_block):
        size = per_block if count is None else min(per_block, count - start)
        if size <= 0:
            return
        for device in range(devices):
            yield FrameBlock(device, start, size)


def interleave(blocks: Iterable[list[Outgoing]], devices: int) -> Iterator[Outgoing]:
    """The records of rendered rows of blocks (see :func:`frame_blocks`), round-robin by frame."""
    rendered = iter(blocks)
    while row := list(islice(rendered, devices)):
        for frames in zip(*row, strict=True):
            yield from frames


class BlockRenderer:
    """Renders :class:`FrameBlock` s of a started :class:`FrameRun` into records; a simulator per
    device, built on first use and kept (iterating forward reuses its cached tiles)."""

    def __init__(self, run: FrameRun) -> None:
        if run.start_time_ms is None:
            raise ValueError("the run must be started (start_time_ms fixed)")
        self.run = run
        self._configs = run.configs(run.start_time_ms)
        self._simulators: dict[int, FieldCameraSimulator] = {}

    def simulator(self, device: int) -> FieldCameraSimulator:
        found = self._simulators.get(device)
        if found is None:
            found = self._simulators[device] = FieldCameraSimulator(self._configs[device])
        return found

    def __call__(self, block: FrameBlock) -> list[Outgoing]:
        run = self.run
        frames = self.simulator(block.device).frames(block.count, start=block.start)
        return [frame_outgoing(f, run.jpeg_quality, run.labels, run.max_payload) for f in frames]


def simulated_frames(run: FrameRun, should_stop: Callable[[], bool] | None = None) -> Iterator[Outgoing]:
    """Frames of every device, round-robin, each with its ground truth (unless ``labels`` is off);
    rendered in ``run.render_workers`` processes when that is more than 1 (``should_stop``: see
    :func:`~producers.render_workers.pooled_frames`)."""
    run = run.started()
    if run.render_workers > 1:
        from producers.render_workers import pooled_frames  # it builds on this module

        yield from pooled_frames(run, should_stop)
        return
    renderer = BlockRenderer(run)
    yield from interleave(map(renderer, frame_blocks(run.devices, run.count, 1)), run.devices)


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
    max_payload: int = DEFAULT_MAX_PAYLOAD

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
