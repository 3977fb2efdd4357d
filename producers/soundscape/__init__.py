"""Acoustic-recorder simulator: BirdCLEF-like 32 kHz soundscapes in 5 s chunks with exact labels.

Usable without Kafka::

    from producers.soundscape import SoundscapeConfig, SoundscapeSimulator, encode_wav

    for chunk in SoundscapeSimulator(SoundscapeConfig(device_id="rec-7", sessions=2)).chunks():
        payload = encode_wav(chunk.waveform, chunk.sample_rate)
        labels = chunk.species  # sorted species ids; chunk.calls has the call events
"""

from producers.soundscape.ambience import AMBIENT_BEDS
from producers.soundscape.config import SoundscapeConfig
from producers.soundscape.scene import MIN_PART_S, band_energy, band_limit
from producers.soundscape.simulator import CallEvent, SimulatedChunk, SoundscapeSimulator, render_dataset
from producers.soundscape.species import (
    BASE_SPECIES_IDS,
    DRIFT_SPECIES_IDS,
    SPECIES,
    SPECIES_BY_ID,
    Species,
    get_species,
)
from producers.soundscape.wav import decode_audio, encode_wav

__all__ = [
    "AMBIENT_BEDS",
    "BASE_SPECIES_IDS",
    "DRIFT_SPECIES_IDS",
    "MIN_PART_S",
    "SPECIES",
    "SPECIES_BY_ID",
    "CallEvent",
    "SimulatedChunk",
    "SoundscapeConfig",
    "SoundscapeSimulator",
    "Species",
    "band_energy",
    "band_limit",
    "decode_audio",
    "encode_wav",
    "get_species",
    "render_dataset",
]
