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

import numpy as np

from producers.field_camera._seeding import rng_for, uniforms
from producers.field_camera.species import IN_ROW_SPACING_M, ROW_SPACING_M, kind

MAX_PLANTS_PER_TILE = 1024
Item = tuple[float, str, int, int, int, float]  # (z, kind, variant, x, g, light) before ids are given
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
        self._plots: dict[int, tuple[np.ndarray, list[Item]]] = {}
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
        return min(
            2.2,
            max(
                0.25,
                1.0
                + 0.55 * math.sin(2 * math.pi * s / 13.0 + a)
                + 0.35 * math.sin(2 * math.pi * s / 5.3 + b),
            ),
        )

    def _generate(self, tile: int) -> tuple[Plant, ...]:
        spec = self.spec
        lo, hi = tile * spec.tile_rows, (tile + 1) * spec.tile_rows
        items: list[Item] = []
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

    def _crops(self, lo: int, hi: int) -> list[Item]:
        spec = self.spec
        if not spec.crop_kinds:
            return []
        length = spec.plot_length_m * spec.px_per_m
        out: list[Item] = []
        for plot in range(math.floor(lo / length), math.floor((hi - 1) / length) + 1):
            g, items = self._plot(plot)
            a, b = np.searchsorted(g, (lo, hi))
            out += items[a:b]
        return out

    def _plot(self, plot: int) -> tuple[np.ndarray, list[Item]]:
        """All crop plants of one trial plot, sorted by ``g`` (cached)."""
        found = self._plots.get(plot)
        if found is not None:
            return found
        spec = self.spec
        ppm = spec.px_per_m
        name = spec.crop_kinds[(plot + self._crop_start) % len(spec.crop_kinds)]
        rng = rng_for(spec.world_seed, "plot", plot)
        phase, pace = rng.random(2)
        spacing, step = ROW_SPACING_M[name], IN_ROW_SPACING_M[name] * (0.9 + 0.2 * pace)
        start = plot * spec.plot_length_m + HEADLAND_M
        end = (plot + 1) * spec.plot_length_m
        count = math.ceil((end - start) / step)
        width_m = spec.width / ppm
        gs: list[np.ndarray] = []
        items: list[Item] = []
        for row in range(-1, math.ceil(width_m / spacing) + 1):
            gap, ds, dx, variant, light, z = rng.random((6, count))
            x_m = (row + phase) * spacing
            if not -0.15 <= x_m <= width_m + 0.15:
                continue
            s = start + (np.arange(count) + 0.5 + 0.35 * (ds - 0.5)) * step
            keep = (gap >= 0.06) & (s >= start) & (s < end)
            g = np.rint(s * ppm).astype(np.int64)[keep]
            x = np.rint((x_m + 0.03 * (dx - 0.5)) * ppm).astype(np.int64)[keep]
            v = (variant[keep] * spec.variants).astype(np.int64)
            zs, lights = 0.45 + 0.55 * z[keep], 0.96 + 0.08 * light[keep]
            gs.append(g)
            items += zip(
                zs.tolist(), [name] * len(g), v.tolist(), x.tolist(), g.tolist(), lights.tolist(), strict=True
            )
        all_g = np.concatenate(gs) if gs else np.zeros(0, np.int64)
        order = np.argsort(all_g, kind="stable")
        found = (all_g[order], [items[i] for i in order.tolist()])
        self._plots[plot] = found
        if len(self._plots) > 4:
            self._plots.pop(next(iter(self._plots)))
        return found

    def _weeds(self, tile: int, lo: int, hi: int) -> list[Item]:
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
        out: list[Item] = []
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
            xi, gi = round(x), round(g)
            if not (0 <= xi < spec.width and lo <= gi < hi):
                continue  # a cluster straggler outside its owner tile
            if (
                new is not None
                and spec.drift_g is not None
                and new_u < spec.new_weed_share
                and gi - spec.extents[new] >= spec.drift_g
            ):
                name = new
            out.append((0.75 * z, name, int(variant * spec.variants), xi, gi, 0.96 + 0.08 * light))
        return out


def max_extent(extents: dict[str, int]) -> int:
    """Largest sprite half extent over the given kinds."""
    return max(extents.values()) if extents else 0
