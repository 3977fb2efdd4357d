"""Media bytes -> arrays, for every consumer of raw records (stream jobs, workers, serving, training).

One decoder per medium, so the features computed in a stream job, the input a worker feeds its
model and the training data all see identical pixels and samples.
"""

from __future__ import annotations

import io
import re

import numpy as np
import soundfile
from PIL import Image, UnidentifiedImageError

from fieldstream.contracts.errors import ContractError


class MediaDecodeError(ContractError):
    """The payload passed the contract's checks but its pixels or samples cannot be decoded."""


def decode_image(data: bytes, min_size: tuple[int, int] | None = None) -> np.ndarray:
    """JPEG/PNG bytes -> (H, W, 3) uint8 RGB, fully loaded (so truncation is caught here).

    ``min_size`` (width, height): a JPEG may then be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's
    DCT scaling: far cheaper than decoding every pixel and shrinking afterwards) as long as both
    sides stay at least ``min_size``; other formats decode at full size.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            if min_size is not None:
                image.draft("RGB", min_size)
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        reason = re.sub(r" <[^>]*>", "", str(exc))  # PIL names the BytesIO object: drop the address
        raise MediaDecodeError(f"image bytes could not be decoded: {reason}") from exc


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """WAV/FLAC/OGG bytes -> (float32 mono waveform in [-1, 1], sample rate); channels averaged."""
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, TypeError, ValueError) as exc:  # soundfile.LibsndfileError is a RuntimeError
        raise MediaDecodeError(f"audio bytes could not be decoded: {exc}") from exc
    mono = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)
