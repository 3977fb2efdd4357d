"""Placing calls on a session's timeline, scaling them to an SNR, and the labelling rule.

Timeline. A session is one continuous recording; chunk ``k`` covers session samples
``[k*N, (k+1)*N)`` with ``N = 160000``. Chunk ``k`` "owns" the calls that start inside it; their
number, species, SNR, position and waveform come from generators keyed by (seed, device,
session, k, ...), so any chunk is rendered from its own slot plus the calls of slot ``k - 1``
that spill into it (calls last < 5 s, so only the previous slot can spill).

Placement. A call may spill over the end of its chunk only when the next chunk of the same
session owns calls too (an empty chunk stays pure ambience), and then so that each side holds at
least ``MIN_PART_S``; otherwise it is placed wholly inside its chunk.

SNR. ``snr_db`` of a call is the ratio, in the species' band ``[f_lo, f_hi]``, of the call's
energy to the ambient bed's energy over the same samples. For a call split by a chunk boundary
the gain makes the *weaker part* reach the drawn SNR (when that would boost the call by more than
``MAX_SPLIT_BOOST_DB`` over its whole-call gain, the call is moved wholly inside its chunk).

Labelling rule. A call is labelled in every chunk that holds a part of it. By the placement
and gain rules above, every such part lasts at least ``MIN_PART_S`` (or the whole call) and has
an in-band SNR of at least ``snr_db_range[0]`` over its span, and chunks with no label hold no
call energy at all. ``CallEvent.snr_db`` is the SNR of the part inside the chunk.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from fieldstream.modality import AUDIO_SAMPLE_RATE
from producers.config import AUDIO_CHUNK_SAMPLES
from producers.soundscape.ambience import AmbientBed, BankPool
from producers.soundscape.config import SoundscapeConfig
from producers.soundscape.species import get_species

MIN_PART_S = 0.25
MAX_SPLIT_BOOST_DB = 6.0
MAX_CALLS_PER_CHUNK = 6
DRIFT_CALL_SHARE = 0.35  # share of calls that are the new species while drift is active

RngFactory = Callable[..., np.random.Generator]


@dataclass(frozen=True)
class SessionScene:
    """A session's local community (species and their calling weights) and its ambient bed."""

    index: int
    session_id: str
    community: tuple[str, ...]
    weights: tuple[float, ...]
    ambient: AmbientBed


@dataclass(frozen=True, eq=False)
class PlacedCall:
    """A call on the session timeline: ``wave`` (already scaled) starts at session sample ``start``."""

    call_id: str
    species_id: str
    start: int
    wave: np.ndarray
    snr_db: float
    parts: tuple[tuple[int, float], ...]  # (chunk index in session, in-band SNR of that part)

    @property
    def end(self) -> int:
        return self.start + self.wave.size

    def part_snr_db(self, chunk: int) -> float:
        return dict(self.parts)[chunk]


def _band_spectrum(x: np.ndarray, band: tuple[float, float]) -> tuple[np.ndarray, int]:
    nfft = sfft.next_fast_len(x.size, real=True)
    spectrum = sfft.rfft(x, nfft)
    k_lo = int(np.ceil(band[0] * nfft / AUDIO_SAMPLE_RATE))
    k_hi = int(np.floor(band[1] * nfft / AUDIO_SAMPLE_RATE)) + 1
    spectrum[:k_lo] = 0.0
    spectrum[k_hi:] = 0.0
    return spectrum, nfft


def band_energy(x: np.ndarray, band: tuple[float, float]) -> float:
    """Energy (sum of squares) of ``x`` inside ``band`` (Hz), by Parseval on a zero-padded FFT."""
    spectrum, nfft = _band_spectrum(np.asarray(x, dtype=np.float64), band)
    return float(2.0 * np.sum(spectrum.real**2 + spectrum.imag**2) / nfft)


