"""PCM16 WAV encoding and audio decoding (WAV/FLAC/OGG through soundfile, stdlib ``wave`` fallback)."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np

_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


def encode_wav(waveform: np.ndarray, sample_rate: int) -> bytes:
    """Mono float waveform in [-1, 1] -> PCM16 little-endian WAV bytes (values outside are clipped)."""
    x = np.asarray(waveform, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected a mono 1-D waveform, got shape {x.shape}")
    if sample_rate <= 0:
        raise ValueError("sample_rate must be positive")
    pcm = np.rint(x * np.float32(32768.0))
    np.clip(pcm, -32768.0, 32767.0, out=pcm)
    data = pcm.astype("<i2").tobytes()
    header = _HEADER.pack(
        b"RIFF",
        36 + len(data),
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        sample_rate,
        sample_rate * 2,
        2,
        16,
        b"data",
        len(data),
    )
    return header + data


def _decode_wave(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"stdlib WAV decoder only handles PCM16, got {8 * width}-bit")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    return samples.reshape(-1, channels).mean(axis=1, dtype=np.float32), rate


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """Audio bytes (WAV, FLAC or OGG) -> (float32 mono waveform, sample rate). Channels are averaged.

    Raises ``ValueError`` when the bytes are not decodable audio.
    """
    try:
        import soundfile
    except ImportError:  # pragma: no cover - soundfile is a dependency; keep WAV working without it
        try:
            return _decode_wave(data)
        except (wave.Error, EOFError) as exc:
            raise ValueError(f"undecodable audio: {exc}") from exc
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, TypeError) as exc:  # LibsndfileError is a RuntimeError
        raise ValueError(f"undecodable audio: {exc}") from exc
    mono = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)
