"""The camera: cuts each frame out of the rendered strip, adds sensor noise, derives ground truth.

Frame ``i`` shows along-track pixels ``g0 .. g0 + H - 1`` with ``g0 = round(distance * px_per_m)``;
image row ``r`` is ``g = g0 + H - 1 - r`` (the top of the image is ahead of the vehicle). Blur and
lighting are already in the tiles, so a frame costs one pass: tile rows + a window of a precomputed
Gaussian noise bank (clipped at ``margin``; tiles stay inside ``[margin, 255 - margin]``, so uint8
addition cannot overflow). Boxes come from the tiles' per-row visible-pixel records; the optional
instance mask is assembled from the tiles' plant-id masks.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from producers.field_camera._seeding import mix64, rng_for, stable_key, uniforms
from producers.field_camera.frame import Box, FrameObject
from producers.field_camera.species import CLASS_NAMES
from producers.field_camera.tiles import Tile, TileRenderer

_NOISE_PAD_ROWS = 61
_NOISE_PAD_COLS = 193
_M_PER_DEG_LAT = 111_320.0


class NoiseBank:
    """Gaussian noise, ``(H + pad, 3W + pad)`` int8 viewed as uint8; each frame takes a window."""

    def __init__(self, seed: int, height: int, width: int, std: float, margin: int) -> None:
        rng = rng_for(seed, "noise")
        noise = rng.normal(0.0, std, size=(height + _NOISE_PAD_ROWS, 3 * width + _NOISE_PAD_COLS))
        self.values = np.clip(np.rint(noise), -margin, margin).astype(np.int8).view(np.uint8)
        self.enabled = std > 0
        self.key = stable_key(seed, "noise-offsets")

    def window(self, index: int, rows: int, cols: int) -> np.ndarray:
        h = mix64(self.key, index)
        r0 = h % _NOISE_PAD_ROWS
        c0 = (h >> 20) % _NOISE_PAD_COLS
        window = self.values[r0 : r0 + rows, c0 : c0 + cols]
        return window[::-1] if (h >> 40) & 1 else window


class Gps:
    """Simulated GPS moving along the crop rows from a per-device origin."""

    def __init__(
        self,
        device_seed: int,
        origin_lat: float | None,
        origin_lon: float | None,
        heading_deg: float | None,
        boom_offset_m: float,
    ) -> None:
        u = uniforms(device_seed, "gps", n=3)
        self.lat0 = origin_lat if origin_lat is not None else 52.0 + 0.5 * u[0]
        self.lon0 = origin_lon if origin_lon is not None else 5.0 + 0.8 * u[1]
        heading = heading_deg if heading_deg is not None else 360.0 * u[2]
        self.north = math.cos(math.radians(heading))
        self.east = math.sin(math.radians(heading))
        self.boom = boom_offset_m

    def at(self, distance_m: float) -> tuple[float, float]:
        north = distance_m * self.north - self.boom * self.east  # boom offset: to the right
        east = distance_m * self.east + self.boom * self.north
        lat = self.lat0 + north / _M_PER_DEG_LAT
        lon = self.lon0 + east / (_M_PER_DEG_LAT * math.cos(math.radians(self.lat0)))
        return lat, lon


class Camera:
    """Frames from tiles: one :class:`~producers.field_camera.tiles.TileRenderer` per season."""

    def __init__(
        self,
        renderers: dict[str, TileRenderer],
        height: int,
        width: int,
        noise: NoiseBank,
        min_visible_px: int,
    ) -> None:
        self.renderers = renderers
        self.height = height
        self.width = width
        self.noise = noise
        self.min_visible_px = min_visible_px
        self.tile_rows = next(iter(renderers.values())).rows
        self._tiles: OrderedDict[tuple[int, str], Tile] = OrderedDict()
        self._capacity = 2 * (math.ceil(height / self.tile_rows) + 2)

    def tile(self, index: int, style: str) -> Tile:
        key = (index, style)
        found = self._tiles.get(key)
        if found is not None:
            self._tiles.move_to_end(key)
            return found
        found = self.renderers[style].render(index)
        self._tiles[key] = found
        if len(self._tiles) > self._capacity:
            self._tiles.popitem(last=False)
        return found

    def _parts(self, g0: int, style: str) -> list[tuple[Tile, int, int, int]]:
        """(tile, first tile row, end tile row, image row of the first) covering the frame."""
        T, H = self.tile_rows, self.height
        parts = []
        for k in range((g0 + H - 1) // T, g0 // T - 1, -1):
            shift = g0 + H - (k + 1) * T  # image row = tile row + shift
            a, b = max(0, -shift), min(T, H - shift)
            parts.append((self.tile(k, style), a, b, a + shift))
        return parts

    def shoot(
        self, index: int, g0: int, style: str, with_mask: bool
    ) -> tuple[np.ndarray, tuple[FrameObject, ...], np.ndarray | None]:
        """Image, visible objects (by plant id) and, on request, the instance mask of one frame."""
        H, W = self.height, self.width
        parts = self._parts(g0, style)
        image = np.empty((H, W, 3), dtype=np.uint8)
        flat = image.reshape(H, 3 * W)
        noise = self.noise.window(index, H, 3 * W) if self.noise.enabled else None
        for tile, a, b, r in parts:
            src = tile.image[a:b].reshape(b - a, 3 * W)
            if noise is None:
                flat[r : r + b - a] = src
            else:
                np.add(src, noise[r : r + b - a], out=flat[r : r + b - a])
        objects = self._objects(parts)
        mask = self._mask(parts, objects) if with_mask else None
        return image, objects, mask

    def _objects(self, parts: list[tuple[Tile, int, int, int]]) -> tuple[FrameObject, ...]:
        found: dict[int, list[int]] = {}  # pid -> [count, top, bottom, left, right] (image px)
        kinds: dict[int, tuple[str, int]] = {}
        for tile, a, b, r in parts:
            shift = r - a
            for pid, rows in tile.rows.items():
                within = rows.within(a, b)
                if within is None:
                    continue
                seen = list(within)
                seen[1] += shift
                seen[2] += shift
                have = found.get(pid)
                if have is None:
                    found[pid] = seen
                    plant = tile.plants[pid]
                    kinds[pid] = (plant.kind, plant.class_id)
                else:
                    have[0] += seen[0]
                    have[1], have[2] = min(have[1], seen[1]), max(have[2], seen[2])
                    have[3], have[4] = min(have[3], seen[3]), max(have[4], seen[4])
        H, W = self.height, self.width
        objects = []
        for pid in sorted(found):
            count, top, bottom, left, right = found[pid]
            name, class_id = kinds[pid]
            box = None
            if count >= self.min_visible_px:
                box = Box(
                    class_id,
                    CLASS_NAMES[class_id],
                    name,
                    left / W,
                    top / H,
                    (right + 1) / W,
                    (bottom + 1) / H,
                )
            objects.append(FrameObject(pid, name, class_id, CLASS_NAMES[class_id], count, box))
        return tuple(objects)

    def _mask(self, parts: list[tuple[Tile, int, int, int]], objects: tuple[FrameObject, ...]) -> np.ndarray:
        ids = np.zeros((self.height, self.width), dtype=np.int32)
        for tile, a, b, r in parts:
            ids[r : r + b - a] = tile.mask[a:b]
        order = np.array([o.instance_id for o in objects], dtype=np.int32)
        if order.size == 0:
            return np.zeros_like(ids)
        index = np.searchsorted(order, ids) + 1
        return np.where(ids > 0, index, 0).astype(np.int32)
