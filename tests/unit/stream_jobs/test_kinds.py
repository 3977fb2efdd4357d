"""Decoding and features per media kind on a batch of raw records (no Flink)."""

from __future__ import annotations

import io
from typing import get_args

import numpy as np
import pytest
from PIL import Image

from feature_store.features import AUDIO_FEATURE_NAMES, FRAME_FEATURE_NAMES, audio_features, frame_features
from fieldstream.contracts import AudioRecord, FrameRecord, encode_audio, encode_frame
from fieldstream.modality import AUDIO as AUDIO_MODALITY
from fieldstream.modality import MODALITIES, VISION
from producers.soundscape import encode_wav
from stream_jobs.features.config import Kind
from stream_jobs.features.kinds import AUDIO, FRAMES, KINDS, headers_from_columns, score_batch

NOW = 1_790_000_000_000


def _jpeg(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(out, format="JPEG")
    return out.getvalue()


def _frame(i: int, image: bytes, captured_at: int = NOW - 1000) -> tuple[bytes, list]:
    rec = encode_frame(
        FrameRecord("boom-1", f"f{i}", captured_at, "image/jpeg", image, lat=1.0, speed_mps=6.0)
    )
    return rec.value, rec.headers


def _score(kind, records):
    return score_batch(
        kind,
        [v for v, _ in records],
        [h for _, h in records],
        max_payload=8 << 20,
        now_ms=NOW,
        max_future_s=3600,
    )


def test_frames_get_the_features_of_the_pil_decoded_image_in_input_order():
    images = [_jpeg(1), _jpeg(2, (80, 60)), _jpeg(3)]  # two shapes: grouped, order kept
    out = _score(FRAMES, [_frame(i, img) for i, img in enumerate(images)])
    assert [s.item_id for s in out] == ["f0", "f1", "f2"]
    for s, img in zip(out, images, strict=True):
        assert s.ok and s.device_id == "boom-1" and s.size_bytes == len(img) and s.payload == img
        assert s.lat == 1.0 and s.speed_mps == 6.0 and s.captured_at == NOW - 1000
        direct = frame_features(np.asarray(Image.open(io.BytesIO(img)).convert("RGB")))
        assert s.features == direct
        assert tuple(s.features) == FRAME_FEATURE_NAMES


def test_bad_records_are_rejected_with_the_reason_and_the_rest_still_scored():
    good = _frame(0, _jpeg(1))
    corrupt = _frame(1, b"\xff\xd8\xff" + b"not really a jpeg")
    no_type = (good[0], [(k, v) for k, v in good[1] if k != "content_type"])
    future = _frame(3, _jpeg(2), captured_at=NOW + 2 * 3600 * 1000)
    empty = (None, good[1])
    out = _score(FRAMES, [good, corrupt, no_type, future, empty])
    assert [s.ok for s in out] == [True, False, False, False, False]
    assert out[1].error_type == "MediaDecodeError" and "0x" not in out[1].error
    assert (out[2].error_type, out[2].error) == ("MissingHeaderError", "header content_type missing")
    assert out[3].error_type == "FutureTimestampError" and "2.00 h ahead" in out[3].error
    assert out[4].error_type == "EmptyPayloadError"


def _chunk(
    i: int, wave: np.ndarray, rate: int = 32_000, header_rate: int | None = None
) -> tuple[bytes, list]:
    rec = encode_audio(
        AudioRecord("rec-1", f"c{i}", "s1", NOW - 5000, header_rate or rate, encode_wav(wave, rate))
    )
    return rec.value, rec.headers


def test_chunks_get_the_features_of_the_decoded_waveform():
    rng = np.random.default_rng(0)
    waves = [0.1 * rng.standard_normal(32_000).astype(np.float32) for _ in range(3)]
    out = _score(AUDIO, [_chunk(i, w) for i, w in enumerate(waves)])
    for s, w in zip(out, waves, strict=True):
        assert s.ok and s.session_id == "s1" and s.sample_rate == 32_000
        pcm = np.clip(np.rint(w * 32768.0), -32768, 32767) / 32768.0  # what PCM16 keeps
        direct = audio_features(pcm.astype(np.float32), 32_000)
        assert tuple(s.features) == AUDIO_FEATURE_NAMES
        # batched numpy reductions may differ from a single-chunk call in the last bits
        assert s.features == pytest.approx(direct, rel=1e-12, abs=1e-12)


def test_audio_whose_rate_disagrees_with_its_header_is_rejected():
    wave = np.zeros(16_000, dtype=np.float32)
    [s] = _score(AUDIO, [_chunk(0, wave, rate=16_000, header_rate=32_000)])
    assert not s.ok and s.error == "audio is 16000 Hz but header sample_rate says 32000"


def test_headers_come_back_from_one_column_per_name():
    cols = [[b"frame.v1", b"frame.v1"], [b"d1", None]]
    assert headers_from_columns(("schema", "device_id"), cols) == [
        [("schema", b"frame.v1"), ("device_id", b"d1")],
        [("schema", b"frame.v1")],
    ]
    assert headers_from_columns((), []) == []


def test_each_stream_is_the_feature_view_of_its_modality():
    assert (FRAMES.modality, AUDIO.modality) == (VISION, AUDIO_MODALITY)
    assert set(KINDS) == {m.view for m in MODALITIES.values()} == set(get_args(Kind))
    for view, kind in KINDS.items():
        assert kind.name == view and kind.header_names == kind.modality.header_names
    assert (FRAMES.sessions, AUDIO.sessions) == (False, True)


def test_one_decoder_reads_either_modality_into_the_same_metadata_fields():
    [frame] = _score(FRAMES, [_frame(0, _jpeg(1))])
    assert (frame.item_id, frame.session_id, frame.sample_rate, frame.boom_offset_m) == (
        "f0",
        None,
        None,
        None,
    )
    [chunk] = _score(AUDIO, [_chunk(0, np.zeros(32_000, dtype=np.float32))])
    assert (chunk.item_id, chunk.session_id, chunk.speed_mps, chunk.content_type) == (
        "c0",
        "s1",
        None,
        "audio/wav",
    )
