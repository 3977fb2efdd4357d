"""Ambient beds: wind, rain, stream and insect chorus, as continuous per-session signals.

Each bed is a precomputed noise bank (about 8.5 s, shaped in the frequency domain, so it is
exactly periodic and loops seamlessly) read at the session's running sample position, times a
slow gain envelope evaluated on the session clock. Banks are built once per simulator (a few
variants per bed, in a ``BankPool``) and shared by its sessions, which differ by the beds they
mix, the variant, the read offset, the level and the envelope. Banks of different lengths and
the envelopes keep the mix from visibly repeating; reading a 5 s chunk costs a few slices and
multiplies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from producers.soundscape.synth import smooth_random

AMBIENT_BEDS: tuple[str, ...] = ("wind", "rain", "stream", "insects")
RECORDER_FLOOR_DBFS = -66.0
_ENV_BLOCK = 32  # envelope resolution in samples (1 ms at 32 kHz)
_LEVEL_DBFS: dict[str, tuple[float, float]] = {
    "wind": (-44.0, -30.0),
    "rain": (-46.0, -32.0),
    "stream": (-44.0, -32.0),
    "insects": (-50.0, -38.0),
}


def _unit(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x / (rms or 1.0)).astype(np.float32)


def _shaped_noise(rng: np.random.Generator, size: int, shape: np.ndarray) -> np.ndarray:
    """Periodic Gaussian noise of ``size`` samples with the amplitude spectrum ``shape``."""
    spectrum = (rng.standard_normal(shape.size) + 1j * rng.standard_normal(shape.size)) * shape
    spectrum[0] = 0.0
    return sfft.irfft(spectrum, size)


def _peak(freqs: np.ndarray, centre: float, width: float) -> np.ndarray:
    return 1.0 / (1.0 + ((freqs - centre) / width) ** 2)


def _wind(rng: np.random.Generator, size: int, freqs: np.ndarray, sr: int) -> np.ndarray:
    corner = rng.uniform(80.0, 250.0)
    rumble = 1.0 / (1.0 + (freqs / corner) ** 2) ** 1.25
    rustle = 0.01 * (freqs / (freqs + 800.0)) / (1.0 + (freqs / 5000.0) ** 2)
    return _unit(_shaped_noise(rng, size, rumble + rustle))


def _rain(rng: np.random.Generator, size: int, freqs: np.ndarray, sr: int) -> np.ndarray:
    hiss = (freqs / (freqs + 400.0)) / np.sqrt(1.0 + (freqs / 6000.0) ** 2)
    bed = _unit(_shaped_noise(rng, size, hiss))
    count = int(rng.poisson(rng.uniform(30.0, 150.0) * size / sr))
    impulses = np.zeros(size)
    np.add.at(
        impulses, rng.integers(0, size, count), rng.lognormal(0.0, 0.5, count) * rng.choice((-1, 1), count)
    )
    ring = _peak(freqs, rng.uniform(2500.0, 5000.0), 1500.0) * (freqs / (freqs + 1000.0))
    drops = np.clip(_unit(sfft.irfft(sfft.rfft(impulses) * ring, size)), -8.0, 8.0)
    return _unit(bed + rng.uniform(0.5, 1.0) * drops)


def _stream(rng: np.random.Generator, size: int, freqs: np.ndarray, sr: int) -> np.ndarray:
    flow = (freqs / (freqs + 250.0)) ** 2 / (1.0 + (freqs / 2500.0) ** 4)
    water = _unit(_shaped_noise(rng, size, flow))
    babble = np.zeros(size)
    for _ in range(2):
        band = _unit(
            _shaped_noise(rng, size, _peak(freqs, rng.uniform(400.0, 2200.0), rng.uniform(80.0, 250.0)))
        )
        gurgle = np.clip(1.0 + 0.8 * smooth_random(rng, size, rng.uniform(3.0, 8.0), sr), 0.0, None)
        babble += band * gurgle
    return _unit(water + rng.uniform(0.5, 1.0) * _unit(babble))


def _insects(rng: np.random.Generator, size: int, freqs: np.ndarray, sr: int) -> np.ndarray:
    """Dense steady chorus: narrow peaks at 5-10 kHz, each amplitude-modulated at its own pulse
    rate. The modulation ``(1 + cos)^2 / 4`` is applied in the frequency domain as bin shifts (the
    rate is rounded to a whole number of cycles per bank), so the whole chorus is one inverse FFT."""
    spectrum = np.zeros(freqs.size, dtype=np.complex128)
    for _ in range(int(rng.integers(4, 8))):
        peak = _peak(freqs, rng.uniform(5000.0, 10000.0), rng.uniform(50.0, 250.0))
        tone = (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)) * peak
        shift = max(1, round(rng.uniform(15.0, 60.0) * size / sr))
        pulsed = 0.375 * tone
        for k, weight in ((1, 0.25), (2, 0.0625)):
            pulsed[k * shift :] += weight * tone[: -k * shift]
            pulsed[: -k * shift] += weight * tone[k * shift :]
        spectrum += pulsed * rng.uniform(0.5, 1.0)
    spectrum += (
        0.1
        * (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size))
        * _peak(freqs, 7000.0, 2500.0)
    )
    spectrum[0] = 0.0
    return _unit(sfft.irfft(spectrum, size))


_BUILDERS: dict[str, Callable[[np.random.Generator, int, np.ndarray, int], np.ndarray]] = {
    "wind": _wind,
    "rain": _rain,
    "stream": _stream,
    "insects": _insects,
}


class BankPool:
    """Lazily built, cached noise banks: ``variants`` per bed, each seeded by ``(*keys, bed, v)``."""

    def __init__(
        self, rng_factory: Callable[..., np.random.Generator], sample_rate: int, variants: int = 3
    ) -> None:
        self._rng_factory = rng_factory
        self.sample_rate = sample_rate
        self.variants = variants
        self._banks: dict[tuple[str, int], np.ndarray] = {}

    def get(self, name: str, variant: int) -> np.ndarray:
        key = (name, variant)
        if key not in self._banks:
            rng = self._rng_factory("bank", name, variant)
            if name == "floor":
                bank = _unit(rng.standard_normal(sfft.next_fast_len(int(rng.integers(170_000, 190_000)))))
            else:
                size = sfft.next_fast_len(int(rng.integers(240_000, 300_000)), real=True)
                freqs = np.fft.rfftfreq(size, 1.0 / self.sample_rate)
                bank = _BUILDERS[name](rng, size, freqs, self.sample_rate)
            bank.setflags(write=False)
            self._banks[key] = bank
        return self._banks[key]


@dataclass(frozen=True)
class _Layer:
    name: str
    bank: np.ndarray
    offset: int
    level: float
    env_hz: np.ndarray
    env_depth: np.ndarray
    env_phase: np.ndarray

    def envelope(self, start: int, n: int, sr: int) -> np.ndarray | None:
        if self.env_hz.size == 0:
            return None
        b0, b1 = start // _ENV_BLOCK, -(-(start + n) // _ENV_BLOCK)
        t = (np.arange(b0, b1) * _ENV_BLOCK + _ENV_BLOCK / 2) / sr
        gain = 1.0 + np.sin(np.outer(t, 2.0 * np.pi * self.env_hz) + self.env_phase) @ self.env_depth
        blocks = np.maximum(gain, 0.15).astype(np.float32)
        skip = start - b0 * _ENV_BLOCK
        return np.repeat(blocks, _ENV_BLOCK)[skip : skip + n]

    def read(self, start: int, n: int) -> np.ndarray:
        size = self.bank.size
        i = (start + self.offset) % size
        if n > size:
            return np.take(self.bank, np.arange(i, i + n), mode="wrap")
        if i + n <= size:
            return self.bank[i : i + n]
        return np.concatenate((self.bank[i:], self.bank[: n - (size - i)]))


class AmbientBed:
    """The ambient sound of one session: 1-3 beds plus the recorder's own noise floor.

    ``segment(start, n)`` returns samples ``[start, start + n)`` of the session's continuous
    ambient signal (float32), identical whichever chunk asks for them.
    """

    def __init__(self, rng: np.random.Generator, pool: BankPool, beds: Sequence[str] | None = None) -> None:
        self.sample_rate = pool.sample_rate
        self._pool = pool
        if beds is None:
            count = int(rng.choice((1, 2, 3), p=(0.35, 0.45, 0.2)))
            beds = sorted(rng.choice(AMBIENT_BEDS, size=count, replace=False).tolist())
        unknown = set(beds) - set(AMBIENT_BEDS)
        if unknown:
            raise ValueError(f"unknown ambient beds {sorted(unknown)}; known: {AMBIENT_BEDS}")
        self.names: tuple[str, ...] = tuple(beds)
        self._layers = [self._layer(rng, name) for name in self.names]
        floor = pool.get("floor", int(rng.integers(0, pool.variants)))
        none = np.zeros(0)
        self._layers.append(
            _Layer(
                "floor",
                floor,
                int(rng.integers(0, floor.size)),
                10.0 ** (RECORDER_FLOOR_DBFS / 20.0),
                none,
                none,
                none,
            )
        )

    def _layer(self, rng: np.random.Generator, name: str) -> _Layer:
        bank = self._pool.get(name, int(rng.integers(0, self._pool.variants)))
        size = bank.size
        level = 10.0 ** (rng.uniform(*_LEVEL_DBFS[name]) / 20.0)
        # wind gusts are deep and slow; the other beds only breathe a little
        n_env, depth = (3, (0.2, 0.4)) if name == "wind" else (2, (0.03, 0.1))
        return _Layer(
            name=name,
            bank=bank,
            offset=int(rng.integers(0, size)),
            level=level,
            env_hz=rng.uniform(0.03, 0.25, n_env),
            env_depth=rng.uniform(*depth, n_env),
            env_phase=rng.uniform(0.0, 2.0 * np.pi, n_env),
        )

    def segment(self, start: int, n: int) -> np.ndarray:
        """Session samples ``[start, start + n)`` of the ambient mix (float32)."""
        out = np.zeros(n, dtype=np.float32)
        for layer in self._layers:
            part = layer.read(start, n) * np.float32(layer.level)
            env = layer.envelope(start, n, self.sample_rate)
            if env is not None:
                part *= env
            out += part
        return out
