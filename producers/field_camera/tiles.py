"""Field strip tiles: soil plus plants rendered once into ground-fixed RGB and instance-id tiles.

A :class:`Tile` covers along-track pixels ``g`` in ``[k*T, (k+1)*T)`` and is stored in image
orientation: tile row ``j`` is ``g = (k+1)*T - 1 - j`` (the image top is the driving direction).
Rendering tile ``k`` slices the soil bank (sun and shade are baked in), then pastes every plant
whose sprite reaches the tile (owned by tiles ``k-reach .. k+reach``) in plant-id order, writing the
plant id into the ``mask`` wherever the plant's body is on top. Since every tile draws the same
plants in the same order, neighbouring tiles agree pixel for pixel where a plant spans both.

For each plant seen in the tile, :class:`PlantRows` keeps its visible pixels (a small boolean
window) with a summary, so that frames derive exact clipped boxes without scanning the tile mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from producers.field_camera._seeding import uniforms
from producers.field_camera.soil import SoilBank
from producers.field_camera.sprites import Sprite, SpriteBank
from producers.field_camera.world import FieldLayout, Plant, max_extent


@dataclass(frozen=True)
class PlantRows:
    """Visible pixels of one plant in one tile: ``visible`` covers tile rows ``row0..`` and columns
    ``col0..``; the summary fields are in tile rows / columns."""

    row0: int
    col0: int
    visible: np.ndarray  # bool (rows, cols): the plant's own pixels that are on top
    counts: np.ndarray  # visible pixels per row
    total: int
    first: int  # first tile row with visible pixels
    last: int  # last tile row with visible pixels
    min_col: int
    max_col: int

    @property
    def row1(self) -> int:
        return self.row0 + int(self.counts.shape[0])

    def within(self, lo: int, hi: int) -> tuple[int, int, int, int, int] | None:
        """(count, first row, last row, min col, max col) of the visible pixels in rows [lo, hi)."""
        lo, hi = max(lo, self.row0), min(hi, self.row1)
        if lo >= hi:
            return None
        if lo <= self.first and self.last < hi:
            return self.total, self.first, self.last, self.min_col, self.max_col
        rows = np.flatnonzero(self.counts[lo - self.row0 : hi - self.row0])
        if rows.size == 0:
            return None
        a, b = lo - self.row0 + int(rows[0]), lo - self.row0 + int(rows[-1]) + 1
        cols = np.flatnonzero(self.visible[a:b].any(axis=0))
        return (
            int(self.counts[a:b].sum()),
            self.row0 + a,
            self.row0 + b - 1,
            self.col0 + int(cols[0]),
            self.col0 + int(cols[-1]),
        )


@dataclass(frozen=True)
class Placement:
    """Where a plant's body lands in a tile: its sprite's body window clipped to the tile."""

    plant: Plant
    sprite: Sprite
    top: int  # tile row of sprite row 0
    left: int  # tile column of sprite column 0
    r0: int
    r1: int
    c0: int
    c1: int

    def body(self) -> np.ndarray:
        top, left = self.top, self.left
        return self.sprite.body[self.r0 - top : self.r1 - top, self.c0 - left : self.c1 - left]


class Tile:
    """One rendered tile of the strip (see the module doc for the orientation)."""

    def __init__(
        self,
        index: int,
        style: str,
        image: np.ndarray,
        placements: list[Placement],
        rows: dict[int, PlantRows],
    ) -> None:
        self.index = index
        self.style = style
        self.image = image  # (T, W, 3) uint8
        self.rows = rows
        self.plants = {p.plant.pid: p.plant for p in placements if p.plant.pid in rows}
        self._placements = placements
        self._mask: np.ndarray | None = None

    @property
    def mask(self) -> np.ndarray:
        """(T, W) int32 plant ids, 0 = soil (built on first use)."""
        if self._mask is None:
            mask = np.zeros(self.image.shape[:2], dtype=np.int32)
            for p in self._placements:
                np.copyto(mask[p.r0 : p.r1, p.c0 : p.c1], p.plant.pid, where=p.body())
            self._mask = mask
        return self._mask


class TileRenderer:
    """Renders tiles of one device's strip in one season."""

    def __init__(
        self, layout: FieldLayout, soil: SoilBank, sprites: SpriteBank, device_seed: int, margin: int
    ) -> None:
        self.layout = layout
        self.soil = soil
        self.sprites = sprites
        self.margin = margin
        spec = layout.spec
        self.rows = spec.tile_rows
        self.width = spec.width
        self.reach = math.ceil(max_extent(spec.extents) / spec.tile_rows)
        u = uniforms(device_seed, "soil-offset", n=4)
        self.soil_row = int(u[0] * soil.period)
        self.soil_col = int(u[1] * spec.width)

    def soil_rows(self, top_g: int, count: int) -> np.ndarray:
        """Soil for along-track pixels ``top_g, top_g-1, ..`` (``count`` rows), image orientation."""
        bank, period = self.soil.rgb, self.soil.period
        out = np.empty((count, self.width, 3), dtype=np.uint8)
        b0 = (self.soil_row - top_g) % period
        c0 = self.soil_col
        done = 0
        while done < count:
            b = (b0 + done) % period
            n = min(count - done, period - b)
            dst = out[done : done + n]
            dst[:, : self.width - c0] = bank[b : b + n, c0:]
            dst[:, self.width - c0 :] = bank[b : b + n, :c0]
            done += n
        return out

    def render(self, index: int) -> Tile:
        T, W = self.rows, self.width
        top_g = (index + 1) * T - 1
        canvas = Image.fromarray(self.soil_rows(top_g, T), "RGB")
        placements: list[Placement] = []
        for owner in range(index - self.reach, index + self.reach + 1):
            for plant in self.layout.owned(owner):
                sprite = self.sprites.sprite(plant.kind, plant.variant)
                h = sprite.shape[0]
                top = top_g - (plant.g + sprite.cy)
                left = plant.x - sprite.cx
                if top >= T or top + h <= 0:
                    continue
                light = self.soil.light_at(self.soil_row - plant.g, plant.x + self.soil_col)
                image = self.sprites.lit_image(plant.kind, plant.variant, light * plant.light)
                canvas.paste(image, (left, top), sprite.alpha_image)
                r0, r1 = max(top + sprite.body_rows[0], 0), min(top + sprite.body_rows[1], T)
                c0, c1 = max(left + sprite.body_cols[0], 0), min(left + sprite.body_cols[1], W)
                if r0 < r1 and c0 < c1:
                    placements.append(Placement(plant, sprite, top, left, r0, r1, c0, c1))
        rows = {}
        for i, p in enumerate(placements):
            found = _visible(p, placements[i + 1 :])
            if found is not None:
                rows[p.plant.pid] = found
        return Tile(index, self.sprites.style, np.asarray(canvas), placements, rows)


