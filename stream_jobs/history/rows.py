"""Mapping validated JSON messages to rows of the history tables (pure functions, unit-tested).

Times arrive as UTC epoch milliseconds and leave as timezone-aware datetimes; JSON sub-documents
(boxes, species, detections) are wrapped for ``jsonb``; label species become ``text[]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg2.extras import Json

from fieldstream.topics import ACTIONS_SPRAY, DETECTIONS_AUDIO, DETECTIONS_VISION, LABELS

Row = dict[str, Any]


def utc(ms: int) -> datetime:
    """UTC epoch milliseconds -> aware datetime (millisecond precision kept)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _count(boxes: list[dict[str, Any]], class_name: str) -> int:
    return sum(1 for box in boxes if box.get("class_name") == class_name)


def vision_row(m: Mapping[str, Any]) -> Row:
    boxes = list(m["boxes"])
    return {
        "frame_id": m["frame_id"],
        "device_id": m["device_id"],
        "captured_at": utc(m["captured_at"]),
        "model_name": m["model"]["name"],
        "model_version": m["model"]["version"],
        "boxes": Json(boxes),
        "n_crops": _count(boxes, "crop"),
        "n_weeds": _count(boxes, "weed"),
        "produced_at": utc(m["produced_at"]),
    }


def audio_row(m: Mapping[str, Any]) -> Row:
    return {
        "chunk_id": m["chunk_id"],
        "device_id": m["device_id"],
        "session_id": m["session_id"],
        "captured_at": utc(m["captured_at"]),
        "model_name": m["model"]["name"],
        "model_version": m["model"]["version"],
        "species": Json(list(m["species"])),
        "produced_at": utc(m["produced_at"]),
    }


def label_row(m: Mapping[str, Any], now: datetime | None = None) -> Row:
    frame = m["target"] == "frame"
    return {
        "target": m["target"],
        "item_id": m["frame_id"] if frame else m["chunk_id"],
        "device_id": m["device_id"],
        "session_id": m.get("session_id"),
        "captured_at": utc(m["captured_at"]),
        "source": m["source"],
        "boxes": Json(list(m["boxes"])) if frame else None,
        "species": None if frame else list(m["species"]),
        "labelled_at": utc(m["labelled_at"]) if "labelled_at" in m else (now or datetime.now(UTC)),
    }


def spray_row(m: Mapping[str, Any], now: datetime | None = None) -> Row:
    return {
        "action_id": m["action_id"],
        "device_id": m["device_id"],
        "frame_id": m["frame_id"],
        "captured_at": utc(m["captured_at"]) if "captured_at" in m else None,
        "fire_at": utc(m["fire_at"]),
        "duration_ms": float(m["duration_ms"]),
        "nozzles": [int(n) for n in m["nozzles"]],
        "detections": Json(list(m["detections"])),
        "created_at": utc(m["created_at"]) if "created_at" in m else (now or datetime.now(UTC)),
    }


@dataclass(frozen=True)
class TableMapping:
    """Where one topic's messages go: the table, its primary key, and the row builder."""

    schema_topic: str  # the contract (JSON Schema) the messages follow
    table: str
    key: tuple[str, ...]
    row: Callable[[Mapping[str, Any]], Row]

    def key_of(self, row: Row) -> tuple[Any, ...]:
        return tuple(row[k] for k in self.key)


MAPPINGS: dict[str, TableMapping] = {
    m.schema_topic: m
    for m in (
        TableMapping(DETECTIONS_VISION, "detections_vision", ("frame_id", "captured_at"), vision_row),
        TableMapping(DETECTIONS_AUDIO, "detections_audio", ("chunk_id", "captured_at"), audio_row),
        TableMapping(LABELS, "labels", ("item_id", "source", "captured_at"), label_row),
        TableMapping(ACTIONS_SPRAY, "spray_actions", ("action_id", "fire_at"), spray_row),
    )
}
