"""Vectorised synthesis primitives for parametric animal calls.

Tones use phase accumulation (a cumulative sum of the instantaneous frequency) read through a
wavetable, so a harmonic stack costs one table lookup per sample whatever its number of partials.
Noisy calls use band-limited noise shaped in the frequency domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import fft as sfft

TABLE_SIZE = 8192
_TABLE_MASK = TABLE_SIZE - 1


def harmonic_table(weights: Sequence[float]) -> np.ndarray:
    """One period of ``sum_k weights[k] * sin((k + 1) * phase)``, peak-normalised, float32."""
    phase = 2.0 * np.pi * np.arange(TABLE_SIZE) / TABLE_SIZE
    table = np.zeros(TABLE_SIZE)
    for k, weight in enumerate(weights):
        table += weight * np.sin((k + 1) * phase)
    return (table / np.max(np.abs(table))).astype(np.float32)


SINE = harmonic_table((1.0,))


def oscillate(freq_hz: np.ndarray, sample_rate: int, table: np.ndarray = SINE) -> np.ndarray:
    """Wavetable oscillator driven by a per-sample frequency track (Hz); float32."""
    cycles = np.cumsum(freq_hz, dtype=np.float64)
    cycles *= TABLE_SIZE / sample_rate
    return table[cycles.astype(np.int64) & _TABLE_MASK]


def envelope(n: int, kind: str, sample_rate: int) -> np.ndarray:
    """Amplitude envelope of ``n`` samples: ``soft`` (sine), ``hann``, ``flat`` (5 ms ramps), ``pluck``."""
    x = (np.arange(n) + 0.5) / n
    if kind == "soft":
        return np.sin(np.pi * x) ** 0.6
    if kind == "hann":
        return np.sin(np.pi * x) ** 2
    if kind == "flat":
        ramp = min(n // 2, max(1, int(0.005 * sample_rate)))
        env = np.ones(n)
        edge = np.sin(0.5 * np.pi * (np.arange(ramp) + 0.5) / ramp) ** 2
        env[:ramp] = edge
        env[n - ramp :] = edge[::-1]
        return env
    if kind == "pluck":
        attack = max(1, int(0.002 * sample_rate))
        env = np.exp(-4.0 * x)
        env[:attack] *= np.linspace(0.0, 1.0, attack)
        return env
    raise ValueError(f"unknown envelope kind {kind!r}")


class CallBuilder:
    """Builds a call as a sequence of notes and gaps: a frequency track and an amplitude track."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._freq: list[np.ndarray] = []
        self._amp: list[np.ndarray] = []
        self._last_hz = 1000.0

    def _samples(self, seconds: float) -> int:
        return max(2, round(seconds * self.sample_rate))

    def note(
        self,
        seconds: float,
        f_start: float,
        f_end: float | None = None,
        *,
        curve: float = 1.0,
        shape: str = "soft",
        level: float = 1.0,
    ) -> CallBuilder:
        """A note gliding from ``f_start`` to ``f_end`` (``x ** curve`` contour)."""
        n = self._samples(seconds)
        f_end = f_start if f_end is None else f_end
        x = np.linspace(0.0, 1.0, n) ** curve
        self._freq.append(f_start + (f_end - f_start) * x)
        self._amp.append(level * envelope(n, shape, self.sample_rate))
        self._last_hz = f_end
        return self

    def gap(self, seconds: float) -> CallBuilder:
        """Silence; the oscillator keeps running at the last frequency so phase stays continuous."""
        n = self._samples(seconds)
        self._freq.append(np.full(n, self._last_hz))
        self._amp.append(np.zeros(n))
        return self

    @property
    def frequency(self) -> np.ndarray:
        return np.concatenate(self._freq)

    @property
    def amplitude(self) -> np.ndarray:
        return np.concatenate(self._amp)

    def render(self, table: np.ndarray = SINE) -> np.ndarray:
        """The call: the oscillator on the frequency track times the amplitude track (float32)."""
        tone = oscillate(self.frequency, self.sample_rate, table)
        return (tone * self.amplitude).astype(np.float32)


def band_noise(rng: np.random.Generator, n: int, f_lo: float, f_hi: float, sample_rate: int) -> np.ndarray:
    """Unit-RMS Gaussian noise with a raised-cosine passband ``[f_lo, f_hi]`` (float32)."""
    nfft = sfft.next_fast_len(n, real=True)
    freqs = np.fft.rfftfreq(nfft, 1.0 / sample_rate)
    width = f_hi - f_lo
    x = np.clip((freqs - f_lo) / width, 0.0, 1.0)
    shape = np.where((freqs >= f_lo) & (freqs <= f_hi), np.sin(np.pi * x) ** 0.5, 0.0)
    spectrum = (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)) * shape
    noise = sfft.irfft(spectrum, nfft)[:n]
    rms = float(np.sqrt(np.mean(noise**2))) or 1.0
    return (noise / rms).astype(np.float32)


def periodic_am(n: int, rate_hz: float, sample_rate: int, sharpness: float = 2.0) -> np.ndarray:
    """Pulsed amplitude modulation ``((1 + cos) / 2) ** sharpness`` at ``rate_hz``."""
    t = np.arange(n) * (rate_hz / sample_rate)
    return (0.5 + 0.5 * np.cos(2.0 * np.pi * t)) ** sharpness


def smooth_random(rng: np.random.Generator, n: int, rate_hz: float, sample_rate: int) -> np.ndarray:
    """Slowly varying zero-mean unit-ish noise (linear interpolation of random knots at ``rate_hz``)."""
    knots = max(2, int(np.ceil(n * rate_hz / sample_rate)) + 2)
    values = rng.standard_normal(knots)
    return np.interp(np.arange(n) * (rate_hz / sample_rate), np.arange(knots), values)
