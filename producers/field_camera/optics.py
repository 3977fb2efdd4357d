"""Optics helpers shared by the soil, sprite and camera code: motion-blur kernels, light LUTs, noise.

Motion blur along the driving axis is a box of length ``speed * exposure * px_per_m`` pixels (with
fractional end weights). Because the vehicle speed is constant for a simulator, the blur is applied
once to the soil bank and to each plant sprite (both in ground coordinates) instead of per frame.

Pixel values of everything that reaches a frame are kept inside ``[margin, 255 - margin]`` so that
camera noise of at most ``margin`` can be added to uint8 images without overflow.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import convolve1d


def box_kernel(length: float) -> np.ndarray:
    """Normalised 1-D box of (fractional) ``length`` pixels; ``[1.0]`` when ``length <= 1``."""
    if length <= 1.0:
        return np.ones(1, dtype=np.float32)
    size = 2 * math.ceil((length - 1.0) / 2.0) + 1
    kernel = np.ones(size, dtype=np.float32)
    kernel[0] = kernel[-1] = (length - (size - 2)) / 2.0
    return kernel / kernel.sum()


def blur_rows(values: np.ndarray, length: float, wrap: bool = False) -> np.ndarray:
    """Box-blur ``values`` (float) along axis 0, i.e. along the driving direction."""
    kernel = box_kernel(length)
    if kernel.size == 1:
        return values
    return convolve1d(values, kernel, axis=0, mode="wrap" if wrap else "constant")


def blur_pad(length: float) -> int:
    """Rows a blur of ``length`` spreads a pixel to on each side."""
    return box_kernel(length).size // 2


def noise_margin(noise_std: float) -> int:
    """Largest noise amplitude added to frames: 3 sigma, at least 1, at most 24."""
    return int(min(24, max(1, math.ceil(3.0 * noise_std))))


def light_lut(factor: float, margin: int, channels: int = 3) -> list[int]:
    """A PIL ``point`` table scaling brightness by ``factor`` and staying in ``[margin, 255-margin]``."""
    v = np.arange(256, dtype=np.float32)
    out = np.clip(margin + (v - margin) * factor, margin, 255 - margin)
    return np.rint(out).astype(np.int32).tolist() * channels


def to_uint8(values: np.ndarray, margin: int) -> np.ndarray:
    """Round and clip float pixel values into ``[margin, 255 - margin]`` as uint8."""
    return np.clip(np.rint(values), margin, 255 - margin).astype(np.uint8)
