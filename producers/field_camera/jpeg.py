"""JPEG encoding and decoding of frames (Pillow, libjpeg-turbo where available)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    """Encode an (H, W, 3) uint8 RGB image as baseline JPEG (4:2:0) at ``quality`` (1..100)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    if not 1 <= quality <= 100:
        raise ValueError("quality must be in 1..100")
    out = io.BytesIO()
    Image.fromarray(image, "RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode JPEG bytes to an (H, W, 3) uint8 RGB array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))
