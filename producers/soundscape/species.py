"""The parametric call catalogue: 12 base species and 2 drift-only species.

Each species owns a frequency band where (nearly) all of its call energy lies, whatever the
per-call jitter, and a generator with its own temporal pattern and timbre (sweeps, trills, pulse
trains, harmonic stacks, buzzes, chirp series). Ids follow the eBird-code style.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fieldstream.modality import AUDIO_SAMPLE_RATE
from producers.soundscape.synth import (
    CallBuilder,
    band_noise,
    harmonic_table,
    oscillate,
    periodic_am,
    smooth_random,
)

CallGenerator = Callable[[np.random.Generator, int], np.ndarray]

_OWL = harmonic_table((1.0, 0.35, 0.12, 0.05))
_BULLFROG = harmonic_table((0.7, 1.0, 0.6, 0.35, 0.15))
_DEER = harmonic_table(tuple(1.0 / (k + 1) ** 0.8 for k in range(14)))
_LOON = harmonic_table((1.0, 0.45, 0.2))


@dataclass(frozen=True)
class Species:
    """A vocalising species: stable id, common name, taxon class, call type and energy band (Hz)."""

    id: str
    name: str
    taxon: str
    call_type: str
    band: tuple[float, float]
    generator: CallGenerator = field(repr=False, compare=False)
    drift_only: bool = False

    @property
    def f_lo(self) -> float:
        return self.band[0]

    @property
    def f_hi(self) -> float:
        return self.band[1]

    def sample_call(self, rng: np.random.Generator, sample_rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
        """One call with fresh per-call jitter, peak-normalised to 1 (float32)."""
        wave = np.asarray(self.generator(rng, sample_rate), dtype=np.float32)
        return wave / np.float32(np.max(np.abs(wave)))


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _owl(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Soft harmonic hoots, 'hoo h-hoo hoo hoo', f0 ~310 Hz."""
    f0, d = 310.0 * _u(rng, 0.95, 1.05), _u(rng, 0.88, 1.12)
    durations = (0.26, 0.16, 0.16, 0.42, 0.38)[: int(rng.integers(4, 6))]
    gaps = (0.22, 0.07, 0.30, 0.28)
    b = CallBuilder(sr)
    for i, dur in enumerate(durations):
        if i:
            b.gap(gaps[i - 1] * d * _u(rng, 0.9, 1.1))
        b.note(dur * d * _u(rng, 0.92, 1.08), f0 * 1.02, f0 * 0.96, shape="soft")
    return b.render(_OWL)


def _bullfrog(rng: np.random.Generator, sr: int) -> np.ndarray:
    """'Jug-o-rum': pulsed low harmonic drone, f0 ~190 Hz, 11-15 pulses/s."""
    f0, rate = 190.0 * _u(rng, 0.95, 1.05), _u(rng, 11.0, 15.0)
    b = CallBuilder(sr)
    for i in range(int(rng.integers(1, 4))):
        if i:
            b.gap(_u(rng, 0.3, 0.5))
        b.note(_u(rng, 0.55, 0.85), f0 * 1.03, f0 * 0.97, shape="soft")
    wave = b.render(_BULLFROG)
    return wave * periodic_am(wave.size, rate, sr, 2.0)


