"""Field layout: where every plant of a device's field strip is, of which kind, in which order.

Ground coordinates are pixels: ``x`` across the boom (0 .. frame width) and ``g`` along the track
(growing in the driving direction; ``g = metres * px_per_m``). The strip is cut into tiles of
``tile_rows`` rows; each plant is *owned* by the tile holding its centre, and a tile's plants are
generated from an RNG keyed by (world seed, tile index), so any stretch of field can be produced on
its own and always comes out the same.

The field is a run of trial plots (``plot_length_m`` each, crop kinds taking turns) with crop rows
at the kind's row spacing, plants at jittered in-row spacing with some gaps, and weeds scattered at
``weed_density`` per m2 with patchy density and clusters of one kind. Plant ids (``pid``, >= 1) grow
with the drawing order: a plant with a larger id is drawn over one with a smaller id. Within a tile,
crops mostly lie over weeds (they are taller) but some weeds grow over crop leaves.

Drift: once a weed lies wholly beyond ``drift_g`` (ground no camera frame shows before the drift
time), it becomes ``new_weed_kind`` with probability ``new_weed_share``. Every random draw is made
whether or not the drift is configured, so the field before the drift is the same either way.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from producers.field_camera._seeding import rng_for, uniforms
from producers.field_camera.species import IN_ROW_SPACING_M, ROW_SPACING_M, kind

MAX_PLANTS_PER_TILE = 1024
HEADLAND_M = 0.45  # bare strip at the start of each plot


@dataclass(frozen=True)
class Plant:
    """One plant placed in the field."""

    pid: int
    kind: str
    class_id: int
    variant: int
    x: int  # centre, pixels across
    g: int  # centre, pixels along the track
    light: float  # brightness jitter, multiplied with the local sun factor


@dataclass(frozen=True)
class LayoutSpec:
    """What the layout needs to know about the field and the camera's scale."""

    world_seed: int
    width: int
    px_per_m: float
    tile_rows: int
    crop_kinds: tuple[str, ...]
    weed_kinds: tuple[str, ...]
    weed_density: float
    plot_length_m: float
    variants: int
    extents: dict[str, int]  # per kind: max sprite half extent (px)
    new_weed_kind: str | None = None
    new_weed_share: float = 0.0
    drift_g: int | None = None


