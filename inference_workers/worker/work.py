"""What a worker does with the records of its modality: :class:`VisionWork` (camera frames) and
:class:`AudioWork` (soundscape chunks).

Everything the two share comes from the kernel's :mod:`fieldstream.modality` (topics, model name,
record decoder, ids, results field, feature view), and the detection message is built once, in
:meth:`Work.message`. Each subclass says only what is its own: how the model's runtime decodes its
media, and which online features explain a detection.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from confluent_kafka import Message

from fieldstream.contracts import AudioRecord, FrameRecord, encode_message
from fieldstream.modality import AUDIO, VISION, Modality

if TYPE_CHECKING:
    from inference_workers.runtime.model import ModelRuntime

R = TypeVar("R", FrameRecord, AudioRecord)


@dataclass(frozen=True)
class Decoded:
    """One input record, decoded: its ids (copied into the detection) and the model input."""

    device_id: str
    ids: dict[str, Any]
    captured_at: int
    model_input: Any


class Work(ABC, Generic[R]):
    modality: ClassVar[Modality]
    #: the online features (of :attr:`online_view`) attached to a detection to explain it
    explaining_features: ClassVar[tuple[str, ...]]

    @property
    def name(self) -> str:
        return self.modality.name

    @property
    def input_topic(self) -> str:
        return self.modality.raw_topic

    @property
    def output_topic(self) -> str:
        return self.modality.detections_topic

    @property
    def model_name(self) -> str:
        return self.modality.model_name

    @property
    def online_view(self) -> str:
        """The Redis online-store view whose latest features are attached."""
        return self.modality.view

    @abstractmethod
    def decode_media(self, record: R, runtime: ModelRuntime) -> Any:
        """The record's media decoded by the model version's decoder (what its ``predict`` takes)."""

    def decode(self, value: bytes | None, headers: Any, max_payload: int, runtime: ModelRuntime) -> Decoded:
        """The record's contract (a ``ContractError`` when broken), then its media."""
        record: R = self.modality.decode_record(value, headers, max_payload)
        media = self.decode_media(record, runtime)
        return Decoded(record.device_id, self.modality.ids(record), record.captured_at, media)

    def message(
        self,
        item: Decoded,
        results: list[dict[str, Any]],
        model: tuple[str, str],
        produced_at: int,
        latency_ms: dict[str, float],
        features: dict[str, float] | None,
    ) -> dict[str, Any]:
        """The detection message of one record (``detections.vision.v1`` / ``detections.audio.v1``)."""
        out: dict[str, Any] = {
            "device_id": item.device_id,
            **item.ids,
            "captured_at": item.captured_at,
            "produced_at": produced_at,
            "model": {"name": model[0], "version": model[1]},
            self.modality.results_field: results,
            "latency_ms": {k: round(v, 3) for k, v in latency_ms.items()},
        }
        if features:
            out["features"] = features
        return out

    def detections(
        self,
        good: Sequence[tuple[Message, Decoded]],
        results: Sequence[list[dict[str, Any]]],
        runtime: ModelRuntime,
        stage_ms: dict[str, float],
        features: dict[str, dict[str, float]],
        produced: Callable[[int], None] = lambda _ms: None,
    ) -> Iterator[tuple[bytes | None, bytes]]:
        """(key, encoded message) of each record's detection, made now by ``runtime`` (lazily: one
        message at a time, as the producer takes them); ``produced(end_to_end_ms)`` after each."""
        now_ms = int(time.time() * 1000)
        for (msg, item), found in zip(good, results, strict=True):
            # a device clock ahead of ours (or a simulated future capture time) is no negative latency
            end_to_end = max(0, now_ms - item.captured_at)
            latency = {**stage_ms, "end_to_end": float(end_to_end)}
            model = (runtime.name, runtime.version)
            message = self.message(item, found, model, now_ms, latency, features.get(item.device_id))
            yield msg.key(), encode_message(self.output_topic, message)
            produced(end_to_end)


class VisionWork(Work[FrameRecord]):
    modality = VISION
    explaining_features = ("vegetation_fraction", "brightness_mean", "sharpness")

    def decode_media(self, record: FrameRecord, runtime: ModelRuntime) -> Any:
        return runtime.decode(record.image)


class AudioWork(Work[AudioRecord]):
    modality = AUDIO
    explaining_features = ("rms_dbfs", "ndsi", "h")

    def decode_media(self, record: AudioRecord, runtime: ModelRuntime) -> Any:
        return runtime.decode(record.audio)


WORK: dict[str, Work[Any]] = {w.name: w for w in (VisionWork(), AudioWork())}
