"""Audio maths for replay: mix to mono, resample to 32 kHz, cut into 5 s chunks — in bounded memory.

- **Mono**: the mean of the channels.
- **Resampling**: ``scipy.signal.resample_poly`` with the exact rational ratio ``up/down =
  32000/src`` reduced by their gcd (44.1 kHz -> 320/441, 48 kHz -> 2/3). Long files are resampled
  segment by segment: each segment is a multiple of ``down`` input samples, resampled with ``pad``
  samples of real context on both sides (``pad`` covers the anti-aliasing filter's half length),
  and trimmed; the result equals resampling the whole file at once (to float rounding) while
  memory stays at one segment whatever the file's length.
- **Chunking**: consecutive 5 s chunks (160,000 samples); the last partial chunk is zero-padded to
  5 s when it holds at least 1 s of audio and dropped otherwise (a shorter tail carries too little
  to label, and padding it would make mostly-silent chunks). A file shorter than 1 s gives no chunk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

from fieldstream.modality import AUDIO_CHUNK_SECONDS, AUDIO_SAMPLE_RATE
from producers.config import AUDIO_CHUNK_SAMPLES

MIN_TAIL_SECONDS = 1.0
SEGMENT_SECONDS = 8.0  # input resampled per segment (memory bound)
READ_BLOCK_FRAMES = 65_536


def resample_ratio(src_rate: int, dst_rate: int = AUDIO_SAMPLE_RATE) -> tuple[int, int]:
    """``(up, down)`` with ``up / down == dst_rate / src_rate`` in lowest terms."""
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError("sample rates must be positive")
    g = math.gcd(src_rate, dst_rate)
    return dst_rate // g, src_rate // g


def to_mono(samples: np.ndarray) -> np.ndarray:
    """``(n,)`` or ``(n, channels)`` samples -> ``(n,)`` float32, the mean of the channels."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        return x
    if x.shape[1] == 1:
        return x[:, 0]
    return x.mean(axis=1, dtype=np.float32)


def _pad_samples(up: int, down: int) -> int:
    """Input context each side covering resample_poly's filter (half length ``10 * max(up, down)``
    at the upsampled rate), rounded up to a multiple of ``down``."""
    need = math.ceil(10 * max(up, down) / up) + 2
    return math.ceil(need / down) * down


def resample_stream(
    blocks: Iterable[np.ndarray], src_rate: int, dst_rate: int = AUDIO_SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Resample a mono signal given as consecutive blocks; yields output pieces (float32).

    The concatenated output equals ``resample_poly(whole, up, down)`` (length
    ``ceil(n * up / down)``) up to float rounding.
    """
    up, down = resample_ratio(src_rate, dst_rate)
    if up == down == 1:
        for block in blocks:
            yield np.asarray(block, dtype=np.float32)
        return
    pad = _pad_samples(up, down)
    segment = max(1, round(SEGMENT_SECONDS * src_rate / down)) * down
    buffer = np.zeros(0, dtype=np.float32)
    buffer_start = 0  # input index of buffer[0]
    next_start = 0  # input index of the next segment to emit (a multiple of down)
    total_in = 0
    for block in blocks:
        block = np.asarray(block, dtype=np.float32)
        total_in += block.size
        buffer = np.concatenate((buffer, block))
        while buffer_start + buffer.size >= next_start + segment + pad:
            yield _segment(buffer, buffer_start, next_start, segment, pad, up, down)
            next_start += segment
            drop = max(0, next_start - pad - buffer_start)
            buffer, buffer_start = buffer[drop:], buffer_start + drop
    while next_start < total_in:  # the tail: no right context beyond the end (zeros, as resample_poly)
        length = min(segment, total_in - next_start)  # only the last one is not a multiple of down
        yield _segment(buffer, buffer_start, next_start, length, pad, up, down)
        next_start += length


def _segment(
    buffer: np.ndarray, buffer_start: int, start: int, length: int, pad: int, up: int, down: int
) -> np.ndarray:
    """Output samples of input ``[start, start + length)``, resampled with up to ``pad`` samples of
    context each side (``buffer`` holds the input from index ``buffer_start`` on)."""
    lo = max(buffer_start, start - pad)
    window = buffer[lo - buffer_start : start + length + pad - buffer_start]
    out = resample_poly(window, up, down).astype(np.float32, copy=False)
    skip = (start - lo) * up // down  # exact: start and lo are multiples of down
    return out[skip : skip - (-length * up // down)]  # ceil(length * up / down) samples


def chunk_stream(
    pieces: Iterable[np.ndarray],
    chunk_samples: int = AUDIO_CHUNK_SAMPLES,
    min_tail_samples: int = int(MIN_TAIL_SECONDS * AUDIO_SAMPLE_RATE),
) -> Iterator[np.ndarray]:
    """Cut a signal (given as pieces) into ``chunk_samples`` chunks; the tail is padded or dropped."""
    pending: list[np.ndarray] = []
    size = 0
    for piece in pieces:
        pending.append(np.asarray(piece, dtype=np.float32))
        size += piece.size
        while size >= chunk_samples:
            joined = np.concatenate(pending)
            yield joined[:chunk_samples]
            rest = joined[chunk_samples:]
            pending, size = [rest], rest.size
    if size >= min_tail_samples and size > 0:
        tail = np.concatenate(pending)
        yield np.concatenate((tail, np.zeros(chunk_samples - tail.size, dtype=np.float32)))


def _chunk_samples(rate: int) -> int:
    """Samples in one chunk at ``rate``."""
    return round(rate * AUDIO_CHUNK_SECONDS)


def file_chunks(path: Path, rate: int = AUDIO_SAMPLE_RATE) -> Iterator[np.ndarray]:
    """5 s mono chunks at ``rate`` of an audio file (anything libsndfile reads: WAV, FLAC, OGG, ...).

    Raises ``soundfile.LibsndfileError`` (a ``RuntimeError``) when the file cannot be decoded.
    """
    with soundfile.SoundFile(str(path)) as f:
        blocks = (to_mono(b) for b in f.blocks(blocksize=READ_BLOCK_FRAMES, dtype="float32", always_2d=True))
        yield from chunk_stream(
            resample_stream(blocks, f.samplerate, rate), _chunk_samples(rate), int(rate * MIN_TAIL_SECONDS)
        )


def expected_chunks(frames: int, src_rate: int, rate: int = AUDIO_SAMPLE_RATE) -> int:
    """How many chunks :func:`file_chunks` gives for ``frames`` samples at ``src_rate``."""
    up, down = resample_ratio(src_rate, rate)
    out = -(-frames * up // down)
    full, tail = divmod(out, _chunk_samples(rate))
    return full + (1 if tail >= rate * MIN_TAIL_SECONDS and tail > 0 else 0)
