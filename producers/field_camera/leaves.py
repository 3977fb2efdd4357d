"""Leaf drawing primitives: a float RGBA canvas and blades/ellipses/discs painted onto it.

A plant sprite is painted once (then cached) on a :class:`Canvas` in premultiplied float RGBA.
:func:`blade` paints one leaf along a (possibly bent) axis whose half-width follows a profile
``t -> 0..1`` (``t`` = 0 at the leaf base, 1 at the tip); shading comes from a
:class:`~producers.field_camera.species.LeafLook`: midrib, cross-curvature, veins, texture noise
and, for autumn looks, yellowing and brown tips. Work is done only inside each leaf's bounding box.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from producers.field_camera.species import Colour, LeafLook

Profile = Callable[[np.ndarray], np.ndarray]

_BROWN = np.array((118, 84, 48), dtype=np.float32)
_YELLOW = np.array((196, 172, 70), dtype=np.float32)


class Canvas:
    """Premultiplied RGBA float32 accumulator, ``size`` x ``size`` pixels, origin top-left."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.rgb = np.zeros((size, size, 3), dtype=np.float32)
        self.alpha = np.zeros((size, size), dtype=np.float32)
        self.rng = rng

    def window(
        self, x0: float, y0: float, x1: float, y1: float
    ) -> tuple[slice, slice, np.ndarray, np.ndarray] | None:
        """Clipped integer window over [x0, x1] x [y0, y1] and its pixel-centre coordinates: a row
        ``(1, w)`` of x and a column ``(h, 1)`` of y, which broadcast to the window."""
        c0, r0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
        c1, r1 = min(int(np.ceil(x1)) + 1, self.size), min(int(np.ceil(y1)) + 1, self.size)
        if c0 >= c1 or r0 >= r1:
            return None
        xs = np.arange(c0, c1, dtype=np.float32)[None, :] + 0.5
        ys = np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5
        return slice(r0, r1), slice(c0, c1), xs, ys

    def over(self, rows: slice, cols: slice, coverage: np.ndarray, colour: np.ndarray) -> None:
        """Paint ``colour`` (h, w, 3) with ``coverage`` (h, w) over what is there."""
        keep = 1.0 - coverage
        self.rgb[rows, cols] = colour * coverage[..., None] + self.rgb[rows, cols] * keep[..., None]
        self.alpha[rows, cols] = coverage + self.alpha[rows, cols] * keep


@dataclass(frozen=True)
class Leaf:
    """Geometry of one blade: base point, direction (radians), length, full width, sideways bend."""

    x: float
    y: float
    angle: float
    length: float
    width: float
    bend: float = 0.0


def leaf_colour(look: LeafLook, rng: np.random.Generator, season_shift: float = 1.0) -> np.ndarray:
    """Per-leaf base colour with jitter; autumn looks drift part of the leaves toward yellow."""
    base = np.array(look.base, dtype=np.float32) * (1.0 + rng.normal(0.0, look.jitter))
    base = base * (1.0 + rng.normal(0.0, look.jitter * 0.35, size=3)).astype(np.float32)
    # Always draw, so that a plant variant has the same shape in every season.
    amount = float(np.clip(rng.normal(0.35, 0.25), 0.0, 0.9)) * look.senescence * season_shift
    if amount > 0:
        base = base * (1.0 - amount) + _YELLOW * amount
    return base


def blade(
    canvas: Canvas,
    leaf: Leaf,
    profile: Profile,
    look: LeafLook,
    base: np.ndarray,
    t_start: float = 0.0,
    midrib: Colour | None = None,
) -> None:
    """Paint one leaf. ``base`` is its colour (from :func:`leaf_colour`)."""
    ca, sa = float(np.cos(leaf.angle)), float(np.sin(leaf.angle))
    ts = np.linspace(t_start, 1.0, 9, dtype=np.float32)
    us = ts * leaf.length
    off = leaf.bend * us * us / max(leaf.length, 1e-3)
    px = leaf.x + us * ca - off * sa
    py = leaf.y + us * sa + off * ca
    pad = leaf.width * 0.75 + 2.0
    win = canvas.window(px.min() - pad, py.min() - pad, px.max() + pad, py.max() + pad)
    if win is None:
        return
    rows, cols, xs, ys = win
    dx, dy = xs - leaf.x, ys - leaf.y
    u = dx * ca + dy * sa
    v = -dx * sa + dy * ca
    v = v - leaf.bend * u * u / max(leaf.length, 1e-3)
    t = u / max(leaf.length, 1e-3)
    hw = 0.5 * leaf.width * profile(np.clip(t, 0.0, 1.0))
    coverage = np.clip(hw - np.abs(v) + 0.5, 0.0, 1.0)
    coverage *= np.clip(u - t_start * leaf.length + 0.5, 0.0, 1.0)
    coverage *= np.clip(leaf.length - u + 0.5, 0.0, 1.0)
    if not coverage.any():
        return
    vn = np.clip(v / np.maximum(hw, 0.6), -1.0, 1.0)
    colour = _shade(look, base, t, vn, u, v, canvas.rng, midrib)
    canvas.over(rows, cols, coverage, colour)


