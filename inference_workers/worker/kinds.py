"""What differs between the vision and the audio worker: topics, decoding, the detection message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fieldstream.contracts import decode_audio, decode_frame
from fieldstream.model_names import AUDIO_MODEL, VISION_MODEL
from fieldstream.topics import AUDIO_RAW, DETECTIONS_AUDIO, DETECTIONS_VISION, FRAMES_RAW


@dataclass(frozen=True)
class Decoded:
    """One input record, decoded: its ids (copied into the detection) and the model input."""

    device_id: str
    ids: dict[str, Any]
    captured_at: int
    model_input: Any


@dataclass(frozen=True)
class WorkerKind:
    name: str
    input_topic: str
    output_topic: str
    model_name: str
    result_field: str  # "boxes" or "species"
    online_view: str  # the Redis online-store view whose latest features are attached
    explaining_features: tuple[str, ...]

    def decode(
        self, value: bytes | None, headers: Any, max_payload: int, decode_media: Callable[[bytes], Any]
    ) -> Decoded:
        """The record's contract, then its media with the model's decoder (``ModelRuntime.decode``)."""
        if self.name == "vision":
            frame = decode_frame(value, headers, max_payload)
            image = decode_media(frame.image)
            return Decoded(frame.device_id, {"frame_id": frame.frame_id}, frame.captured_at, image)
        chunk = decode_audio(value, headers, max_payload)
        ids = {"chunk_id": chunk.chunk_id, "session_id": chunk.session_id}
        return Decoded(chunk.device_id, ids, chunk.captured_at, decode_media(chunk.audio))

    def message(
        self,
        item: Decoded,
        results: list[dict[str, Any]],
        model: tuple[str, str],
        produced_at: int,
        latency_ms: dict[str, float],
        features: dict[str, float] | None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "device_id": item.device_id,
            **item.ids,
            "captured_at": item.captured_at,
            "produced_at": produced_at,
            "model": {"name": model[0], "version": model[1]},
            self.result_field: results,
            "latency_ms": {k: round(v, 3) for k, v in latency_ms.items()},
        }
        if features:
            out["features"] = features
        return out


VISION = WorkerKind(
    "vision",
    FRAMES_RAW,
    DETECTIONS_VISION,
    VISION_MODEL,
    "boxes",
    "frames",
    ("vegetation_fraction", "brightness_mean", "sharpness"),
)
AUDIO = WorkerKind(
    "audio",
    AUDIO_RAW,
    DETECTIONS_AUDIO,
    AUDIO_MODEL,
    "species",
    "audio",
    ("rms_dbfs", "ndsi", "h"),
)
KINDS = {"vision": VISION, "audio": AUDIO}
