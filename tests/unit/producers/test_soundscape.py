"""Unit tests of the soundscape simulator (producers/soundscape): determinism, label truth,
species catalogue, drift, WAV round trip and amplitude range. No services needed."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from fieldstream.modality import AUDIO_SAMPLE_RATE
from producers.config import AUDIO_CHUNK_SAMPLES
from producers.soundscape import (
    BASE_SPECIES_IDS,
    DRIFT_SPECIES_IDS,
    MIN_PART_S,
    SPECIES,
    SimulatedChunk,
    SoundscapeConfig,
    SoundscapeSimulator,
    decode_audio,
    encode_wav,
    get_species,
    render_dataset,
)
from producers.soundscape.rng import derive_rng

SR = AUDIO_SAMPLE_RATE


def _band_energy(x: np.ndarray, band: tuple[float, float]) -> float:
    """In-band energy of ``x`` by a plain FFT of exactly these samples (independent of the simulator's)."""
    spectrum = np.fft.rfft(x.astype(np.float64))
    freqs = np.fft.rfftfreq(x.size, 1.0 / SR)
    mask = (freqs >= band[0]) & (freqs <= band[1])
    return float(2.0 * np.sum(np.abs(spectrum[mask]) ** 2) / x.size)


def _labels(chunk: SimulatedChunk) -> tuple:
    return (
        chunk.chunk_id,
        chunk.captured_at_ms,
        chunk.species,
        chunk.calls,
        chunk.ambient,
        chunk.drift_active,
    )


@pytest.fixture(scope="module")
def audited() -> list[SimulatedChunk]:
    """Chunks of several devices and seeds, rendered with their ambient and calls components."""
    chunks = []
    for seed in range(4):
        sim = SoundscapeSimulator(SoundscapeConfig(device_id=f"rec-{seed}", seed=seed, sessions=2))
        chunks.extend(sim.render_chunk(i, components=True) for i in range(len(sim)))
    return chunks


def test_same_seed_gives_identical_bytes_and_labels_in_any_order() -> None:
    cfg = SoundscapeConfig(device_id="rec-a", seed=11, sessions=2, chunks_per_session=6)
    first = render_dataset(cfg, 12)
    again = list(SoundscapeSimulator(cfg).chunks())
    assert len(first) == len(again) == 12
    for a, b in zip(first, again, strict=True):
        assert a.waveform.tobytes() == b.waveform.tobytes()
        assert _labels(a) == _labels(b)
    # any chunk can be rendered on its own, out of order, and is the same
    fresh = SoundscapeSimulator(cfg)
    for index in (9, 3, 7):
        alone = fresh.render_chunk(index)
        assert alone.waveform.tobytes() == first[index].waveform.tobytes()
        assert _labels(alone) == _labels(first[index])


def test_different_seeds_and_devices_differ() -> None:
    base = SoundscapeConfig(device_id="rec-a", seed=1, chunks_per_session=4)
    variants = [base, dataclasses.replace(base, seed=2), dataclasses.replace(base, device_id="rec-b")]
    rendered = [render_dataset(cfg) for cfg in variants]
    for i in range(len(rendered)):
        for j in range(i + 1, len(rendered)):
            for a, b in zip(rendered[i], rendered[j], strict=True):
                assert not np.array_equal(a.waveform, b.waveform)
            assert [_labels(c)[2:] for c in rendered[i]] != [_labels(c)[2:] for c in rendered[j]]


def test_chunk_format_ids_and_times() -> None:
    cfg = SoundscapeConfig(
        device_id="rec-9", sessions=2, chunks_per_session=3, start_time_ms=1_700_000_000_000
    )
    chunks = render_dataset(cfg)
    assert [c.chunk_id for c in chunks] == [f"rec-9-s{s:03d}-c{k:04d}" for s in range(2) for k in range(3)]
    assert [c.session_id for c in chunks] == ["rec-9-s000"] * 3 + ["rec-9-s001"] * 3
    assert [c.index for c in chunks] == list(range(6))
    assert [c.captured_at_ms - cfg.start_time_ms for c in chunks] == [5000 * i for i in range(6)]
    for c in chunks:
        assert c.device_id == "rec-9" and c.sample_rate == SR == 32000
        assert c.waveform.dtype == np.float32 and c.waveform.shape == (AUDIO_CHUNK_SAMPLES,) == (160000,)
        assert c.species == tuple(sorted(set(c.species))) == tuple(sorted({e.species_id for e in c.calls}))
        assert c.ambient and all(b in ("wind", "rain", "stream", "insects") for b in c.ambient)
    assert len(list(SoundscapeSimulator(cfg).chunks(4))) == 4


def test_every_labelled_call_is_audible_in_its_chunk(audited: list[SimulatedChunk]) -> None:
    snr_lo = SoundscapeConfig().snr_db_range[0]
    # ambient + a call at snr_lo in its band is 10*log10(1 + 10**(snr_lo/10)) dB (3 dB at 0 dB) over
    # the ambient alone; allow 1 dB for the simulator's different band filter and the cross term
    min_excess_db = 10.0 * np.log10(1.0 + 10.0 ** (snr_lo / 10.0)) - 1.0
    events = 0
    for chunk in audited:
        assert chunk.ambient_part is not None and chunk.calls_part is not None
        np.testing.assert_array_equal(chunk.waveform, chunk.ambient_part + chunk.calls_part)
        for event in chunk.calls:
            a, b = round(event.start_s * SR), round(event.end_s * SR)
            assert 0 <= a < b <= AUDIO_CHUNK_SAMPLES
            band = get_species(event.species_id).band
            ambient = _band_energy(chunk.ambient_part[a:b], band)
            total = _band_energy(chunk.waveform[a:b], band)
            calls = _band_energy(chunk.calls_part[a:b], band)
            assert 10.0 * np.log10(total / ambient) > min_excess_db, (chunk.chunk_id, event)
            assert 10.0 * np.log10(calls / ambient) >= event.snr_db - 1.0, (chunk.chunk_id, event)
            assert event.snr_db >= snr_lo - 1e-6
            events += 1
    assert events >= 50


def test_unlabelled_chunks_and_spans_hold_no_call(audited: list[SimulatedChunk]) -> None:
    empty = [c for c in audited if not c.species]
    assert 5 <= len(empty) < len(audited) - 20  # both kinds occur
    for chunk in empty:
        assert chunk.calls == ()
        assert chunk.calls_part is not None and not np.any(chunk.calls_part)
        np.testing.assert_array_equal(chunk.waveform, chunk.ambient_part)
    for chunk in audited:  # call audio only where a labelled event is
        assert chunk.calls_part is not None
        covered = np.zeros(AUDIO_CHUNK_SAMPLES, dtype=bool)
        for event in chunk.calls:
            covered[round(event.start_s * SR) : round(event.end_s * SR)] = True
        assert not np.any(chunk.calls_part[~covered])
        assert covered.any() == bool(chunk.species) == bool(np.any(chunk.calls_part))


def test_calls_split_by_a_chunk_boundary_are_labelled_on_both_sides(audited: list[SimulatedChunk]) -> None:
    by_call: dict[str, list[tuple[SimulatedChunk, object]]] = {}
    for chunk in audited:
        for event in chunk.calls:
            by_call.setdefault(event.call_id, []).append((chunk, event))
            if event.truncated:
                assert event.end_s - event.start_s >= MIN_PART_S - 1e-9
    split = {cid: parts for cid, parts in by_call.items() if len(parts) > 1}
    assert split, "no call crossed a chunk boundary"
    for parts in split.values():
        (c1, e1), (c2, e2) = parts
        assert c2.index == c1.index + 1 and c1.session_id == c2.session_id
        assert e1.truncated and e2.truncated and e1.end_s == 5.0 and e2.start_s == 0.0
    for chunk in audited:  # the last chunk of a session never spills into the next session
        if chunk.session_index == 11:
            assert all(e.end_s < 5.0 or not e.truncated or e.start_s == 0.0 for e in chunk.calls)


def test_waveforms_stay_within_unit_range_even_when_loud() -> None:
    loud = SoundscapeConfig(seed=5, chunks_per_session=8, call_density=5.0, snr_db_range=(30.0, 40.0))
    peaks = []
    for chunk in [*render_dataset(loud), *render_dataset(SoundscapeConfig(seed=6, chunks_per_session=4))]:
        assert np.all(np.isfinite(chunk.waveform))
        peaks.append(float(np.max(np.abs(chunk.waveform))))
    assert max(peaks) <= 1.0
    assert max(peaks) > 0.5  # the loud config really is loud (and got limited, not clipped)


def test_catalogue_has_distinct_species_with_calls_in_their_band() -> None:
    assert len(BASE_SPECIES_IDS) >= 12 and 1 <= len(DRIFT_SPECIES_IDS) <= 2
    assert not set(BASE_SPECIES_IDS) & set(DRIFT_SPECIES_IDS)
    assert len({s.id for s in SPECIES}) == len({s.name for s in SPECIES}) == len(SPECIES)
    assert {s.taxon for s in SPECIES} == {"Aves", "Amphibia", "Insecta", "Mammalia"}
    for species in SPECIES:
        lo, hi = species.band
        assert 0 < lo < hi < SR / 2
        durations = set()
        for i in range(3):
            call = species.sample_call(derive_rng("test", species.id, i))
            assert call.dtype == np.float32 and np.max(np.abs(call)) == pytest.approx(1.0)
            assert 0.3 * SR < call.size < 4.0 * SR
            assert _band_energy(call, species.band) / _band_energy(call, (0.0, SR / 2)) > 0.95
            durations.add(call.size)
        assert len(durations) > 1, f"{species.id} has no per-call variation"


def _features(call: np.ndarray) -> np.ndarray:
    """Log spectral shape (32 log-spaced bands) + log envelope-modulation spectrum (8 octaves)."""
    power = np.abs(np.fft.rfft(call.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(call.size, 1.0 / SR)
    edges = np.geomspace(50.0, SR / 2, 33)
    spectral = np.array([power[(freqs >= a) & (freqs < b)].sum() for a, b in itertools.pairwise(edges)])
    hop = 64
    env = np.sqrt(np.mean(call[: call.size // hop * hop].reshape(-1, hop).astype(np.float64) ** 2, axis=1))
    mod = np.abs(np.fft.rfft(env - env.mean())) ** 2
    mod_freqs = np.fft.rfftfreq(env.size, hop / SR)
    mod_edges = 0.5 * 2.0 ** np.arange(9)
    modulation = np.array(
        [mod[(mod_freqs >= a) & (mod_freqs < b)].sum() for a, b in itertools.pairwise(mod_edges)]
    )
    return np.concatenate(
        [np.log10(spectral / spectral.sum() + 1e-6), np.log10(modulation / mod.sum() + 1e-6)]
    )


def test_species_calls_are_distinguishable() -> None:
    """A nearest-centroid classifier on simple spectral + modulation features tells all species
    apart from fresh calls, and band centres differ pairwise or the temporal patterns do."""
    ids = [s.id for s in SPECIES]
    train = {
        s.id: np.array([_features(s.sample_call(derive_rng("fit", s.id, i))) for i in range(6)])
        for s in SPECIES
    }
    centroids = np.array([train[i].mean(axis=0) for i in ids])
    scale = np.concatenate(list(train.values())).std(axis=0) + 1e-3
    correct = total = 0
    for label, species in enumerate(SPECIES):
        for i in range(5):
            x = _features(species.sample_call(derive_rng("eval", species.id, i)))
            guess = int(np.argmin(np.sum(((centroids - x) / scale) ** 2, axis=1)))
            correct += guess == label
            total += 1
    assert correct / total >= 0.95
    spread = np.sqrt(np.sum(((centroids[:, None] - centroids[None]) / scale) ** 2, axis=2))
    assert np.min(spread[~np.eye(len(ids), dtype=bool)]) > 1.0


def test_drift_species_only_after_drift_time() -> None:
    cfg = SoundscapeConfig(
        device_id="rec-d", seed=3, sessions=2, chunks_per_session=12, new_species="katydi1", drift_at_s=62.0
    )
    chunks = render_dataset(cfg)
    before = [c for c in chunks if c.captured_at_ms - cfg.start_time_ms < 62_000]
    after = [c for c in chunks if c.captured_at_ms - cfg.start_time_ms >= 62_000]
    assert len(before) == 13 and len(after) == 11  # 62 s falls inside chunk 12; it starts before
    assert not any(c.drift_active for c in before) and all(c.drift_active for c in after)
    assert all("katydi1" not in c.species for c in before)
    assert sum("katydi1" in c.species for c in after) >= 2
    # before the drift the stream is exactly the one without a new species
    plain = render_dataset(dataclasses.replace(cfg, new_species=None, drift_at_s=None), 13)
    assert all(a.waveform.tobytes() == b.waveform.tobytes() for a, b in zip(before, plain, strict=True))


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="unknown species"):
        SoundscapeConfig(species_pool=("nosuch",))
    with pytest.raises(ValueError, match="must not be in species_pool"):
        SoundscapeConfig(species_pool=("grhowl", "katydi1"), new_species="katydi1")
    with pytest.raises(ValueError, match="needs new_species"):
        SoundscapeConfig(drift_at_s=10.0)
    with pytest.raises(IndexError):
        SoundscapeSimulator(SoundscapeConfig(chunks_per_session=2)).render_chunk(2)


def test_species_pool_restricts_labels() -> None:
    pool = ("grhowl", "chispa", "dogcic1")
    chunks = render_dataset(SoundscapeConfig(seed=8, sessions=2, chunks_per_session=6, species_pool=pool))
    seen = {s for c in chunks for s in c.species}
    assert seen and seen <= set(pool)


def test_wav_round_trip_within_pcm16_quantisation() -> None:
    chunk = SoundscapeSimulator(SoundscapeConfig(seed=2)).render_chunk(1)
    data = encode_wav(chunk.waveform, chunk.sample_rate)
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) == 44 + 2 * AUDIO_CHUNK_SAMPLES
    decoded, rate = decode_audio(data)
    assert rate == SR and decoded.dtype == np.float32 and decoded.shape == chunk.waveform.shape
    assert np.max(np.abs(decoded - chunk.waveform)) <= 0.5 / 32768 + 1e-7
    assert chunk.to_wav() == data
    edge, _ = decode_audio(encode_wav(np.array([-1.0, 1.0, 0.0, 2.0], dtype=np.float32), 8000))
    np.testing.assert_allclose(edge, [-1.0, 32767 / 32768, 0.0, 32767 / 32768])
    with pytest.raises(ValueError):
        decode_audio(b"not audio at all")
