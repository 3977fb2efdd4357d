"""Ground-truth messages for ``labels.v1`` (JSON, validated against ``kafka/schemas/labels.v1.json``).

One label per media record, with the same ids (``frame_id`` or ``chunk_id``), keyed by device id.
``source`` is ``simulator`` for the simulators and ``dataset`` for replayed datasets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fieldstream.contracts import KafkaRecord, encode_message
from fieldstream.topics import LABELS

LabelSource = Literal["simulator", "dataset", "annotator"]


def _unit(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


@dataclass(frozen=True)
class LabelBox:
    """A labelled box: detector class, its name, optional species/kind, normalised xyxy."""

    class_id: int
    class_name: str
    xyxy: tuple[float, float, float, float]
    kind: str | None = None

    def to_message(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "class_id": int(self.class_id),
            "class_name": self.class_name,
            "xyxy": [_unit(v) for v in self.xyxy],
        }
        if self.kind:
            out["kind"] = self.kind
        return out


def frame_label(
    device_id: str, frame_id: str, captured_at: int, boxes: Iterable[LabelBox], source: LabelSource
) -> dict[str, Any]:
    """A ``target=frame`` label (an empty box list means: nothing to detect in this frame)."""
    return {
        "target": "frame",
        "device_id": device_id,
        "frame_id": frame_id,
        "captured_at": int(captured_at),
        "source": source,
        "boxes": [box.to_message() for box in boxes],
    }


def chunk_label(
    device_id: str,
    chunk_id: str,
    session_id: str,
    captured_at: int,
    species: Sequence[str],
    source: LabelSource,
) -> dict[str, Any]:
    """A ``target=chunk`` label: the species heard in the chunk (distinct, order kept)."""
    return {
        "target": "chunk",
        "device_id": device_id,
        "chunk_id": chunk_id,
        "session_id": session_id,
        "captured_at": int(captured_at),
        "source": source,
        "species": list(dict.fromkeys(species)),
    }


def label_record(message: dict[str, Any]) -> KafkaRecord:
    """Validate and encode a label message as the record to send to ``labels.v1`` (key = device id)."""
    value = encode_message(LABELS, message)
    device = str(message["device_id"])
    return KafkaRecord(
        key=device.encode(),
        value=value,
        headers=[("schema", LABELS.encode()), ("content_type", b"application/json")],
    )
