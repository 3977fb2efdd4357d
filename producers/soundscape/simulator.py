"""The acoustic-recorder simulator: sessions of contiguous 5 s chunks with exact ground truth."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fieldstream.modality import AUDIO_SAMPLE_RATE
from producers.config import AUDIO_CHUNK_MS, AUDIO_CHUNK_SAMPLES
from producers.soundscape.config import SoundscapeConfig
from producers.soundscape.rng import derive_rng
from producers.soundscape.scene import ScenePlanner
from producers.soundscape.species import get_species
from producers.soundscape.wav import encode_wav

PEAK_LIMIT = 0.98  # a chunk whose mix would peak above this is scaled down as a whole


@dataclass(frozen=True)
class CallEvent:
    """One call (or the part of it) inside a chunk; times in seconds from the chunk start."""

    species_id: str
    start_s: float
    end_s: float
    snr_db: float
    call_id: str
    truncated: bool = False  # the call goes on in the previous or next chunk


@dataclass(frozen=True, eq=False)
class SimulatedChunk:
    """A 5 s, 32 kHz mono chunk and its ground truth.

    ``species`` is the sorted set of species with a labelled call in the chunk (see the rule in
    ``producers.soundscape.scene``). ``ambient_part`` / ``calls_part`` are only filled by
    ``render_chunk(..., components=True)``; ``waveform == ambient_part + calls_part`` then.
    """

    device_id: str
    session_id: str
    chunk_id: str
    index: int
    session_index: int
    captured_at_ms: int
    sample_rate: int
    waveform: np.ndarray = field(repr=False)
    species: tuple[str, ...]
    calls: tuple[CallEvent, ...]
    ambient: tuple[str, ...]
    drift_active: bool
    ambient_part: np.ndarray | None = field(default=None, repr=False)
    calls_part: np.ndarray | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return self.waveform.size / self.sample_rate

    def to_wav(self) -> bytes:
        """The chunk as PCM16 WAV bytes."""
        return encode_wav(self.waveform, self.sample_rate)

    def ground_truth(self) -> dict[str, Any]:
        """JSON-ready ground truth (ids, time, species with names and taxa, call events, ambience)."""
        return {
            "device_id": self.device_id,
            "session_id": self.session_id,
            "chunk_id": self.chunk_id,
            "captured_at": self.captured_at_ms,
            "species": [
                {"id": s, "name": get_species(s).name, "taxon": get_species(s).taxon} for s in self.species
            ],
            "calls": [
                {"species_id": c.species_id, "start_s": c.start_s, "end_s": c.end_s, "snr_db": c.snr_db}
                for c in self.calls
            ],
            "ambient": list(self.ambient),
            "drift_active": self.drift_active,
        }


class SoundscapeSimulator:
    """Renders the chunks a ``SoundscapeConfig`` describes; any chunk can be rendered on its own.

    Chunk ``index`` ``g`` is chunk ``g % chunks_per_session`` of session ``g // chunks_per_session``.
    The same config gives bit-identical waveforms and labels on every run and in any order.
    """

    def __init__(self, config: SoundscapeConfig | None = None) -> None:
        self.config = config or SoundscapeConfig()
        rng = functools.partial(derive_rng, "soundscape-v1", self.config.seed, self.config.device_id)
        self._planner = ScenePlanner(self.config, rng)

    def __len__(self) -> int:
        return self.config.total_chunks

    def chunks(self, count: int | None = None) -> Iterator[SimulatedChunk]:
        """The first ``count`` chunks (default: all ``sessions * chunks_per_session``), in order."""
        total = self.config.total_chunks if count is None else min(count, self.config.total_chunks)
        for index in range(total):
            yield self.render_chunk(index)

    def render_chunk(self, index: int, *, components: bool = False) -> SimulatedChunk:
        """Chunk ``index`` of the simulation; with ``components`` also its ambient and calls parts."""
        cfg = self.config
        if not 0 <= index < cfg.total_chunks:
            raise IndexError(f"chunk index {index} outside [0, {cfg.total_chunks})")
        s, k = divmod(index, cfg.chunks_per_session)
        scene = self._planner.session(s)
        base = k * AUDIO_CHUNK_SAMPLES
        ambient = scene.ambient.segment(base, AUDIO_CHUNK_SAMPLES)
        calls_part = np.zeros(AUDIO_CHUNK_SAMPLES, dtype=np.float32)
        events = []
        for call in self._planner.calls_in_chunk(s, k):
            a, b = max(call.start, base), min(call.end, base + AUDIO_CHUNK_SAMPLES)
            calls_part[a - base : b - base] += call.wave[a - call.start : b - call.start]
            events.append(
                CallEvent(
                    species_id=call.species_id,
                    start_s=(a - base) / AUDIO_SAMPLE_RATE,
                    end_s=(b - base) / AUDIO_SAMPLE_RATE,
                    snr_db=round(call.part_snr_db(k), 3),
                    call_id=call.call_id,
                    truncated=call.start < base or call.end > base + AUDIO_CHUNK_SAMPLES,
                )
            )
        waveform = ambient + calls_part
        peak = float(np.max(np.abs(waveform)))
        if peak > PEAK_LIMIT:
            scale = np.float32(PEAK_LIMIT / peak)
            ambient *= scale
            calls_part *= scale
            waveform = ambient + calls_part
        for array in (waveform, ambient, calls_part):
            array.setflags(write=False)
        events.sort(key=lambda e: (e.start_s, e.species_id, e.call_id))
        return SimulatedChunk(
            device_id=cfg.device_id,
            session_id=scene.session_id,
            chunk_id=cfg.chunk_id(s, k),
            index=index,
            session_index=k,
            captured_at_ms=cfg.start_time_ms + index * AUDIO_CHUNK_MS,
            sample_rate=AUDIO_SAMPLE_RATE,
            waveform=waveform,
            species=tuple(sorted({e.species_id for e in events})),
            calls=tuple(events),
            ambient=scene.ambient.names,
            drift_active=cfg.drift_active(index),
            ambient_part=ambient if components else None,
            calls_part=calls_part if components else None,
        )


def render_dataset(config: SoundscapeConfig, count: int | None = None) -> list[SimulatedChunk]:
    """All (or the first ``count``) chunks of ``config`` as a list."""
    return list(SoundscapeSimulator(config).chunks(count))
