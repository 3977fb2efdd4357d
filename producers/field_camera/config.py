"""Configuration of one simulated boom camera: :class:`FieldCameraConfig`.

Scale: the image spans ``ground_width_m`` across the boom, so ``px_per_m = width / ground_width_m``
(400 px/m by default: 640 x 480 px = 1.6 m x 1.2 m of ground). The vehicle drives toward the image
top at ``speed_mps``; frame ``i`` is taken at ``i / fps`` seconds, when the camera has moved
``speed_mps * i / fps`` metres. Motion blur along the driving axis is
``speed_mps * exposure_s * px_per_m`` pixels long.

Drift knobs (``new_weed_kind``, ``season``) take effect at ``drift_at_s`` seconds of simulated time
(from the start when ``drift_at_s`` is None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from producers.config import DEFAULT_CAMERA_FPS
from producers.field_camera.species import (
    CROP_CLASS_ID,
    CROP_KINDS,
    SEASONS,
    WEED_CLASS_ID,
    WEED_KINDS,
    kind,
)


@dataclass(frozen=True)
class FieldCameraConfig:
    """Everything that decides what a simulated boom camera sees (same config => same frames)."""

    device_id: str = "boom-0"
    width: int = 640
    height: int = 480
    fps: float = DEFAULT_CAMERA_FPS
    speed_mps: float = 6.0
    seed: int = 0
    crop_kinds: tuple[str, ...] = CROP_KINDS
    weed_kinds: tuple[str, ...] = WEED_KINDS
    weed_density: float = 4.0  # weeds per m2 on average (patchy)
    new_weed_kind: str | None = None  # drift: a weed kind brought in from drift_at_s
    new_weed_share: float = 0.35  # share of weeds that are the new kind after the drift
    season: str | None = None  # drift: "autumn" from drift_at_s ("summer" = the baseline)
    drift_at_s: float | None = None
    jpeg_quality: int = 85
    start_time_ms: int = 0
    ground_width_m: float = 1.6
    exposure_s: float = 0.002
    noise_std: float = 2.0  # camera noise, grey levels (clipped at 3 sigma)
    plot_length_m: float = 8.0  # trial plots; crop kinds take turns plot by plot
    boom_offset_m: float = 0.0  # the camera's lateral position on the boom
    origin_lat: float | None = None  # GPS at the start; derived from seed and device when None
    origin_lon: float | None = None
    heading_deg: float | None = None  # driving direction, degrees clockwise from north
    min_visible_px: int = 30  # objects with fewer visible pixels get no box
    with_mask: bool = False  # attach the instance-id mask to every frame

    def __post_init__(self) -> None:
        if not self.device_id:
            raise ValueError("device_id must not be empty")
        if not (16 <= self.width <= 4096 and 16 <= self.height <= 4096):
            raise ValueError("width and height must be in 16..4096")
        if not (self.fps > 0 and math.isfinite(self.fps)):
            raise ValueError("fps must be a positive number")
        if not (0 <= self.speed_mps <= 50):
            raise ValueError("speed_mps must be in 0..50")
        if not (0 < self.ground_width_m <= 20):
            raise ValueError("ground_width_m must be in (0, 20]")
        if not (0 <= self.exposure_s <= 0.1):
            raise ValueError("exposure_s must be in 0..0.1")
        if not (0 <= self.noise_std <= 8):
            raise ValueError("noise_std must be in 0..8")
        if not (0 <= self.weed_density <= 100):
            raise ValueError("weed_density must be in 0..100 per m2")
        if not (0 <= self.new_weed_share <= 1):
            raise ValueError("new_weed_share must be in 0..1")
        if not (1 <= self.jpeg_quality <= 100):
            raise ValueError("jpeg_quality must be in 1..100")
        if not self.plot_length_m >= 1:
            raise ValueError("plot_length_m must be at least 1")
        if self.min_visible_px < 1:
            raise ValueError("min_visible_px must be at least 1")
        if self.drift_at_s is not None and not self.drift_at_s >= 0:
            raise ValueError("drift_at_s must be >= 0")
        for name in self.crop_kinds:
            if kind(name).class_id != CROP_CLASS_ID:
                raise ValueError(f"{name!r} is not a crop kind")
        for name in self.weed_kinds:
            if kind(name).class_id != WEED_CLASS_ID:
                raise ValueError(f"{name!r} is not a weed kind")
        if self.new_weed_kind is not None and kind(self.new_weed_kind).class_id != WEED_CLASS_ID:
            raise ValueError(f"new_weed_kind {self.new_weed_kind!r} is not a weed kind")
        if self.season is not None and self.season not in SEASONS:
            raise ValueError(f"unknown season {self.season!r}; known: {SEASONS}")
        if self.px_per_m * self.ground_width_m > 4096 or self.px_per_m < 50:
            raise ValueError("px_per_m (width / ground_width_m) must be in 50..4096")

    @property
    def px_per_m(self) -> float:
        return self.width / self.ground_width_m

    @property
    def blur_px(self) -> float:
        """Motion blur length along the driving axis, pixels."""
        return self.speed_mps * self.exposure_s * self.px_per_m

    @property
    def has_drift(self) -> bool:
        return self.new_weed_kind is not None or (self.season is not None and self.season != "summer")

    @property
    def drift_start_s(self) -> float | None:
        """When the drift knobs take effect (None when no knob is set)."""
        if not self.has_drift:
            return None
        return 0.0 if self.drift_at_s is None else self.drift_at_s

    def time_s(self, index: int) -> float:
        return index / self.fps

    def captured_at_ms(self, index: int) -> int:
        return self.start_time_ms + round(index * 1000.0 / self.fps)

    def drift_active(self, index: int) -> bool:
        start = self.drift_start_s
        return start is not None and self.time_s(index) >= start