def band_limit(x: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """``x`` with everything outside ``band`` removed (brick-wall FFT filter, zero-padded)."""
    spectrum, nfft = _band_spectrum(np.asarray(x, dtype=np.float64), band)
    return sfft.irfft(spectrum, nfft)[: x.size]


class ScenePlanner:
    """Deterministic call plans for one config; caches the last few sessions and slots."""

    def __init__(self, config: SoundscapeConfig, rng: RngFactory) -> None:
        self.config = config
        self._rng = rng
        self._pool = BankPool(rng, AUDIO_SAMPLE_RATE)
        self._sessions: OrderedDict[int, SessionScene] = OrderedDict()
        self._slots: OrderedDict[tuple[int, int], tuple[PlacedCall, ...]] = OrderedDict()

    def session(self, s: int) -> SessionScene:
        if s not in self._sessions:
            rng = self._rng("session", s)
            pool = self.config.pool
            lo, hi = self.config.community_size
            size = int(rng.integers(min(lo, len(pool)), min(hi, len(pool)) + 1))
            community = tuple(sorted(rng.choice(pool, size=size, replace=False).tolist()))
            weights = tuple(rng.dirichlet(np.full(size, 2.0)).tolist())
            ambient = AmbientBed(rng, self._pool, self.config.ambient)
            self._sessions[s] = SessionScene(s, self.config.session_id(s), community, weights, ambient)
            while len(self._sessions) > 2:
                self._sessions.popitem(last=False)
        return self._sessions[s]

    def call_count(self, s: int, k: int) -> int:
        """How many calls start in chunk ``k`` of session ``s`` (0: the chunk is ambient only)."""
        if not 0 <= k < self.config.chunks_per_session:
            return 0
        rng = self._rng("count", s, k)
        if rng.random() < self.config.empty_chunk_prob:
            return 0
        return min(int(rng.poisson(self.config.call_density)), MAX_CALLS_PER_CHUNK)

    def calls_in_chunk(self, s: int, k: int) -> list[PlacedCall]:
        """Calls sounding in chunk ``k``: its own and those of chunk ``k - 1`` spilling into it."""
        spill = [c for c in self.slot(s, k - 1) if c.end > k * AUDIO_CHUNK_SAMPLES] if k > 0 else []
        return spill + list(self.slot(s, k))

    def slot(self, s: int, k: int) -> tuple[PlacedCall, ...]:
        key = (s, k)
        if key not in self._slots:
            self._slots[key] = self._plan_slot(s, k)
            while len(self._slots) > 4:
                self._slots.popitem(last=False)
        return self._slots[key]

    def _plan_slot(self, s: int, k: int) -> tuple[PlacedCall, ...]:
        count = self.call_count(s, k)
        if count == 0:
            return ()
        cfg = self.config
        scene = self.session(s)
        rng = self._rng("calls", s, k)
        drift = cfg.drift_active(s * cfg.chunks_per_session + k)
        can_spill = self.call_count(s, k + 1) > 0
        placed = []
        for i in range(count):
            if drift and rng.random() < DRIFT_CALL_SHARE:
                species_id = str(cfg.new_species)
            else:
                species_id = scene.community[int(rng.choice(len(scene.community), p=scene.weights))]
            snr_db = float(rng.uniform(*cfg.snr_db_range))
            position = float(rng.random())
            wave = get_species(species_id).sample_call(self._rng("call", s, k, i), AUDIO_SAMPLE_RATE)
            call_id = f"{cfg.chunk_id(s, k)}-e{i}"
            placed.append(self._place(scene, k, call_id, species_id, wave, snr_db, position, can_spill))
        return tuple(placed)

    def _place(
        self,
        scene: SessionScene,
        k: int,
        call_id: str,
        species_id: str,
        wave: np.ndarray,
        snr_db: float,
        position: float,
        can_spill: bool,
    ) -> PlacedCall:
        n, base = wave.size, k * AUDIO_CHUNK_SAMPLES
        min_part = int(MIN_PART_S * AUDIO_SAMPLE_RATE)
        inside = base + int(position * (AUDIO_CHUNK_SAMPLES - n))
        start = inside
        if can_spill and n >= 2 * min_part:
            start = base + int(position * (AUDIO_CHUNK_SAMPLES - min_part))
            spill = start + n - (base + AUDIO_CHUNK_SAMPLES)
            if 0 < spill < min_part:
                start -= spill
        fitted = self._fit(scene, species_id, wave, start, snr_db, k)
        if fitted is None:
            start = inside
            fitted = self._fit(scene, species_id, wave, start, snr_db, k)
            assert fitted is not None  # a call wholly inside its chunk always fits
        gain, parts = fitted
        scaled = (wave * np.float32(gain)).astype(np.float32)
        scaled.setflags(write=False)
        return PlacedCall(call_id, species_id, start, scaled, snr_db, parts)

    def _fit(
        self, scene: SessionScene, species_id: str, wave: np.ndarray, start: int, snr_db: float, k: int
    ) -> tuple[float, tuple[tuple[int, float], ...]] | None:
        """Gain putting the weakest chunk part of the call at ``snr_db``, with each part's SNR."""
        band = get_species(species_id).band
        ambient = scene.ambient.segment(start, wave.size)
        cut = (k + 1) * AUDIO_CHUNK_SAMPLES - start
        if cut >= wave.size:  # wholly inside chunk k
            ratio = band_energy(ambient, band) / band_energy(wave, band)
            return float(np.sqrt(10.0 ** (snr_db / 10.0) * ratio)), ((k, snr_db),)
        call_b, amb_b = band_limit(wave, band), band_limit(ambient, band)
        e_call = np.array([np.sum(call_b[:cut] ** 2), np.sum(call_b[cut:] ** 2)])
        e_amb = np.array([np.sum(amb_b[:cut] ** 2), np.sum(amb_b[cut:] ** 2)])
        if np.any(e_call <= 0.0):
            return None
        ratios = e_amb / e_call
        worst = float(ratios.max())
        if 10.0 * np.log10(worst * e_call.sum() / e_amb.sum()) > MAX_SPLIT_BOOST_DB:
            return None
        g2 = 10.0 ** (snr_db / 10.0) * worst
        parts = tuple((k + j, float(10.0 * np.log10(g2 / ratios[j]))) for j in range(2))
        return float(np.sqrt(g2)), parts
