"""Plant sprites: a plant painted once, with its drop shadow and motion blur, ready to paste.

A :class:`Sprite` holds the RGB and alpha to paste (plant plus soft shadow, blurred along the
driving axis) and the plant ``body`` mask (unblurred, alpha >= 0.5, no shadow), which is what the
instance mask and ground-truth boxes are made of. A :class:`SpriteBank` renders sprites lazily per
(kind, variant), caches them, and caches brightness-scaled copies for shade and sun changes.
Variants have the same shape in every season; only colours and shadows change.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from producers.field_camera._seeding import rng_for
from producers.field_camera.leaves import Canvas
from producers.field_camera.optics import blur_pad, blur_rows, light_lut, to_uint8
from producers.field_camera.plants import PAINTERS
from producers.field_camera.species import SEASON_LOOKS, SeasonLook, kind

#: Direction shadows fall in the image (radians, x right, y down): the sun is behind-left.
SHADOW_ANGLE = math.radians(35.0)
LIGHT_STEPS = 16  # brightness factors are quantised to 1/16 for the lit-sprite cache


@dataclass(frozen=True)
class Sprite:
    """One rendered plant. ``cy, cx``: the plant centre's pixel in the sprite."""

    rgb: np.ndarray  # (h, w, 3) uint8
    alpha: np.ndarray  # (h, w) uint8, plant + shadow, blurred
    body: np.ndarray  # (h, w) bool, the plant itself
    cy: int
    cx: int
    body_rows: tuple[int, int]  # body bounding rows [r0, r1)
    body_cols: tuple[int, int]  # body bounding cols [c0, c1)
    body_counts: np.ndarray  # body pixels per row of the body bounding rows
    rgb_image: Image.Image
    alpha_image: Image.Image

    @property
    def shape(self) -> tuple[int, int]:
        return self.alpha.shape[0], self.alpha.shape[1]


def _canvas_size(radius: float) -> int:
    return 2 * math.ceil(radius * 1.12) + 6


def _padding(radius: float, season: SeasonLook, blur_px: float) -> int:
    shadow = season.shadow_length * radius + 1.5
    sigma = 1.0 + 0.04 * radius
    return math.ceil(shadow + 3.0 * sigma) + blur_pad(blur_px) + 1


def max_half_extent(kind_name: str, px_per_m: float, blur_px: float) -> int:
    """Upper bound (px) on the distance from a plant's centre to any pixel of its sprite."""
    radius = kind(kind_name).diameter_m[1] / 2.0 * px_per_m
    pad = max(_padding(radius, s, blur_px) for s in SEASON_LOOKS.values())
    return _canvas_size(radius) // 2 + pad + 1


