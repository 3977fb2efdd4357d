"""What the simulator hands out: frames with ground truth (:class:`SimulatedFrame`, :class:`Box`).

Boxes are normalised ``x1, y1, x2, y2`` in 0..1 (x to the right, y down), on pixel edges: an object
whose visible pixels span columns ``c0..c1`` and rows ``r0..r1`` (inclusive) has
``x1 = c0 / W, x2 = (c1 + 1) / W, y1 = r0 / H, y2 = (r1 + 1) / H``. "Visible" means the plant's own
body (not its shadow) on top of everything else, inside the frame, before motion blur.

Labelling rule: every plant with at least one visible pixel is in ``objects``; it gets a box (and
appears in ``boxes``) exactly when it has at least ``min_visible_px`` visible pixels. Smaller
slivers (at the frame edge, or mostly hidden under other plants) are left unlabelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Box:
    """One ground-truth box: detector class, species name, normalised xyxy."""

    class_id: int
    class_name: str
    kind: str
    x1: float
    y1: float
    x2: float
    y2: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "class_name": self.class_name,
            "kind": self.kind,
            "x1": self.x1,
            "y1": self.y1,
            "x2": self.x2,
            "y2": self.y2,
        }

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The box as integer pixel edges ``(c0, r0, c1, r1)`` (exclusive ends)."""
        return (
            round(self.x1 * width),
            round(self.y1 * height),
            round(self.x2 * width),
            round(self.y2 * height),
        )


@dataclass(frozen=True)
class FrameObject:
    """A plant with visible pixels in a frame; ``box`` is None below the labelling threshold."""

    instance_id: int  # the plant's id in the field (stable across the frames that see it)
    kind: str
    class_id: int
    class_name: str
    visible_px: int
    box: Box | None


@dataclass(frozen=True, eq=False)
class SimulatedFrame:
    """One camera frame and its ground truth.

    ``instance_mask`` (when the simulator runs ``with_mask``): (H, W) int32, 0 = soil, ``i`` > 0 =
    the plant ``objects[i - 1]``.
    """

    device_id: str
    frame_id: str
    index: int
    captured_at_ms: int
    image: np.ndarray  # (H, W, 3) uint8 RGB
    boxes: tuple[Box, ...]
    lat: float
    lon: float
    speed_mps: float
    boom_offset_m: float
    drift_active: bool
    season: str
    objects: tuple[FrameObject, ...] = ()
    instance_mask: np.ndarray | None = None

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def labels(self) -> dict[str, Any]:
        """Ground truth as plain JSON-ready data (ids, time, position, boxes)."""
        return {
            "device_id": self.device_id,
            "frame_id": self.frame_id,
            "captured_at": self.captured_at_ms,
            "lat": self.lat,
            "lon": self.lon,
            "speed_mps": self.speed_mps,
            "boom_offset_m": self.boom_offset_m,
            "drift_active": self.drift_active,
            "boxes": [box.to_dict() for box in self.boxes],
        }
