"""The boom-camera simulator: :class:`FieldCameraSimulator` and :func:`render_dataset`.

A simulator owns one device's field strip (layout keyed by ``(seed, device_id)``), the shared
soil/sprite banks for its seed and optics, and a :class:`~producers.field_camera.camera.Camera`.
Frames are random-access (``frame(i)``) and fully determined by the config: the same config gives
bit-identical images and labels, in any order. Iterating forward is the fast path (tiles are cached
and each strip row is rendered once). Plant sprites are rendered on first use (shared by the
simulators of one seed); :meth:`FieldCameraSimulator.prepare` renders them all up front.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

from producers.field_camera._seeding import stable_key
from producers.field_camera.camera import Camera, Gps, NoiseBank
from producers.field_camera.config import FieldCameraConfig
from producers.field_camera.frame import SimulatedFrame
from producers.field_camera.jpeg import encode_jpeg
from producers.field_camera.optics import noise_margin
from producers.field_camera.soil import soil_bank
from producers.field_camera.sprites import max_half_extent, sprite_bank
from producers.field_camera.tiles import TileRenderer
from producers.field_camera.world import FieldLayout, LayoutSpec

TILE_ROWS = 384
SPRITE_VARIANTS = 40


class FieldCameraSimulator:
    """Simulated top-down boom camera over a crop field, with exact ground truth per frame."""

    def __init__(self, config: FieldCameraConfig | None = None) -> None:
        self.config = config = config if config is not None else FieldCameraConfig()
        bank_seed = stable_key("field-camera-bank", config.seed)
        self.device_seed = stable_key("field-camera-device", config.seed, config.device_id)
        margin = noise_margin(config.noise_std)
        ppm, blur = config.px_per_m, config.blur_px
        kinds = set(config.crop_kinds) | set(config.weed_kinds)
        if config.new_weed_kind is not None:
            kinds.add(config.new_weed_kind)
        self.kinds = tuple(sorted(kinds))
        extents = {name: max_half_extent(name, ppm, blur) for name in self.kinds}
        if max(extents.values(), default=0) > TILE_ROWS * 2:
            raise ValueError("plants are too large for this scale; lower width / ground_width_m")
        spec = LayoutSpec(
            world_seed=self.device_seed,
            width=config.width,
            px_per_m=ppm,
            tile_rows=TILE_ROWS,
            crop_kinds=config.crop_kinds,
            weed_kinds=config.weed_kinds,
            weed_density=config.weed_density,
            plot_length_m=config.plot_length_m,
            variants=SPRITE_VARIANTS,
            extents=extents,
            new_weed_kind=config.new_weed_kind,
            new_weed_share=config.new_weed_share,
            drift_g=self._drift_g(),
        )
        layout = FieldLayout(spec)
        self.baseline_style = "summer"
        self.drift_style = config.season if config.season is not None else "summer"
        renderers = {
            style: TileRenderer(
                layout,
                soil_bank(bank_seed, style, config.width, ppm, blur, margin),
                sprite_bank(bank_seed, style, ppm, blur, margin),
                self.device_seed,
                margin,
            )
            for style in {self.baseline_style, self.drift_style}
        }
        noise = NoiseBank(self.device_seed, config.height, config.width, config.noise_std, margin)
        self.camera = Camera(renderers, config.height, config.width, noise, config.min_visible_px)
        self.gps = Gps(
            self.device_seed, config.origin_lat, config.origin_lon, config.heading_deg, config.boom_offset_m
        )

    def prepare(self) -> None:
        """Render every plant sprite this simulator can show now, instead of lazily while the first
        few hundred frames are rendered (about a second per season; frames come out the same)."""
        for renderer in self.camera.renderers.values():
            renderer.sprites.render_all(self.kinds)

    def distance_m(self, index: int) -> float:
        """How far the camera has driven at frame ``index``."""
        return self.config.speed_mps * self.config.time_s(index)

    def ground_row(self, index: int) -> int:
        """Along-track pixel of the bottom image row of frame ``index``."""
        return round(self.distance_m(index) * self.config.px_per_m)

    def _drift_g(self) -> int | None:
        """First along-track pixel that no frame before the drift shows (None: no new weed kind)."""
        config = self.config
        start = config.drift_start_s
        if config.new_weed_kind is None or start is None:
            return None
        first = max(0, math.ceil(start * config.fps) - 1)
        while first > 0 and config.time_s(first - 1) >= start:
            first -= 1
        while config.time_s(first) < start:
            first += 1
        if first == 0:
            return -(1 << 40)
        return self.ground_row(first - 1) + config.height + 1

    def frame(self, index: int) -> SimulatedFrame:
        """Frame number ``index`` (>= 0)."""
        if index < 0:
            raise ValueError("frame index must be >= 0")
        config = self.config
        drift = config.drift_active(index)
        style = self.drift_style if drift else self.baseline_style
        image, objects, mask = self.camera.shoot(index, self.ground_row(index), style, config.with_mask)
        lat, lon = self.gps.at(self.distance_m(index))
        return SimulatedFrame(
            device_id=config.device_id,
            frame_id=f"{config.device_id}-{index:08d}",
            index=index,
            captured_at_ms=config.captured_at_ms(index),
            image=image,
            boxes=tuple(o.box for o in objects if o.box is not None),
            lat=lat,
            lon=lon,
            speed_mps=config.speed_mps,
            boom_offset_m=config.boom_offset_m,
            drift_active=drift,
            season=style,
            objects=objects,
            instance_mask=mask,
        )

    def frames(self, count: int | None = None, start: int = 0) -> Iterator[SimulatedFrame]:
        """Frames ``start, start + 1, ...``: ``count`` of them, or endlessly when ``count`` is None."""
        if count is not None and count < 0:
            raise ValueError("count must be >= 0")
        index = start
        while count is None or index < start + count:
            yield self.frame(index)
            index += 1

    def encode(self, frame: SimulatedFrame) -> bytes:
        """The frame's image as JPEG at the configured quality."""
        return encode_jpeg(frame.image, self.config.jpeg_quality)


def render_dataset(
    config: FieldCameraConfig, count: int, start: int = 0, with_mask: bool | None = None
) -> list[SimulatedFrame]:
    """``count`` consecutive frames (e.g. for training); ``with_mask`` overrides the config's."""
    if with_mask is not None and with_mask != config.with_mask:
        config = replace(config, with_mask=with_mask)
    return list(FieldCameraSimulator(config).frames(count, start=start))
