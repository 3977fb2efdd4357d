"""Options of one simulated acoustic recorder: :class:`SoundscapeConfig`.

The format (32 kHz mono, 5 s chunks, as in BirdCLEF) is the kernel's: :mod:`fieldstream.modality`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldstream.modality import AUDIO_CHUNK_SECONDS
from producers.soundscape.ambience import AMBIENT_BEDS
from producers.soundscape.species import BASE_SPECIES_IDS, SPECIES_BY_ID


@dataclass(frozen=True)
class SoundscapeConfig:
    """What one simulated recorder produces.

    - ``sessions`` tours of ``chunks_per_session`` contiguous 5 s chunks each, back to back on the
      device clock (chunk ``g`` of the simulation is captured at ``start_time_ms + 5000 * g``).
    - ``species_pool``: species a session's local community is drawn from (default: all base
      species); ``community_size``: how many of them a session hosts (inclusive range).
    - ``call_density``: expected calls starting in a chunk that is not forced empty;
      ``empty_chunk_prob``: probability that a chunk is forced empty (ambient only). A chunk
      can also be empty when its Poisson draw is 0.
    - ``snr_db_range``: per-call in-band SNR against the ambient bed; every labelled part of a
      call has at least the lower bound (see ``scene``).
    - ``new_species`` joins every session's community from ``drift_at_s`` (seconds since the
      start of the simulation; ``None`` = from the start): chunks starting at or after it have
      ``drift_active`` and a share of their calls are the new species.
    - ``ambient``: force these beds in every session (default: 1-3 beds chosen per session).
    """

    device_id: str = "recorder-0"
    sessions: int = 1
    chunks_per_session: int = 12
    species_pool: tuple[str, ...] | None = None
    call_density: float = 1.5
    empty_chunk_prob: float = 0.15
    seed: int = 0
    new_species: str | None = None
    drift_at_s: float | None = None
    start_time_ms: int = 0
    snr_db_range: tuple[float, float] = (0.0, 20.0)
    ambient: tuple[str, ...] | None = None
    community_size: tuple[int, int] = (4, 8)

    def __post_init__(self) -> None:
        if not self.device_id:
            raise ValueError("device_id must not be empty")
        if self.sessions < 0 or self.chunks_per_session < 1:
            raise ValueError("sessions must be >= 0 and chunks_per_session >= 1")
        if self.call_density < 0 or not 0.0 <= self.empty_chunk_prob <= 1.0:
            raise ValueError("call_density must be >= 0 and empty_chunk_prob in [0, 1]")
        pool = self.pool
        if not pool or len(set(pool)) != len(pool):
            raise ValueError("species_pool must be a non-empty tuple of distinct ids")
        unknown = [s for s in (*pool, self.new_species) if s is not None and s not in SPECIES_BY_ID]
        if unknown:
            raise ValueError(f"unknown species {unknown}; known: {sorted(SPECIES_BY_ID)}")
        if self.new_species is not None and self.new_species in pool:
            raise ValueError(f"new_species {self.new_species!r} must not be in species_pool")
        if self.new_species is None and self.drift_at_s is not None:
            raise ValueError("drift_at_s needs new_species")
        lo, hi = self.snr_db_range
        if not -10.0 <= lo <= hi <= 40.0:
            raise ValueError("snr_db_range must satisfy -10 <= lo <= hi <= 40")
        if self.ambient is not None and (not self.ambient or set(self.ambient) - set(AMBIENT_BEDS)):
            raise ValueError(f"ambient must be a non-empty subset of {AMBIENT_BEDS}")
        c_lo, c_hi = self.community_size
        if not 1 <= c_lo <= c_hi:
            raise ValueError("community_size must satisfy 1 <= lo <= hi")

    @property
    def pool(self) -> tuple[str, ...]:
        """The species a session community is drawn from."""
        return BASE_SPECIES_IDS if self.species_pool is None else tuple(self.species_pool)

    @property
    def total_chunks(self) -> int:
        return self.sessions * self.chunks_per_session

    def session_id(self, session: int) -> str:
        return f"{self.device_id}-s{session:03d}"

    def chunk_id(self, session: int, chunk: int) -> str:
        return f"{self.session_id(session)}-c{chunk:04d}"

    def drift_active(self, index: int) -> bool:
        """Whether the new species may call in chunk ``index`` (its start is past ``drift_at_s``)."""
        if self.new_species is None:
            return False
        return self.drift_at_s is None or index * AUDIO_CHUNK_SECONDS >= self.drift_at_s