class FieldLayout:
    """Plants per owner tile, generated on demand and kept in a small LRU cache."""

    def __init__(self, spec: LayoutSpec, cache_tiles: int = 16) -> None:
        self.spec = spec
        self._cache: OrderedDict[int, tuple[Plant, ...]] = OrderedDict()
        self._cache_tiles = cache_tiles
        u = uniforms(spec.world_seed, "field", n=5)
        self._crop_start = int(u[0] * 1000)
        self._phases = (u[1] * 2 * math.pi, u[2] * 2 * math.pi, u[3] * 2 * math.pi)

    def owned(self, tile: int) -> tuple[Plant, ...]:
        """Plants whose centre lies in ``tile`` (rows ``tile*T .. tile*T+T-1``), in drawing order."""
        if tile < 0:
            return ()
        found = self._cache.get(tile)
        if found is not None:
            self._cache.move_to_end(tile)
            return found
        found = self._generate(tile)
        self._cache[tile] = found
        if len(self._cache) > self._cache_tiles:
            self._cache.popitem(last=False)
        return found

    def weed_factor(self, s: float) -> float:
        """Patchiness of weeds along the track (mean about 1)."""
        a, b, _ = self._phases
        return min(2.2, max(0.25, 1.0 + 0.55 * math.sin(2 * math.pi * s / 13.0 + a)
                            + 0.35 * math.sin(2 * math.pi * s / 5.3 + b)))

    def _generate(self, tile: int) -> tuple[Plant, ...]:
        spec = self.spec
        lo, hi = tile * spec.tile_rows, (tile + 1) * spec.tile_rows
        items: list[tuple[float, str, int, int, int, float]] = []  # (z, kind, variant, x, g, light)
        items += self._crops(lo, hi)
        items += self._weeds(tile, lo, hi)
        items.sort(key=lambda item: (item[0], item[4], item[3]))
        if len(items) >= MAX_PLANTS_PER_TILE:
            items = items[: MAX_PLANTS_PER_TILE - 1]
        base = tile * MAX_PLANTS_PER_TILE
        return tuple(
            Plant(base + i + 1, name, kind(name).class_id, variant, x, g, light)
            for i, (_, name, variant, x, g, light) in enumerate(items)
        )

    def _crops(self, lo: int, hi: int) -> list[tuple[float, str, int, int, int, float]]:
        spec = self.spec
        ppm = spec.px_per_m
        out: list[tuple[float, str, int, int, int, float]] = []
        if not spec.crop_kinds:
            return out
        s0, s1 = lo / ppm, hi / ppm
        for plot in range(math.floor(s0 / spec.plot_length_m), math.floor(s1 / spec.plot_length_m) + 1):
            name = spec.crop_kinds[(plot + self._crop_start) % len(spec.crop_kinds)]
            pu = uniforms(spec.world_seed, "plot", plot, n=2)
            spacing, step = ROW_SPACING_M[name], IN_ROW_SPACING_M[name] * (0.9 + 0.2 * pu[1])
            start = plot * spec.plot_length_m + HEADLAND_M
            end = (plot + 1) * spec.plot_length_m
            first = max(0, math.floor((s0 - start) / step) - 1)
            last = math.ceil((min(s1, end) - start) / step) + 1
            width_m = spec.width / ppm
            for row in range(-1, math.ceil(width_m / spacing) + 1):
                x_m = (row + pu[0]) * spacing
                if not -0.15 <= x_m <= width_m + 0.15:
                    continue
                for i in range(first, last + 1):
                    gap, ds, dx, variant, light, z = uniforms(spec.world_seed, "crop", plot, row, i, n=6)
                    s = start + (i + 0.5 + 0.35 * (ds - 0.5)) * step
                    g = round(s * ppm)
                    if gap < 0.06 or not lo <= g < hi or not start <= s < end:
                        continue
                    x = round((x_m + 0.03 * (dx - 0.5)) * ppm)
                    out.append((0.45 + 0.55 * z, name, int(variant * spec.variants), x, g,
                                0.96 + 0.08 * light))
        return out

    def _weeds(self, tile: int, lo: int, hi: int) -> list[tuple[float, str, int, int, int, float]]:
        spec = self.spec
        ppm = spec.px_per_m
        rng = rng_for(spec.world_seed, "weeds", tile)
        area = (hi - lo) * spec.width / ppm**2
        count = int(rng.poisson(spec.weed_density * area * self.weed_factor((lo + hi) / 2 / ppm)))
        n_clusters = int(rng.integers(1, 3))
        cluster_xy = rng.uniform((0, lo), (spec.width, hi), size=(n_clusters, 2))
        cluster_kind = rng.integers(0, max(len(spec.weed_kinds), 1), size=n_clusters)
        draws = rng.random((count, 7))
        jitter = rng.normal(0.0, 0.07 * ppm, size=(count, 2))
        scattered = rng.uniform((0, lo), (spec.width, hi), size=(count, 2))
        out: list[tuple[float, str, int, int, int, float]] = []
        if not spec.weed_kinds:
            return out
        new = spec.new_weed_kind
        for i in range(count):
            in_cluster, pick, cluster, new_u, z, light, variant = draws[i].tolist()
            c = int(cluster * n_clusters)
            if in_cluster < 0.45:
                x, g = (cluster_xy[c] + jitter[i]).tolist()
                name = spec.weed_kinds[int(cluster_kind[c])]
            else:
                x, g = scattered[i].tolist()
                name = spec.weed_kinds[int(pick * len(spec.weed_kinds))]
            xi = min(max(round(x), 0), spec.width - 1)
            gi = min(max(round(g), lo), hi - 1)
            if (new is not None and spec.drift_g is not None and new_u < spec.new_weed_share
                    and gi - spec.extents[new] >= spec.drift_g):
                name = new
            out.append((0.75 * z, name, int(variant * spec.variants), xi, gi, 0.96 + 0.08 * light))
        return out


def max_extent(extents: dict[str, int]) -> int:
    """Largest sprite half extent over the given kinds."""
    return max(extents.values()) if extents else 0
