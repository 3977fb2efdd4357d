"""Audio preprocessing: 32 kHz waveforms -> normalised log-mel spectrograms (N, 1, n_mels, T) float32.

Pure numpy (no torch, no librosa), so inference workers run exactly what training ran:

1. pad with zeros / crop to exactly ``clip_seconds`` (5 s, the BirdCLEF segment);
2. STFT by framing: zero-pad ``n_fft // 2`` at both ends (centred frames), periodic Hann window,
   ``rfft``; magnitudes are divided by the window sum, so a sine of amplitude A peaks at ~A / 2;
3. power spectrum -> mel filterbank (Slaney or HTK mel scale, optional Slaney area norm; the same
   construction as ``librosa.filters.mel``);
4. ``10 * log10(max(mel, floor))`` dB, then a fixed affine scaling ``(dB - db_mean) / db_std``.

Defaults (n_fft 1024 = 32 ms, hop 512 = 16 ms, 64 mels over 50 Hz..14 kHz) give 64 x 313 per chunk:
the simulated species' call bands span 70 Hz..12.4 kHz, and halving the frames from a 10 ms hop
halves the classifier's cost on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

_BATCH = 64  # chunks framed at once (bounds the (batch, T, n_fft) frame buffer)


@dataclass(frozen=True)
class AudioPreprocessConfig:
    """Everything that decides the log-mel input; stored with the model."""

    sample_rate: int = 32000
    clip_seconds: float = 5.0
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 64
    fmin: float = 50.0
    fmax: float = 14000.0
    mel_scale: str = "slaney"  # "slaney" or "htk"
    mel_norm: str | None = "slaney"  # "slaney" (area-normalised triangles) or None (peak 1)
    power_floor: float = 1e-12  # -120 dB
    # Slaney-normalised bands hold power per Hz, so levels are low: simulated soundscapes measure
    # -89 dB mean, 13 dB std (1st..99th percentile -112..-58 dB). Fixed, not refit per dataset.
    db_mean: float = -90.0
    db_std: float = 13.0

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.clip_seconds <= 0:
            raise ValueError("sample_rate and clip_seconds must be positive")
        if self.n_fft < 16 or self.hop_length < 1 or self.n_mels < 1:
            raise ValueError("n_fft >= 16, hop_length >= 1 and n_mels >= 1 are required")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError("need 0 <= fmin < fmax <= sample_rate / 2")
        if self.mel_scale not in ("slaney", "htk") or self.mel_norm not in ("slaney", None):
            raise ValueError("mel_scale must be 'slaney' or 'htk'; mel_norm 'slaney' or None")
        if self.power_floor <= 0 or self.db_std <= 0:
            raise ValueError("power_floor and db_std must be positive")

    @property
    def clip_samples(self) -> int:
        return round(self.clip_seconds * self.sample_rate)

    @property
    def n_frames(self) -> int:
        """Frames per clip (centred framing)."""
        return 1 + self.clip_samples // self.hop_length

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Model input shape without the batch axis: (1, n_mels, n_frames)."""
        return (1, self.n_mels, self.n_frames)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioPreprocessConfig:
        return cls(**data)


def _hz_to_mel(freqs: np.ndarray, htk: bool) -> np.ndarray:
    freqs = np.asarray(freqs, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + freqs / 700.0)
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    mels = freqs / f_sp
    high = freqs >= min_log_hz
    return np.where(high, min_log_hz / f_sp + np.log(np.maximum(freqs, 1e-12) / min_log_hz) / logstep, mels)


def _mel_to_hz(mels: np.ndarray, htk: bool) -> np.ndarray:
    mels = np.asarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), f_sp * mels)


def mel_frequencies(n: int, fmin: float, fmax: float, htk: bool = False) -> np.ndarray:
    """``n`` frequencies (Hz) evenly spaced on the mel scale from ``fmin`` to ``fmax``."""
    lo, hi = _hz_to_mel(np.array([fmin, fmax]), htk)
    return _mel_to_hz(np.linspace(lo, hi, n), htk)