def _toad(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Long musical trill: a 1.75 kHz tone pulsed 36-42 times a second for 2-3 s."""
    f0, rate = 1750.0 * _u(rng, 0.96, 1.04), _u(rng, 36.0, 42.0)
    wave = CallBuilder(sr).note(_u(rng, 2.0, 3.0), f0, f0 * 0.98, shape="flat").render()
    ramp = np.minimum(1.0, np.arange(wave.size) / (0.3 * sr))
    return wave * periodic_am(wave.size, rate, sr, 4.0) * ramp


def _peeper(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Series of short up-slurred peeps 2.55 -> 3.0 kHz."""
    p = _u(rng, 0.96, 1.04)
    b = CallBuilder(sr)
    for i in range(int(rng.integers(3, 6))):
        if i:
            b.gap(_u(rng, 0.4, 0.6))
        b.note(_u(rng, 0.12, 0.16), 2550.0 * p, 3000.0 * p, curve=0.7, shape="soft")
    return b.render()


def _cardinal(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Repeated down-slurred whistles 4.3 -> 2.05 kHz ('cheer cheer cheer')."""
    p, dur, gap = _u(rng, 0.96, 1.04), _u(rng, 0.10, 0.14), _u(rng, 0.05, 0.08)
    b = CallBuilder(sr)
    for i in range(int(rng.integers(5, 9))):
        if i:
            b.gap(gap * _u(rng, 0.9, 1.1))
        b.note(dur, 4300.0 * p, 2050.0 * p, curve=0.6, shape="hann")
    return b.render()


def _chickadee(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Two-note pure whistle 'fee-bee' (3.95 kHz then 3.38 kHz), sometimes repeated."""
    p = _u(rng, 0.97, 1.03)
    b = CallBuilder(sr)
    for i in range(1 if rng.random() < 0.5 else 2):
        if i:
            b.gap(_u(rng, 0.5, 0.8))
        b.note(_u(rng, 0.28, 0.36), 3950.0 * p, 3880.0 * p, shape="flat")
        b.gap(_u(rng, 0.03, 0.05))
        b.note(_u(rng, 0.36, 0.46), 3380.0 * p, 3330.0 * p, shape="flat")
    return b.render()


def _pewee(rng: np.random.Generator, sr: int) -> np.ndarray:
    """One or two slow, accelerating up-sweeps 3.0 -> 5.3 kHz."""
    p = _u(rng, 0.96, 1.04)
    b = CallBuilder(sr)
    for i in range(int(rng.integers(1, 3))):
        if i:
            b.gap(_u(rng, 0.4, 0.6))
        b.note(_u(rng, 0.45, 0.65), 3000.0 * p, 5300.0 * p, curve=2.0, shape="soft")
    return b.render()


def _sparrow(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Dry trill: 14 ms down-chirps 6.0 -> 4.6 kHz repeated 15-19 times a second."""
    p, rate = _u(rng, 0.97, 1.03), _u(rng, 15.0, 19.0)
    b = CallBuilder(sr)
    for i in range(int(_u(rng, 1.2, 2.0) * rate)):
        if i:
            b.gap(1.0 / rate - 0.014)
        b.note(0.014, 6000.0 * p, 4600.0 * p, shape="hann", level=min(1.0, 0.4 + 0.15 * i))
    return b.render()


def _creeper(rng: np.random.Generator, sr: int) -> np.ndarray:
    """High thin 'see' notes wandering between 7.1 and 8.2 kHz."""
    p = _u(rng, 0.97, 1.03)
    b = CallBuilder(sr)
    high = True
    for i in range(int(rng.integers(4, 7))):
        if i:
            b.gap(_u(rng, 0.04, 0.10))
        a, z = _u(rng, 7800.0, 8200.0) * p, _u(rng, 7100.0, 7500.0) * p
        b.note(_u(rng, 0.08, 0.15), a if high else z, z if high else a, shape="soft")
        high = not high
    return b.render()


def _cricket(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Chirps of 3-4 pure 4.6 kHz pulses, about three chirps a second."""
    f0, period = 4600.0 * _u(rng, 0.97, 1.03), _u(rng, 0.28, 0.38)
    b = CallBuilder(sr)
    for i in range(int(rng.integers(4, 9))):
        pulses = int(rng.integers(3, 5))
        if i:
            b.gap(period - pulses * 0.028 + 0.012)
        for j in range(pulses):
            if j:
                b.gap(0.012)
            b.note(0.016, f0, shape="hann")
    return b.render()


def _cicada(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Loud rattling buzz: 9-11.6 kHz noise modulated at ~200 Hz, swelling and fading."""
    p, n = _u(rng, 0.97, 1.03), int(_u(rng, 2.2, 3.4) * sr)
    noise = band_noise(rng, n, 9000.0 * p, 11600.0 * p, sr)
    t = np.arange(n) / sr
    rise, fall = _u(rng, 0.4, 0.7), _u(rng, 0.6, 1.0)
    swell = np.minimum(1.0, np.minimum(t / rise, (t[-1] - t) / fall)) ** 1.5
    return noise * periodic_am(n, _u(rng, 170.0, 220.0), sr, 1.0) * swell


def _deer(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Rough, falling low grunts rich in harmonics, f0 118 -> 82 Hz."""
    p = _u(rng, 0.95, 1.05)
    b = CallBuilder(sr)
    for i in range(int(rng.integers(1, 4))):
        if i:
            b.gap(_u(rng, 0.3, 0.5))
        b.note(_u(rng, 0.6, 1.0), 118.0 * p, 82.0 * p, curve=0.8, shape="soft")
    wave = b.render(_DEER)
    rough = 1.0 + 0.35 * np.clip(smooth_random(rng, wave.size, 30.0, sr), -2.0, 2.0)
    return wave * rough


def _katydid(rng: np.random.Generator, sr: int) -> np.ndarray:
    """'Ka-ty-did': groups of 2-3 raspy noise pulses at 12-14.6 kHz."""
    p = _u(rng, 0.98, 1.02)
    b = CallBuilder(sr)
    for i in range(int(rng.integers(3, 6))):
        pulses = int(rng.integers(2, 4))
        if i:
            b.gap(_u(rng, 0.2, 0.3))
        for j in range(pulses):
            if j:
                b.gap(_u(rng, 0.025, 0.04))
            b.note(_u(rng, 0.04, 0.06), 1.0, shape="flat")
    amp = b.amplitude
    return band_noise(rng, amp.size, 12000.0 * p, 14600.0 * p, sr) * amp


def _loon(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Long wail: harmonic tone rising 650 -> 980 Hz, then held with slow vibrato."""
    p = _u(rng, 0.96, 1.04)
    b = CallBuilder(sr)
    b.note(_u(rng, 0.35, 0.5), 650.0 * p, 980.0 * p, curve=0.5, shape="flat")
    b.note(_u(rng, 1.2, 2.0), 980.0 * p, 950.0 * p, shape="flat")
    freq, amp = b.frequency, b.amplitude
    vibrato = 1.0 + 0.015 * np.sin(2.0 * np.pi * _u(rng, 4.0, 6.0) * np.arange(freq.size) / sr)
    fade = np.minimum(1.0, (freq.size - np.arange(freq.size)) / (0.25 * sr))
    return oscillate(freq * vibrato, sr, _LOON) * amp * fade


SPECIES: tuple[Species, ...] = (
    Species("grhowl", "Great Horned Owl", "Aves", "harmonic hoot series", (250.0, 1450.0), _owl),
    Species("amebul", "American Bullfrog", "Amphibia", "pulsed harmonic drone", (140.0, 1100.0), _bullfrog),
    Species("amtoad", "American Toad", "Amphibia", "pulse-train trill", (1450.0, 2100.0), _toad),
    Species("sprpee", "Spring Peeper", "Amphibia", "up-slurred peep series", (2300.0, 3350.0), _peeper),
    Species("norcar", "Northern Cardinal", "Aves", "down FM sweep series", (1850.0, 4600.0), _cardinal),
    Species("bkcchi", "Black-capped Chickadee", "Aves", "two-note whistle", (3100.0, 4200.0), _chickadee),
    Species("eawpew", "Eastern Wood-Pewee", "Aves", "up FM sweep", (2750.0, 5650.0), _pewee),
    Species("chispa", "Chipping Sparrow", "Aves", "dry trill", (4250.0, 6450.0), _sparrow),
    Species("fiecri1", "Fall Field Cricket", "Insecta", "pulsed chirp series", (4250.0, 4950.0), _cricket),
    Species("brncre", "Brown Creeper", "Aves", "high thin note series", (6700.0, 8700.0), _creeper),
    Species("dogcic1", "Dog-day Cicada", "Insecta", "noisy buzz", (8300.0, 12400.0), _cicada),
    Species("reddee1", "Red Deer", "Mammalia", "low harmonic grunt", (70.0, 1800.0), _deer),
    Species(
        "katydi1", "Common True Katydid", "Insecta", "rasp pulse groups", (11300.0, 15300.0), _katydid, True
    ),
    Species("comloo", "Common Loon", "Aves", "harmonic wail", (560.0, 3250.0), _loon, True),
)

SPECIES_BY_ID: dict[str, Species] = {s.id: s for s in SPECIES}
BASE_SPECIES_IDS: tuple[str, ...] = tuple(s.id for s in SPECIES if not s.drift_only)
DRIFT_SPECIES_IDS: tuple[str, ...] = tuple(s.id for s in SPECIES if s.drift_only)


def get_species(species_id: str) -> Species:
    """The catalogue entry for ``species_id`` (``KeyError`` with the known ids otherwise)."""
    try:
        return SPECIES_BY_ID[species_id]
    except KeyError:
        raise KeyError(f"unknown species {species_id!r}; known: {sorted(SPECIES_BY_ID)}") from None
