"""Unit tests of the audio replayer (producers/replay/audio.py, birdclef.py, audio_files.py): mono
mix, exact-ratio resampling in segments, 5 s chunking and its tail rule, BirdCLEF csv parsing, and
the record source with a corrupt file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from scipy.signal import resample_poly

from fieldstream.contracts import decode_audio
from fieldstream.topics import AUDIO_RAW
from producers.errors import DatasetError
from producers.replay import BirdclefLabels, chunk_stream, file_chunks, replay_audio, resample_stream
from producers.replay.audio import expected_chunks, resample_ratio, to_mono
from producers.replay.audio_files import estimate_chunks, find_audio_files, session_ids
from producers.replay.birdclef import parse_secondary_labels, read_taxonomy, read_train_csv
from producers.soundscape import decode_audio as decode_wav
from producers.summary import SkippedInput

SR = 32_000


def _tone(freq: float, rate: int, seconds: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    wave = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave


def test_exact_rational_ratios():
    assert resample_ratio(44_100) == (320, 441)
    assert resample_ratio(48_000) == (2, 3)
    assert resample_ratio(22_050) == (640, 441)
    assert resample_ratio(32_000) == (1, 1)
    with pytest.raises(ValueError):
        resample_ratio(0)


def test_mono_is_the_mean_of_channels():
    stereo = np.array([[1.0, 0.0], [0.5, -0.5], [0.25, 0.75]], dtype=np.float32)
    assert to_mono(stereo).tolist() == [0.5, 0.0, 0.5]
    assert to_mono(stereo[:, :1]).tolist() == [1.0, 0.5, 0.25]


@pytest.mark.parametrize("rate", [44_100, 48_000, 22_050, 8_000, 96_000, 32_000])
def test_segmented_resampling_equals_whole_file_resampling(rate):
    rng = np.random.default_rng(rate)
    x = rng.uniform(-0.5, 0.5, int(rate * 19.3) + 7).astype(np.float32)
    up, down = resample_ratio(rate)
    whole = resample_poly(x.astype(np.float64), up, down)
    blocks = [x[i : i + 10_007] for i in range(0, x.size, 10_007)]
    pieces = np.concatenate(list(resample_stream(blocks, rate)))
    assert pieces.size == whole.size == -(-x.size * up // down)
    np.testing.assert_allclose(pieces, whole, atol=2e-5)


def test_a_1khz_tone_keeps_its_frequency_after_resampling():
    for rate in (44_100, 48_000, 16_000):
        out = np.concatenate(list(resample_stream([_tone(1000.0, rate, 2.0)], rate)))
        spectrum = np.abs(np.fft.rfft(out[SR // 4 : SR // 4 + SR] * np.hanning(SR)))
        assert np.fft.rfftfreq(SR, 1 / SR)[np.argmax(spectrum)] == pytest.approx(1000.0, abs=1.0)
        assert float(np.sqrt(np.mean(out[1000:-1000] ** 2))) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_chunking_pads_a_tail_of_at_least_1s_and_drops_a_shorter_one():
    signal = np.ones(2 * 160_000 + 40_000, dtype=np.float32)
    pieces = [signal[i : i + 12_345] for i in range(0, signal.size, 12_345)]
    chunks = list(chunk_stream(pieces))
    assert [c.size for c in chunks] == [160_000] * 3
    assert chunks[2][:40_000].min() == 1.0 and not chunks[2][40_000:].any()
    assert len(list(chunk_stream([np.ones(160_000 + 31_999, dtype=np.float32)]))) == 1
    assert list(chunk_stream([np.ones(31_999, dtype=np.float32)])) == []
    assert expected_chunks(12 * 44_100, 44_100) == 3 and expected_chunks(44_000, 44_100) == 0


def test_a_44k1_stereo_12s_file_gives_3_mono_32k_chunks_the_last_padded(tmp_path):
    path = tmp_path / "stereo.wav"
    soundfile.write(path, _tone(1000.0, 44_100, 12.0, channels=2), 44_100, subtype="PCM_16")
    chunks = list(file_chunks(path))
    assert len(chunks) == 3 and all(c.shape == (160_000,) and c.dtype == np.float32 for c in chunks)
    assert np.abs(chunks[2][: 2 * SR - 100]).max() > 0.4  # 2 s of tone ...
    assert np.abs(chunks[2][2 * SR + 100 :]).max() == 0.0  # ... then zero padding


def test_birdclef_csv_parsing(tmp_path):
    assert parse_secondary_labels("['amecro', 'bkcchi']") == ["amecro", "bkcchi"]
    assert parse_secondary_labels("[]") == parse_secondary_labels("['']") == parse_secondary_labels("") == []
    with pytest.raises(ValueError):
        parse_secondary_labels("[amecro")
    (tmp_path / "train.csv").write_text(
        "primary_label,secondary_labels,type,filename,common_name\n"
        "asbfly,\"['grewar3', 'asbfly']\",['call'],asbfly/XC134896.ogg,Asian Brown Flycatcher\n"
        "bkcchi,[],['song'],bkcchi/XC1.ogg,Black-capped Chickadee\n"
    )
    (tmp_path / "taxonomy.csv").write_text(
        "primary_label,common_name\nasbfly,Asian Brown Flycatcher\nbkcchi,Chickadee\n"
    )
    rows = read_train_csv(tmp_path / "train.csv")
    assert rows == {"asbfly/XC134896.ogg": ("asbfly", "grewar3"), "bkcchi/XC1.ogg": ("bkcchi",)}
    assert read_taxonomy(tmp_path / "taxonomy.csv")["bkcchi"] == "Chickadee"
    labels = BirdclefLabels.find(tmp_path / "train_audio")  # found in the parent
    assert labels is not None and labels.unknown_species() == {"grewar3"}
    root = tmp_path / "train_audio"
    assert labels.species_for(root / "asbfly/XC134896.ogg", root) == ("asbfly", "grewar3")
    assert labels.species_for(root / "other/XC9.ogg", root) is None
    (tmp_path / "bad" / "train.csv").parent.mkdir()
    (tmp_path / "bad" / "train.csv").write_text("label,file\n")
    with pytest.raises(DatasetError, match="lacks columns"):
        read_train_csv(tmp_path / "bad" / "train.csv")


def test_session_ids_are_stems_made_unique():
    from pathlib import Path

    files = [Path("a/x.ogg"), Path("b/x.ogg"), Path("b/y.wav")]
    assert session_ids(files) == {files[0]: "x", files[1]: "b-x", files[2]: "y"}


def test_replay_audio_source_chunks_labels_and_a_corrupt_file(tmp_path):
    root = tmp_path / "train_audio"
    (root / "sp1").mkdir(parents=True)
    soundfile.write(root / "sp1" / "rec1.flac", _tone(800.0, 48_000, 7.0), 48_000)
    soundfile.write(root / "sp1" / "short.wav", _tone(800.0, 16_000, 0.5), 16_000)
    (root / "sp1" / "broken.ogg").write_bytes(b"OggS" + b"\x00" * 200)
    (tmp_path / "train.csv").write_text(
        "primary_label,secondary_labels,filename\nsp1,['sp2'],sp1/rec1.flac\n"
    )
    files = find_audio_files(root)
    assert [f.name for f in files] == ["broken.ogg", "rec1.flac", "short.wav"]
    assert estimate_chunks(files) == 2
    items = list(
        replay_audio(root, "rec-9", birdclef=BirdclefLabels.find(root), clock_ms=lambda: 1_790_000_000_000)
    )
    skipped = {s.path.rsplit("/", 1)[-1]: s.reason for s in items if isinstance(s, SkippedInput)}
    assert set(skipped) == {"broken.ogg", "short.wav"}
    assert skipped["broken.ogg"].startswith("cannot decode") and "shorter than 1 s" in skipped["short.wav"]
    records = [i for i in items if not isinstance(i, SkippedInput)]
    assert [r.topic for r in records] == [AUDIO_RAW] * 2
    decoded = [decode_audio(r.record.value, r.record.headers) for r in records]
    assert [d.chunk_id for d in decoded] == ["rec1-c0000", "rec1-c0001"]
    assert [d.captured_at for d in decoded] == [1_790_000_000_000, 1_790_000_005_000]
    assert {(d.session_id, d.sample_rate, d.device_id) for d in decoded} == {("rec1", SR, "rec-9")}
    wave, rate = decode_wav(decoded[1].audio)
    assert (rate, wave.size) == (SR, 160_000)
    labels = [json.loads(r.label.value) for r in records]
    assert [label["species"] for label in labels] == [["sp1", "sp2"]] * 2
    assert labels[0]["chunk_id"] == "rec1-c0000" and labels[0]["source"] == "dataset"
