"""The two modalities of one pipeline, each defined once: vision (camera frames) and audio
(soundscape chunks).

A :class:`Modality` names everything the components key their behaviour on: its raw topic and
contract (headers, record decoder), its feature view and topic, its detection topic and the field
that carries the results, and the registered model that turns one into the other. Components keep
their own behaviour per modality (a worker's message, a feature job's batch function, a training
task) in small classes of their own, looked up by :attr:`Modality.name`; nothing outside this module
spells ``"vision"`` or ``"audio"`` to decide what a record is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fieldstream.contracts import headers as h
from fieldstream.contracts.raw_media import AudioRecord, FrameRecord, decode_audio, decode_frame
from fieldstream.model_names import AUDIO_MODEL, VISION_MODEL
from fieldstream.topics import (
    AUDIO_RAW,
    DETECTIONS_AUDIO,
    DETECTIONS_VISION,
    FEATURES_AUDIO,
    FEATURES_FRAMES,
    FRAMES_RAW,
)

#: The soundscape format (BirdCLEF's): mono chunks of 5 s at 32 kHz.
AUDIO_SAMPLE_RATE = 32_000
AUDIO_CHUNK_SECONDS = 5.0

RecordDecoder = Callable[[bytes | None, Iterable[tuple[str, bytes | None]] | None, int], Any]


@dataclass(frozen=True)
class Modality:
    name: str  # "vision" | "audio": the worker kind, the training task, the CLI word
    view: str  # "frames" | "audio": the feature view (Redis, history tables, the feature job's stream)
    raw_topic: str
    features_topic: str
    detections_topic: str
    model_name: str
    id_header: str  # the record's own id: "frame_id" | "chunk_id"
    header_names: tuple[str, ...]  # every header of the raw contract
    results_field: str  # the detection message's list: "boxes" | "species"
    decode_record: RecordDecoder  # raw Kafka value + headers -> FrameRecord | AudioRecord (or ContractError)

    def ids(self, record: FrameRecord | AudioRecord) -> dict[str, str]:
        """The ids a derived message copies from its raw record: ``frame_id``, or ``chunk_id`` and
        ``session_id``."""
        if isinstance(record, AudioRecord):
            return {h.CHUNK_ID: record.chunk_id, h.SESSION_ID: record.session_id}
        return {h.FRAME_ID: record.frame_id}


VISION = Modality(
    name="vision",
    view="frames",
    raw_topic=FRAMES_RAW,
    features_topic=FEATURES_FRAMES,
    detections_topic=DETECTIONS_VISION,
    model_name=VISION_MODEL,
    id_header=h.FRAME_ID,
    header_names=(
        h.SCHEMA,
        h.DEVICE_ID,
        h.FRAME_ID,
        h.CAPTURED_AT,
        h.CONTENT_TYPE,
        h.LAT,
        h.LON,
        h.SPEED_MPS,
        h.BOOM_OFFSET_M,
    ),
    results_field="boxes",
    decode_record=decode_frame,
)
AUDIO = Modality(
    name="audio",
    view="audio",
    raw_topic=AUDIO_RAW,
    features_topic=FEATURES_AUDIO,
    detections_topic=DETECTIONS_AUDIO,
    model_name=AUDIO_MODEL,
    id_header=h.CHUNK_ID,
    header_names=(
        h.SCHEMA,
        h.DEVICE_ID,
        h.CHUNK_ID,
        h.SESSION_ID,
        h.CAPTURED_AT,
        h.SAMPLE_RATE,
        h.CONTENT_TYPE,
        h.LAT,
        h.LON,
    ),
    results_field="species",
    decode_record=decode_audio,
)
MODALITIES: dict[str, Modality] = {m.name: m for m in (VISION, AUDIO)}
NAMES = tuple(MODALITIES)


def by_view(view: str) -> Modality:
    """The modality of a feature view (``frames`` or ``audio``)."""
    for m in MODALITIES.values():
        if m.view == view:
            return m
    raise KeyError(f"no modality has the feature view {view!r} (known: frames, audio)")


def by_model(model_name: str) -> Modality:
    """The modality a registered model serves."""
    for m in MODALITIES.values():
        if m.model_name == model_name:
            return m
    raise KeyError(f"no modality is served by model {model_name!r}")