def mel_filterbank(config: AudioPreprocessConfig | None = None) -> np.ndarray:
    """Triangular mel filters, (n_mels, 1 + n_fft // 2) float32; row ``m`` peaks at centre ``m``."""
    cfg = config or AudioPreprocessConfig()
    htk = cfg.mel_scale == "htk"
    fft_freqs = np.linspace(0.0, cfg.sample_rate / 2, 1 + cfg.n_fft // 2)
    edges = mel_frequencies(cfg.n_mels + 2, cfg.fmin, cfg.fmax, htk)
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if cfg.mel_norm == "slaney":
        weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def mel_centres(config: AudioPreprocessConfig | None = None) -> np.ndarray:
    """Centre frequency (Hz) of each mel band, (n_mels,)."""
    cfg = config or AudioPreprocessConfig()
    return mel_frequencies(cfg.n_mels + 2, cfg.fmin, cfg.fmax, cfg.mel_scale == "htk")[1:-1]


def fit_length(
    waveforms: Sequence[np.ndarray] | np.ndarray, config: AudioPreprocessConfig | None = None
) -> np.ndarray:
    """Zero-pad (at the end) or crop (keep the start) each waveform to exactly ``clip_samples``.

    Accepts one 1-D waveform, an (N, S) array, or a list of 1-D waveforms of any lengths;
    returns (N, clip_samples) float32.
    """
    cfg = config or AudioPreprocessConfig()
    if isinstance(waveforms, np.ndarray) and waveforms.ndim == 1:
        waveforms = waveforms[None, :]
    if isinstance(waveforms, np.ndarray) and waveforms.ndim != 2:
        raise ValueError(f"waveforms must be (S,) or (N, S), got shape {waveforms.shape}")
    items = list(waveforms)
    out = np.zeros((len(items), cfg.clip_samples), dtype=np.float32)
    for i, wave in enumerate(items):
        wave = np.asarray(wave, dtype=np.float32)
        if wave.ndim != 1:
            raise ValueError(f"waveform {i} must be 1-D, got shape {wave.shape}")
        n = min(wave.size, cfg.clip_samples)
        out[i, :n] = wave[:n]
    return out


def _hann(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)


def power_spectrogram(clips: np.ndarray, config: AudioPreprocessConfig | None = None) -> np.ndarray:
    """(N, clip_samples) float32 -> (N, T, 1 + n_fft // 2) float32 power, window-sum normalised."""
    cfg = config or AudioPreprocessConfig()
    half = cfg.n_fft // 2
    padded = np.pad(clips, ((0, 0), (half, half)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, cfg.n_fft, axis=1)[:, :: cfg.hop_length]
    frames = frames[:, : cfg.n_frames]
    window = _hann(cfg.n_fft)
    spectrum = np.fft.rfft(frames * window, axis=-1)
    spectrum /= np.float32(window.sum())
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32)


def log_mel(
    waveforms: Sequence[np.ndarray] | np.ndarray,
    sample_rate: int = 32000,
    config: AudioPreprocessConfig | None = None,
) -> np.ndarray:
    """Waveforms at ``sample_rate`` -> normalised log-mel, (N, 1, n_mels, T) float32.

    ``waveforms``: one 1-D waveform, an (N, S) float array, or a list of 1-D arrays (any lengths;
    each is padded/cropped to the clip length). ``sample_rate`` must equal the config's: resample
    upstream, this function does not.
    """
    cfg = config or AudioPreprocessConfig()
    if sample_rate != cfg.sample_rate:
        raise ValueError(f"sample_rate {sample_rate} != the model's {cfg.sample_rate}; resample first")
    clips = fit_length(waveforms, cfg)
    filters = mel_filterbank(cfg).T  # (F, M)
    out = np.empty((clips.shape[0], 1, cfg.n_mels, cfg.n_frames), dtype=np.float32)
    for start in range(0, clips.shape[0], _BATCH):
        power = power_spectrogram(clips[start : start + _BATCH], cfg)
        mel = np.maximum(power @ filters, np.float32(cfg.power_floor))
        db = np.float32(10.0) * np.log10(mel)
        out[start : start + _BATCH, 0] = ((db - cfg.db_mean) / cfg.db_std).transpose(0, 2, 1)
    return out
