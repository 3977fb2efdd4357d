"""How each plant kind is painted from leaves: one function per kind, all seen from straight above.

Every painter takes a :class:`~producers.field_camera.leaves.Canvas`, the plant centre and canopy
radius in pixels, the season's :class:`~producers.field_camera.species.LeafLook` and a generator, and
paints the plant (oldest leaves first, so younger ones lie on top). :data:`PAINTERS` maps kind names
to painters.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from producers.field_camera.leaves import (
    Canvas,
    Leaf,
    arrow,
    blade,
    ellipse,
    leaf_colour,
    lobed,
    ovate,
    strap,
    thin,
)
from producers.field_camera.species import LeafLook

Painter = Callable[[Canvas, float, float, float, LeafLook], None]

_GOLDEN = 2.399963


def maize(cv: Canvas, cx: float, cy: float, r: float, look: LeafLook) -> None:
    """5-8 long strap leaves in two opposite ranks around a pale whorl."""
    rng = cv.rng
    n = int(rng.integers(5, 9))
    axis = rng.uniform(0, np.pi)
    for i in range(n):
        age = 1.0 - i / n  # first leaves are the oldest and longest
        angle = axis + (i % 2) * np.pi + rng.normal(0.0, 0.32) + 0.12 * i
        length = r * (0.5 + 0.5 * age) * rng.uniform(0.85, 1.0)
        width = max(length * rng.uniform(0.15, 0.19), 5.0)
        leaf = Leaf(cx, cy, angle, length, width, bend=rng.normal(0.0, 0.1))
        blade(cv, leaf, strap, look, leaf_colour(look, rng), t_start=0.02)
    whorl = np.array(look.midrib, dtype=np.float32) * 0.9
    ellipse(cv, cx, cy, axis, max(r * 0.08, 2.5), max(r * 0.05, 2.0), whorl)


def sugar_beet(cv: Canvas, cx: float, cy: float, r: float, look: LeafLook) -> None:
    """Rosette of broad oval leaves on pale stalks (petioles), spiral arrangement."""
    rng = cv.rng
    n = int(rng.integers(6, 11))
    phi = rng.uniform(0, 2 * np.pi)
    for i in range(n):
        age = 1.0 - i / n
        angle = phi + i * _GOLDEN + rng.normal(0.0, 0.12)
        length = r * (0.45 + 0.55 * age) * rng.uniform(0.88, 1.0)
        stalk = length * rng.uniform(0.22, 0.32)
        colour = leaf_colour(look, rng)
        petiole = Leaf(cx, cy, angle, stalk + 2.0, max(length * 0.08, 2.0))
        blade(cv, petiole, lambda t: np.ones_like(t), look, np.array(look.midrib, np.float32) * 0.95)
        bx, by = cx + stalk * np.cos(angle), cy + stalk * np.sin(angle)
        body = Leaf(
            bx,
            by,
            angle + rng.normal(0.0, 0.08),
            length - stalk,
            (length - stalk) * rng.uniform(0.62, 0.78),
            bend=rng.normal(0.0, 0.05),
        )
        blade(cv, body, ovate, look, colour)


def thistle(cv: Canvas, cx: float, cy: float, r: float, look: LeafLook) -> None:
    """Rosette of deeply lobed spiky leaves, grey-green with a white midrib and veins."""
    rng = cv.rng
    n = int(rng.integers(7, 12))
    phi = rng.uniform(0, 2 * np.pi)
    lobes = rng.uniform(3.5, 5.0)
    for i in range(n):
        age = 1.0 - i / n
        angle = phi + i * (2 * np.pi / n) * 1.0 + (i % 2) * np.pi / n + rng.normal(0.0, 0.1)
        length = r * (0.6 + 0.4 * age) * rng.uniform(0.88, 1.0)
        width = length * rng.uniform(0.5, 0.6)
        leaf = Leaf(cx, cy, angle, length, width, bend=rng.normal(0.0, 0.06))
        blade(cv, leaf, lobed(lobes, rng.uniform(0.6, 0.75)), look, leaf_colour(look, rng))
    ellipse(cv, cx, cy, 0.0, max(r * 0.1, 2.0), max(r * 0.1, 2.0), np.array(look.base, np.float32) * 1.1)


def grass_weed(cv: Canvas, cx: float, cy: float, r: float, look: LeafLook) -> None:
    """Tuft of many thin, slightly curved blades."""
    rng = cv.rng
    n = int(rng.integers(10, 19))
    lean = rng.uniform(0, 2 * np.pi)
    spread = rng.uniform(1.6, 3.2)  # a tuft leans one way: blades fan out over `spread` radians
    width = max(r * 0.08, 2.4)
    for _ in range(n):
        angle = lean + rng.uniform(-spread, spread)
        length = r * rng.uniform(0.55, 1.0) * (1.0 if abs(angle - lean) < spread * 0.7 else 0.75)
        leaf = Leaf(
            cx + rng.normal(0, 1.0),
            cy + rng.normal(0, 1.0),
            angle,
            length,
            width * rng.uniform(0.8, 1.2),
            bend=rng.normal(0.0, 0.22),
        )
        blade(cv, leaf, thin, look, leaf_colour(look, rng))


def chickweed(cv: Canvas, cx: float, cy: float, r: float, look: LeafLook) -> None:
    """Small mat: thin stems with pairs of tiny oval leaflets, clustered at the centre."""
    rng = cv.rng
    stems = int(rng.integers(4, 8))
    stem_colour = np.array(look.midrib, np.float32)
    leaf_len = max(r * 0.26, 3.2)
    for _ in range(stems):
        angle = rng.uniform(0, 2 * np.pi)
        x, y = cx, cy
        length = r * rng.uniform(0.55, 0.95)
        nodes = int(rng.integers(3, 6))
        step = length / nodes
        for k in range(nodes):
            angle += rng.normal(0.0, 0.35)
            nx, ny = x + step * np.cos(angle), y + step * np.sin(angle)
            blade(cv, Leaf(x, y, angle, step + 1.0, 1.4), thin, look, stem_colour)
            x, y = nx, ny
            size = leaf_len * (1.0 - 0.35 * k / nodes) * rng.uniform(0.85, 1.15)
            for side in (-1.0, 1.0):
                la = angle + side * rng.uniform(0.9, 1.4)
                colour = leaf_colour(look, rng)
                ellipse(
                    cv,
                    x + 0.5 * size * np.cos(la),
                    y + 0.5 * size * np.sin(la),
                    la,
                    size * 0.55,
                    size * 0.38,
                    colour,
                )
    for _ in range(int(rng.integers(3, 6))):  # young leaves at the crown
        la = rng.uniform(0, 2 * np.pi)
        d = rng.uniform(0, leaf_len * 0.6)
        ellipse(
            cv,
            cx + d * np.cos(la),
            cy + d * np.sin(la),
            la,
            leaf_len * 0.5,
            leaf_len * 0.34,
            leaf_colour(look, rng) * 1.08,
        )


def bindweed(cv: Canvas, cx: float, cy: float, r: float, look: LeafLook) -> None:
    """Trailing vine(s) with alternate arrow-shaped leaves; sometimes a white-pink funnel flower."""
    rng = cv.rng
    vine_colour = np.array(look.midrib, np.float32) * 0.85
    flowers: list[tuple[float, float]] = []
    for _ in range(int(rng.integers(1, 3))):
        angle = rng.uniform(0, 2 * np.pi)
        x, y = cx - 0.4 * r * np.cos(angle), cy - 0.4 * r * np.sin(angle)
        segments = int(rng.integers(4, 7))
        step = 1.4 * r / segments
        for k in range(segments):
            angle += rng.normal(0.0, 0.45)
            blade(cv, Leaf(x, y, angle, step + 1.0, 1.6), thin, look, vine_colour)
            x, y = x + step * np.cos(angle), y + step * np.sin(angle)
            side = 1.0 if k % 2 else -1.0
            la = angle + side * rng.uniform(0.7, 1.2)
            length = r * rng.uniform(0.32, 0.42)
            colour = leaf_colour(look, rng)
            blade(cv, Leaf(x, y, la, length, length * 0.85), arrow, look, colour)
            for lobe in (-1.0, 1.0):  # the two backward-pointing basal lobes of an arrow leaf
                blade(
                    cv,
                    Leaf(x, y, la + np.pi + lobe * 0.75, length * 0.32, length * 0.2),
                    thin,
                    look,
                    colour * 0.95,
                )
            if rng.random() < 0.07:
                flowers.append((x, y))
    for fx, fy in flowers[:2]:
        ellipse(cv, fx, fy, 0.0, r * 0.15, r * 0.15, np.array((236, 222, 230), np.float32), 0.1)
        ellipse(cv, fx, fy, 0.0, r * 0.07, r * 0.07, np.array((226, 170, 196), np.float32), 0.1)
        ellipse(cv, fx, fy, 0.0, r * 0.025 + 1, r * 0.025 + 1, np.array((232, 214, 120), np.float32))


PAINTERS: dict[str, Painter] = {
    "maize": maize,
    "sugar_beet": sugar_beet,
    "thistle": thistle,
    "grass_weed": grass_weed,
    "chickweed": chickweed,
    "bindweed": bindweed,
}