def render_sprite(
    kind_name: str, variant: int, style: str, bank_seed: int, px_per_m: float, blur_px: float, margin: int
) -> Sprite:
    """Paint variant ``variant`` of ``kind_name`` in season ``style``."""
    spec = kind(kind_name)
    season = SEASON_LOOKS[style]
    rng = rng_for(bank_seed, "sprite", kind_name, variant)
    radius = rng.uniform(*spec.diameter_m) / 2.0 * px_per_m
    size = _canvas_size(radius)
    canvas = Canvas(size, rng)
    PAINTERS[kind_name](canvas, size / 2.0, size / 2.0, radius, spec.looks[style])

    pad = _padding(radius, season, blur_px)
    full = size + 2 * pad
    alpha = np.zeros((full, full), np.float32)
    premul = np.zeros((full, full, 3), np.float32)
    alpha[pad : pad + size, pad : pad + size] = canvas.alpha
    premul[pad : pad + size, pad : pad + size] = canvas.rgb
    body = alpha >= 0.5

    length = season.shadow_length * radius + 1.5
    dx, dy = round(length * math.cos(SHADOW_ANGLE)), round(length * math.sin(SHADOW_ANGLE))
    shadow = np.zeros_like(alpha)
    shadow[dy:, dx:] = alpha[: full - dy, : full - dx]
    shadow = gaussian_filter(shadow, 1.0 + 0.04 * radius) * season.shadow_strength
    total = alpha + shadow * (1.0 - alpha)  # shadow is black: adds alpha, no colour

    total = blur_rows(total, blur_px)
    premul = blur_rows(premul, blur_px)
    rgb = premul / np.maximum(total, 1e-4)[..., None]
    alpha8 = np.rint(np.clip(total, 0.0, 1.0) * 255.0).astype(np.uint8)

    rows = np.flatnonzero(alpha8.any(axis=1))
    cols = np.flatnonzero(alpha8.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    rgb8 = np.ascontiguousarray(to_uint8(rgb[r0:r1, c0:c1], margin))
    alpha8 = np.ascontiguousarray(alpha8[r0:r1, c0:c1])
    body = np.ascontiguousarray(body[r0:r1, c0:c1])
    brows = np.flatnonzero(body.any(axis=1))
    bcols = np.flatnonzero(body.any(axis=0))
    centre = pad + size // 2
    return Sprite(
        rgb=rgb8,
        alpha=alpha8,
        body=body,
        cy=int(centre - r0),
        cx=int(centre - c0),
        body_rows=(int(brows[0]), int(brows[-1]) + 1),
        body_cols=(int(bcols[0]), int(bcols[-1]) + 1),
        body_counts=np.count_nonzero(body[brows[0] : brows[-1] + 1], axis=1),
        rgb_image=Image.fromarray(rgb8, "RGB"),
        alpha_image=Image.fromarray(alpha8, "L"),
    )


class SpriteBank:
    """Lazily rendered, cached sprites for one (seed, season, scale, blur, margin)."""

    def __init__(
        self,
        bank_seed: int,
        style: str,
        px_per_m: float,
        blur_px: float,
        margin: int,
        variants: int = 40,
        lit_cache: int = 2048,
    ) -> None:
        self.bank_seed = bank_seed
        self.style = style
        self.px_per_m = px_per_m
        self.blur_px = blur_px
        self.margin = margin
        self.variants = variants
        self._sprites: dict[tuple[str, int], Sprite] = {}
        self._lit: OrderedDict[tuple[str, int, int], Image.Image] = OrderedDict()
        self._lit_cache = lit_cache

    def sprite(self, kind_name: str, variant: int) -> Sprite:
        key = (kind_name, variant % self.variants)
        found = self._sprites.get(key)
        if found is None:
            found = render_sprite(
                kind_name, key[1], self.style, self.bank_seed, self.px_per_m, self.blur_px, self.margin
            )
            self._sprites[key] = found
        return found

    def render_all(self, kind_names: Iterable[str]) -> None:
        """Render every variant of ``kind_names`` now rather than on first use (same sprites)."""
        for name in kind_names:
            for variant in range(self.variants):
                self.sprite(name, variant)

    def lit_image(self, kind_name: str, variant: int, light: float) -> Image.Image:
        """The sprite's RGB scaled by ``light`` (quantised to 1/16), from an LRU cache."""
        level = max(1, round(light * LIGHT_STEPS))
        key = (kind_name, variant % self.variants, level)
        image = self._lit.get(key)
        if image is not None:
            self._lit.move_to_end(key)
            return image
        base = self.sprite(kind_name, variant).rgb_image
        image = base if level == LIGHT_STEPS else base.point(light_lut(level / LIGHT_STEPS, self.margin))
        self._lit[key] = image
        if len(self._lit) > self._lit_cache:
            self._lit.popitem(last=False)
        return image


@lru_cache(maxsize=4)
def sprite_bank(bank_seed: int, style: str, px_per_m: float, blur_px: float, margin: int) -> SpriteBank:
    """A shared bank: simulators with the same seed and optics reuse each other's sprites."""
    return SpriteBank(bank_seed, style, px_per_m, blur_px, margin)