def _shade(
    look: LeafLook,
    base: np.ndarray,
    t: np.ndarray,
    vn: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    rng: np.random.Generator,
    midrib: Colour | None,
) -> np.ndarray:
    rib = np.exp(-((vn / 0.13) ** 2)) * look.midrib_strength
    rib_colour = np.array(midrib if midrib is not None else look.midrib, dtype=np.float32)
    colour = base[None, None, :] * (1.0 - rib[..., None]) + rib_colour * rib[..., None]
    light = 0.74 + 0.26 * np.sqrt(np.clip(1.0 - vn * vn, 0.0, 1.0))  # leaf cross-curvature
    light *= 0.86 + 0.2 * np.clip(t, 0.0, 1.0)  # base shaded by younger leaves
    if look.veins == "parallel":
        light *= 1.0 + look.vein_strength * np.cos(vn * np.pi * 4.5)
    elif look.veins == "net":
        phase = (u - np.abs(v) * 1.3) / 5.5
        light *= 1.0 + look.vein_strength * np.exp(-(((phase % 1.0) - 0.5) ** 2) / 0.012) * (vn**2 < 0.8)
    light *= 1.0 + rng.normal(0.0, 0.035, size=light.shape).astype(np.float32)
    colour = colour * light[..., None]
    if look.senescence > 0:
        tip = np.clip((t - (1.0 - 0.35 * look.senescence)) / 0.12, 0.0, 1.0)
        edge = np.clip((np.abs(vn) - (1.0 - 0.25 * look.senescence)) / 0.1, 0.0, 1.0)
        brown = np.maximum(tip, edge)[..., None] * 0.85
        colour = colour * (1.0 - brown) + _BROWN * brown * light[..., None]
    return colour.astype(np.float32)


def ellipse(
    canvas: Canvas,
    cx: float,
    cy: float,
    angle: float,
    a: float,
    b: float,
    colour: np.ndarray,
    shading: float = 0.25,
) -> None:
    """Paint a filled ellipse (semi-axes ``a`` along ``angle``, ``b`` across), domed shading."""
    r = max(a, b) + 1.5
    win = canvas.window(cx - r, cy - r, cx + r, cy + r)
    if win is None:
        return
    rows, cols, xs, ys = win
    ca, sa = np.cos(angle), np.sin(angle)
    dx, dy = xs - cx, ys - cy
    u = (dx * ca + dy * sa) / max(a, 0.5)
    v = (-dx * sa + dy * ca) / max(b, 0.5)
    d = np.sqrt(u * u + v * v)
    coverage = np.clip((1.0 - d) * min(a, b) + 0.5, 0.0, 1.0)
    if not coverage.any():
        return
    light = 1.0 - shading * np.clip(d, 0.0, 1.0) ** 2
    light *= 1.0 + canvas.rng.normal(0.0, 0.03, size=light.shape).astype(np.float32)
    canvas.over(rows, cols, coverage, (colour[None, None, :] * light[..., None]).astype(np.float32))


# Half-width profiles, t in [0, 1] from base to tip; peak about 1.
def strap(t: np.ndarray) -> np.ndarray:
    """Maize-like: narrow base, long parallel body, pointed tip."""
    return np.clip(1.55 * t**0.3 * (1.0 - t) ** 0.45, 0.0, 1.0)


def ovate(t: np.ndarray) -> np.ndarray:
    """Broad oval, widest below the middle."""
    return np.sqrt(np.clip(1.0 - ((t - 0.42) / 0.58) ** 2, 0.0, 1.0)) * np.clip(t * 6.0, 0.0, 1.0)


def lanceolate(t: np.ndarray) -> np.ndarray:
    """Spear-shaped, widest at about a third."""
    return np.clip(2.1 * t**0.55 * (1.0 - t) ** 0.95, 0.0, 1.0)


def thin(t: np.ndarray) -> np.ndarray:
    """Grass blade: even width tapering to a fine point."""
    return np.clip((1.0 - t) ** 0.6, 0.0, 1.0)


def lobed(lobes: float, depth: float) -> Profile:
    """Lanceolate outline cut into ``lobes`` spiky lobes of relative ``depth``."""

    def profile(t: np.ndarray) -> np.ndarray:
        saw = np.abs(((t * lobes) % 1.0) - 0.5) * 2.0  # 1 at lobe tips, 0 between lobes
        return lanceolate(t) * (1.0 - depth + depth * saw**1.5)

    return profile


def arrow(t: np.ndarray) -> np.ndarray:
    """Arrow-head leaf body: broad base tapering straight to the tip."""
    return np.clip((1.0 - t) ** 0.85 * np.clip(t * 12.0, 0.0, 1.0), 0.0, 1.0)