def _visible(p: Placement, later: list[Placement]) -> PlantRows | None:
    """The visible part of ``p``'s body: clipped to the tile, minus bodies drawn over it."""
    over = [q for q in later if q.r0 < p.r1 and p.r0 < q.r1 and q.c0 < p.c1 and p.c0 < q.c1]
    sprite = p.sprite
    clipped = (p.r0 - p.top, p.r1 - p.top, p.c0 - p.left, p.c1 - p.left)
    whole = clipped == (*sprite.body_rows, *sprite.body_cols)
    if whole and not over:  # the common case: nothing to compute
        return PlantRows(
            p.r0,
            p.c0,
            p.body(),
            sprite.body_counts,
            int(sprite.body_counts.sum()),
            p.r0,
            p.r1 - 1,
            p.c0,
            p.c1 - 1,
        )
    visible = p.body()
    if over:
        visible = visible.copy()
        for q in over:
            r0, r1, c0, c1 = max(p.r0, q.r0), min(p.r1, q.r1), max(p.c0, q.c0), min(p.c1, q.c1)
            theirs = q.sprite.body[r0 - q.top : r1 - q.top, c0 - q.left : c1 - q.left]
            visible[r0 - p.r0 : r1 - p.r0, c0 - p.c0 : c1 - p.c0] &= ~theirs
    counts = np.count_nonzero(visible, axis=1)
    rows = np.flatnonzero(counts)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(visible.any(axis=0))
    return PlantRows(
        p.r0,
        p.c0,
        visible,
        counts,
        int(counts.sum()),
        p.r0 + int(rows[0]),
        p.r0 + int(rows[-1]),
        p.c0 + int(cols[0]),
        p.c0 + int(cols[-1]),
    )
