"""History sink pieces without services: message -> row mapping, upsert SQL, health endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

from stream_jobs.history.rows import MAPPINGS, label_row, spray_row, utc, vision_row
from stream_jobs.history.writer import upsert_statement

MODEL = {"name": "weednet", "version": "3"}


def _box(name: str) -> dict:
    return {"class_id": 0 if name == "crop" else 1, "class_name": name, "score": 0.9, "xyxy": [0, 0, 1, 1]}


def test_times_are_utc_milliseconds():
    assert utc(1_790_000_000_123) == datetime(2026, 9, 21, 14, 13, 20, 123000, tzinfo=UTC)


def test_vision_detections_count_crops_and_weeds():
    row = vision_row(
        {
            "device_id": "b",
            "frame_id": "f",
            "captured_at": 0,
            "produced_at": 5,
            "model": MODEL,
            "boxes": [_box("weed"), _box("crop"), _box("weed")],
        }
    )
    assert (row["n_crops"], row["n_weeds"], row["model_version"]) == (1, 2, "3")
    assert MAPPINGS["detections.vision.v1"].key_of(row) == ("f", utc(0))


def test_labels_for_frames_and_chunks():
    frame = label_row(
        {
            "target": "frame",
            "device_id": "b",
            "frame_id": "f",
            "captured_at": 1,
            "source": "simulator",
            "boxes": [],
        }
    )
    assert frame["item_id"] == "f" and frame["species"] is None and frame["labelled_at"].tzinfo
    chunk = label_row(
        {
            "target": "chunk",
            "device_id": "r",
            "chunk_id": "c",
            "session_id": "s",
            "captured_at": 1,
            "source": "dataset",
            "species": ["a", "b"],
            "labelled_at": 7,
        }
    )
    assert (chunk["item_id"], chunk["species"], chunk["boxes"], chunk["labelled_at"]) == (
        "c",
        ["a", "b"],
        None,
        utc(7),
    )


def test_spray_actions():
    row = spray_row(
        {
            "action_id": "a",
            "device_id": "b",
            "frame_id": "f",
            "fire_at": 10,
            "duration_ms": 40,
            "nozzles": [3, 4],
            "detections": [],
        }
    )
    assert row["captured_at"] is None and row["nozzles"] == [3, 4] and row["duration_ms"] == 40.0


def test_upsert_statement_updates_everything_but_the_key():
    stmt = upsert_statement(
        "labels", ["item_id", "source", "captured_at", "boxes"], ("item_id", "source", "captured_at")
    )
    text = repr(stmt)
    assert "ON CONFLICT" in text and "DO UPDATE SET" in text and "EXCLUDED" in text
    only_key = upsert_statement("t", ["a"], ("a",))
    assert "DO NOTHING" in repr(only_key)
