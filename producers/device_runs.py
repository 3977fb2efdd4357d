"""What a simulated run is: :class:`SimulatedRun` (N devices of one simulator), and its two kinds,
:class:`FrameRun` (boom cameras) and :class:`AudioRun` (acoustic recorders).

Only options live here (light to import: the CLI takes its defaults from these classes); the
simulators that render a run are built by :mod:`producers.device_simulators`. Device ids are
``<prefix>-0 .. <prefix>-N-1``; each device gets its own simulator, keyed by the seed and its id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import ClassVar, Self

from fieldstream.contracts.raw_media import DEFAULT_MAX_PAYLOAD
from fieldstream.modality import AUDIO, AUDIO_CHUNK_SECONDS, VISION, Modality
from producers.clock import now_ms
from producers.config import DEFAULT_CAMERA_FPS


def device_ids(prefix: str, devices: int) -> list[str]:
    if devices < 1:
        raise ValueError("devices must be >= 1")
    return [f"{prefix}-{d}" for d in range(devices)]


@dataclass(frozen=True)
class SimulatedRun(ABC):
    """``devices`` simulated devices publishing round-robin (record 0 of every device, then 1, ...).

    ``captured_at`` counts from ``start_time_ms`` (None: now, fixed by :meth:`started`) on each
    device's clock, one record every :attr:`interval_s`. ``labels``: publish the ground truth;
    ``max_payload``: the largest media payload accepted.
    """

    modality: ClassVar[Modality]

    devices: int = 1
    device_prefix: str = "device"
    seed: int = 0
    drift_at_s: float | None = None
    labels: bool = True
    start_time_ms: int | None = None  # None: now
    max_payload: int = DEFAULT_MAX_PAYLOAD

    def device_ids(self) -> list[str]:
        return device_ids(self.device_prefix, self.devices)

    def started(self) -> Self:
        """This run with ``start_time_ms`` fixed (now, when it is None)."""
        return self if self.start_time_ms is not None else replace(self, start_time_ms=now_ms())

    @property
    @abstractmethod
    def per_device(self) -> int | None:
        """Records per device; None = until stopped."""

    @property
    @abstractmethod
    def interval_s(self) -> float:
        """Seconds between two records of one device, on the device clock (the realtime pace)."""

    @property
    def total(self) -> int | None:
        """Records of every device together; None = until stopped."""
        per_device = self.per_device
        return None if per_device is None else self.devices * per_device


@dataclass(frozen=True)
class FrameRun(SimulatedRun):
    """What ``fieldstream produce frames`` simulates: ``count`` frames per device (None = until
    stopped) of 640x480 top-down field views by default.

    ``render_workers``: processes that render the frames (1 = this process); the records do not
    depend on it.
    """

    modality: ClassVar[Modality] = VISION

    device_prefix: str = "boom"
    count: int | None = 100
    fps: float = DEFAULT_CAMERA_FPS
    width: int = 640
    height: int = 480
    speed_mps: float = 6.0
    jpeg_quality: int = 85
    new_weed_kind: str | None = None
    season: str | None = None
    render_workers: int = 1

    def __post_init__(self) -> None:
        if self.render_workers < 1:
            raise ValueError("render_workers must be >= 1")

    @property
    def per_device(self) -> int | None:
        return self.count

    @property
    def interval_s(self) -> float:
        return 1.0 / self.fps


@dataclass(frozen=True)
class AudioRun(SimulatedRun):
    """What ``fieldstream produce audio`` simulates: per device, ``sessions`` x ``chunks_per_session``
    contiguous 5 s chunks."""

    modality: ClassVar[Modality] = AUDIO

    device_prefix: str = "recorder"
    sessions: int = 1
    chunks_per_session: int = 12
    species_pool: tuple[str, ...] | None = None
    call_density: float = 1.5
    new_species: str | None = None

    @property
    def per_device(self) -> int:
        return self.sessions * self.chunks_per_session

    @property
    def interval_s(self) -> float:
        return AUDIO_CHUNK_SECONDS

    @property
    def total(self) -> int:
        return self.devices * self.per_device
