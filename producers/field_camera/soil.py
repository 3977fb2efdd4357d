"""Soil background: a periodic bank of soil texture with baked sun/shade patches.

Generating soil texture per frame would cost more than the JPEG encode, so each simulator slices
its ground from a :class:`SoilBank`: ``period`` rows x frame width, periodic along the track (about
10 m at the default scale), made of clod relief lit from the sun side, moisture patches, grain,
pebbles and straw residue, multiplied by the sun: soft shade patches and a slow brightness swell of
passing thin clouds, and already motion-blurred for the simulator's speed. Banks are cached per
(seed, season, optics); each device starts at its own row and column offset, so devices sharing a
bank still see different ground.

Bank rows are in image orientation: row ``b`` holds ground at along-track pixel ``g`` where
``b = (offset - g) mod period`` (the image top is the driving direction).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sp_fft

from producers.field_camera._seeding import rng_for
from producers.field_camera.optics import blur_rows, to_uint8
from producers.field_camera.species import SEASON_LOOKS, Colour

DEFAULT_PERIOD = 4096
LIGHT_STEP = 4


@dataclass(frozen=True)
class SoilBank:
    """Periodic soil: ``rgb`` (period, width, 3) uint8 and the sun factor ``light`` (period, width)."""

    rgb: np.ndarray
    light: np.ndarray  # float32 at 1/LIGHT_STEP resolution: 1 = full sun, lower in shade patches
    period: int

    def light_at(self, row: int, col: int) -> float:
        """Sun factor at bank pixel (``row`` taken modulo the period, ``col`` modulo the width)."""
        return float(self.light[(row % self.period) // LIGHT_STEP, (col % self.rgb.shape[1]) // LIGHT_STEP])


def _fractal(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """Periodic noise with a 1/f^beta amplitude spectrum, zero mean, unit std."""
    spectrum = sp_fft.rfft2(rng.standard_normal(shape, dtype=np.float32))
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    f = np.sqrt(fy * fy + fx * fx)
    f[0, 0] = 1.0
    spectrum *= (1.0 / f**beta).astype(np.float32)
    spectrum[0, 0] = 0.0
    field = sp_fft.irfft2(spectrum, s=shape).astype(np.float32)
    return field / max(float(field.std()), 1e-6)


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _stamp(
    img: np.ndarray,
    cx: float,
    cy: float,
    angle: float,
    a: float,
    b: float,
    colour: np.ndarray,
    opacity: float,
) -> None:
    """Paint a soft ellipse onto a float image (skipped where it would cross the bank's edge)."""
    r = max(a, b) + 1.5
    r0, r1 = int(cy - r), int(cy + r) + 2
    c0, c1 = int(cx - r), int(cx + r) + 2
    if r0 < 0 or c0 < 0 or r1 > img.shape[0] or c1 > img.shape[1]:
        return
    ys, xs = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    dx, dy = xs + 0.5 - cx, ys + 0.5 - cy
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / a
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / b
    d = np.sqrt(u * u + v * v)
    cover = np.clip((1.0 - d) * min(a, b) + 0.5, 0.0, 1.0)[..., None] * opacity
    dome = (1.08 - 0.25 * np.clip(d, 0, 1) ** 2)[..., None]
    img[r0:r1, c0:c1] = img[r0:r1, c0:c1] * (1.0 - cover) + colour * dome * cover


def make_soil_bank(
    bank_seed: int,
    style: str,
    width: int,
    px_per_m: float,
    blur_px: float,
    margin: int,
    period: int = DEFAULT_PERIOD,
) -> SoilBank:
    """Build the soil bank for a season ``style`` (see the module doc)."""
    sunlit, light = _sunlit_soil(bank_seed, style, width, px_per_m, period)
    img = blur_rows(sunlit.astype(np.float32), blur_px, wrap=True)
    small = np.ascontiguousarray(light[::LIGHT_STEP, ::LIGHT_STEP])
    return SoilBank(rgb=to_uint8(img, margin), light=small, period=period)


@lru_cache(maxsize=2)
def _sunlit_soil(
    bank_seed: int, style: str, width: int, px_per_m: float, period: int
) -> tuple[np.ndarray, np.ndarray]:
    """Soil texture times sunlight (float16, not yet blurred) and the sunlight itself (float32)."""
    look = SEASON_LOOKS[style]
    rng = rng_for(bank_seed, "soil")  # same relief in every season; colours differ
    shape = (period, width)
    relief = _fractal(rng, shape, 1.7)
    moisture = _fractal(rng, shape, 2.6)
    patches = _fractal(rng, shape, 3.2)
    grain = rng.standard_normal((period, width, 3), dtype=np.float32)

    # Clods lit from the sun side (upper left): slope toward the sun brightens.
    slope = (np.roll(relief, 1, axis=0) - relief) + (np.roll(relief, 1, axis=1) - relief)
    lum = 1.0 + 0.12 * slope / max(float(slope.std()), 1e-6) + 0.06 * relief
    base = np.array(look.soil, dtype=np.float32)
    damp = np.array((0.80, 0.78, 0.80), dtype=np.float32)
    wet = _smoothstep(moisture, -0.4, 1.4)[..., None]
    img = base * (1.0 - wet + wet * damp) * lum[..., None] * (1.0 + 0.03 * grain)

    area = period * width / px_per_m**2
    for _ in range(int(area * 14)):  # pebbles
        tone = rng.uniform(0.8, 1.2)
        colour = np.array((146, 136, 122), np.float32) * tone * (1 + rng.normal(0, 0.02, 3))
        a = rng.uniform(0.004, 0.011) * px_per_m
        _stamp(
            img,
            rng.uniform(0, width),
            rng.uniform(0, period),
            rng.uniform(0, np.pi),
            a,
            a * rng.uniform(0.6, 1.0),
            colour.astype(np.float32),
            0.95,
        )
    residue: Colour = look.residue
    for _ in range(int(area * look.residue_per_m2)):  # straw and stubble
        colour = np.array(residue, np.float32) * rng.uniform(0.8, 1.1)
        length = rng.uniform(0.03, 0.1) * px_per_m
        _stamp(
            img,
            rng.uniform(0, width),
            rng.uniform(0, period),
            rng.uniform(0, np.pi),
            length / 2,
            rng.uniform(0.9, 1.4),
            colour.astype(np.float32),
            0.9,
        )

    threshold = float(np.quantile(patches, 1.0 - look.shade_cover))
    shade = 1.0 - look.shade_depth * _smoothstep(patches, threshold - 0.35, threshold + 0.35)
    # Passing thin clouds: a slow brightness swell along the track (one period of the bank).
    phase = rng.uniform(0, 2 * np.pi, size=2)
    along = np.arange(period, dtype=np.float32)[:, None] * (2 * np.pi / period)
    clouds = 1.0 + 0.06 * np.sin(along + phase[0]) + 0.04 * np.sin(3 * along + phase[1])
    light = (shade * clouds * look.gain).astype(np.float32)
    return (img * light[..., None]).astype(np.float16), light


@lru_cache(maxsize=4)
def soil_bank(
    bank_seed: int, style: str, width: int, px_per_m: float, blur_px: float, margin: int
) -> SoilBank:
    """Cached :func:`make_soil_bank` (banks are shared by devices with the same seed and optics)."""
    return make_soil_bank(bank_seed, style, width, px_per_m, blur_px, margin)
