"""What a worker does per modality: vision and audio decode their own media with the model's
decoder, copy their own ids, and share one detection message that matches the topic's schema."""

from __future__ import annotations

import json
import time

import pytest

from fieldstream.contracts import AudioRecord, ContractError, FrameRecord, encode_audio, encode_frame
from fieldstream.modality import AUDIO, NAMES, VISION
from fieldstream.topics import AUDIO_RAW, DETECTIONS_AUDIO, DETECTIONS_VISION, FRAMES_RAW
from inference_workers.worker.work import WORK, AudioWork, Decoded, VisionWork

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WAV = b"RIFF" + b"\x00" * 40


class Decoder:
    """A model version's decoder: says which bytes it was given."""

    name, version = "a-model", "3"

    def decode(self, data: bytes) -> tuple[str, int]:
        return ("decoded", len(data))


class Msg:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def key(self) -> bytes:
        return self._key


def test_one_work_per_modality_with_the_kernels_topics_and_model():
    assert set(WORK) == set(NAMES)
    vision, audio = WORK["vision"], WORK["audio"]
    assert isinstance(vision, VisionWork) and isinstance(audio, AudioWork)
    assert (vision.input_topic, vision.output_topic, vision.model_name) == (
        FRAMES_RAW,
        DETECTIONS_VISION,
        VISION.model_name,
    )
    assert (audio.input_topic, audio.output_topic, audio.model_name) == (
        AUDIO_RAW,
        DETECTIONS_AUDIO,
        AUDIO.model_name,
    )
    assert (vision.online_view, audio.online_view) == ("frames", "audio")
    assert "vegetation_fraction" in vision.explaining_features and "ndsi" in audio.explaining_features


def test_vision_decodes_the_frames_image_and_keeps_its_frame_id():
    rec = encode_frame(FrameRecord("cam-1", "f-9", 1_700_000_000_123, "image/jpeg", JPEG))
    decoded = WORK["vision"].decode(rec.value, rec.headers, 1 << 20, Decoder())  # type: ignore[arg-type]
    assert decoded == Decoded("cam-1", {"frame_id": "f-9"}, 1_700_000_000_123, ("decoded", len(JPEG)))


def test_audio_decodes_the_chunks_audio_and_keeps_its_chunk_and_session():
    rec = encode_audio(AudioRecord("rec-1", "c-2", "s-1", 1_700_000_000_000, 32_000, WAV))
    decoded = WORK["audio"].decode(rec.value, rec.headers, 1 << 20, Decoder())  # type: ignore[arg-type]
    assert decoded.ids == {"chunk_id": "c-2", "session_id": "s-1"}
    assert decoded.model_input == ("decoded", len(WAV)) and decoded.device_id == "rec-1"


def test_a_broken_contract_is_a_contract_error_before_any_decoding():
    rec = encode_frame(FrameRecord("cam-1", "f-9", 1, "image/jpeg", JPEG))
    with pytest.raises(ContractError):
        WORK["vision"].decode(rec.value, [], 1 << 20, Decoder())  # type: ignore[arg-type]
    with pytest.raises(ContractError):
        WORK["audio"].decode(rec.value, rec.headers, 1 << 20, Decoder())  # type: ignore[arg-type]


def test_the_detection_message_names_its_results_field_and_attaches_features_only_when_there():
    item = Decoded("rec-1", {"chunk_id": "c-2", "session_id": "s-1"}, 100, None)
    species = [{"id": "eurbla", "name": "Blackbird", "score": 0.9}]
    message = WORK["audio"].message(item, species, ("audio-classifier", "4"), 150, {"infer": 1.23456}, None)
    assert message == {
        "device_id": "rec-1",
        "chunk_id": "c-2",
        "session_id": "s-1",
        "captured_at": 100,
        "produced_at": 150,
        "model": {"name": "audio-classifier", "version": "4"},
        "species": species,
        "latency_ms": {"infer": 1.235},
    }
    with_features = WORK["vision"].message(
        Decoded("cam-1", {"frame_id": "f"}, 1, None), [], ("m", "1"), 2, {}, {"sharpness": 0.5}
    )
    assert with_features["boxes"] == [] and with_features["features"] == {"sharpness": 0.5}


def test_detections_are_encoded_lazily_valid_and_never_with_a_negative_latency():
    now = int(time.time() * 1000)
    good = [
        (Msg(b"cam-1"), Decoded("cam-1", {"frame_id": "a"}, now - 40, None)),
        (Msg(b"cam-2"), Decoded("cam-2", {"frame_id": "b"}, now + 60_000, None)),  # a clock ahead
    ]
    seen: list[int] = []
    out = WORK["vision"].detections(
        good, [[], []], Decoder(), {"infer": 2.0}, {"cam-2": {"sharpness": 1.0}}, seen.append
    )  # type: ignore[arg-type]
    key, value = next(out)
    assert key == b"cam-1" and seen == []  # the latency is observed once the message is taken
    first = json.loads(value)
    assert first["model"] == {"name": "a-model", "version": "3"} and first["latency_ms"]["infer"] == 2.0
    assert 40 <= first["latency_ms"]["end_to_end"] < 40 + 5_000
    [(_, value)] = list(out)
    second = json.loads(value)
    assert second["latency_ms"]["end_to_end"] == 0 and second["features"] == {"sharpness": 1.0}
    assert seen[1] == 0 and len(seen) == 2
