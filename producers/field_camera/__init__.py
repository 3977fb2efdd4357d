"""Boom-camera simulator: top-down crop/weed field frames with exact ground truth, no Kafka needed.

Quick use::

    from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, encode_jpeg

    sim = FieldCameraSimulator(FieldCameraConfig(device_id="boom-3", seed=7))
    for frame in sim.frames(100):
        jpeg = encode_jpeg(frame.image, 85)
        boxes = frame.boxes  # Box(class_id, class_name, kind, x1, y1, x2, y2), normalised xyxy

Modules: :mod:`.species` (kinds, classes, looks), :mod:`.leaves` / :mod:`.plants` (painting plants),
:mod:`.sprites` (cached plant sprites), :mod:`.soil` (soil bank), :mod:`.world` (field layout),
:mod:`.tiles` (strip rendering), :mod:`.camera` (frames, noise, boxes, GPS), :mod:`.config`,
:mod:`.frame`, :mod:`.simulator`, :mod:`.jpeg`.
"""

from producers.field_camera.config import FieldCameraConfig
from producers.field_camera.frame import Box, FrameObject, SimulatedFrame
from producers.field_camera.jpeg import decode_jpeg, encode_jpeg
from producers.field_camera.simulator import FieldCameraSimulator, render_dataset
from producers.field_camera.species import (
    CLASS_NAMES,
    CROP_KINDS,
    DRIFT_WEED_KINDS,
    KINDS,
    SEASONS,
    WEED_KINDS,
)

__all__ = [
    "CLASS_NAMES",
    "CROP_KINDS",
    "DRIFT_WEED_KINDS",
    "KINDS",
    "SEASONS",
    "WEED_KINDS",
    "Box",
    "FieldCameraConfig",
    "FieldCameraSimulator",
    "FrameObject",
    "SimulatedFrame",
    "decode_jpeg",
    "encode_jpeg",
    "render_dataset",
]
