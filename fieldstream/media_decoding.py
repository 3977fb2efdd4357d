"""Media bytes -> arrays, for every consumer of raw records (stream jobs, workers, serving, training).

One decoder per medium, so the features computed in a stream job, the input a worker feeds its
model and the training data all see identical pixels and samples.
"""

from __future__ import annotations

import io
import re

import numpy as np
import simplejpeg
import soundfile
from PIL import Image, UnidentifiedImageError

from fieldstream.contracts.errors import ContractError


class MediaDecodeError(ContractError):
    """The payload passed the contract's checks but its pixels or samples cannot be decoded."""


def decode_image(data: bytes, min_size: tuple[int, int] | None = None) -> np.ndarray:
    """JPEG/PNG bytes -> (H, W, 3) uint8 RGB, fully loaded (so truncation is caught here).

    ``min_size`` (width, height): a JPEG is then decoded at the smallest scale n/8 (libjpeg-turbo's
    DCT scaling: far cheaper than decoding every pixel and shrinking afterwards) at which both sides
    stay at least ``min_size``; other formats decode at full size.

    JPEGs go through simplejpeg (libjpeg-turbo straight into a numpy array, strict about corrupt
    data; the same pixels as Pillow, 25 % faster); what it cannot take (PNG, CMYK JPEG, a damaged
    file) goes through Pillow, whose error is the one reported.
    """
    if data[:2] == b"\xff\xd8":
        width, height = min_size or (0, 0)
        try:
            return simplejpeg.decode_jpeg(data, colorspace="RGB", min_width=width, min_height=height)
        except ValueError:
            pass  # Pillow decodes what it can and words the error for the rest
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
