"""Derived JSON messages: every topic's schema is valid, examples round-trip, bad ones are named."""

from __future__ import annotations

import pytest

from fieldstream.contracts import (
    EmptyPayloadError,
    InvalidJSONError,
    SchemaValidationError,
    decode_message,
    encode_message,
    schema_topics,
)
from fieldstream.contracts.messages import validator_for
from fieldstream.topics import ALL_TOPICS, AUDIO_RAW, DEADLETTER, FRAMES_RAW

MODEL = {"name": "vision-detector", "version": "3"}
BOX = {"class_id": 1, "class_name": "weed", "score": 0.91, "xyxy": [0.1, 0.2, 0.3, 0.4]}
EXAMPLES = {
    "features.frames.v1": {
        "device_id": "boom-1",
        "frame_id": "f1",
        "captured_at": 1,
        "feature_set": "v1",
        "features": {"vegetation_fraction": 0.31},
    },
    "features.audio.v1": {
        "device_id": "rec-1",
        "chunk_id": "c1",
        "session_id": "s1",
        "captured_at": 1,
        "feature_set": "v1",
        "features": {"rms_dbfs": -31.5},
    },
    "detections.vision.v1": {
        "device_id": "boom-1",
        "frame_id": "f1",
        "captured_at": 1,
        "produced_at": 2,
        "model": MODEL,
        "boxes": [BOX],
        "latency_ms": {"infer": 3.2},
    },
    "detections.audio.v1": {
        "device_id": "rec-1",
        "chunk_id": "c1",
        "session_id": "s1",
        "captured_at": 1,
        "produced_at": 2,
        "model": MODEL,
        "species": [{"id": "grtowl1", "score": 0.8}],
    },
    "labels.v1": {
        "target": "frame",
        "device_id": "boom-1",
        "frame_id": "f1",
        "captured_at": 1,
        "source": "simulator",
        "boxes": [{"class_id": 0, "class_name": "crop", "xyxy": [0, 0, 1, 1]}],
    },
    "actions.spray.v1": {
        "action_id": "a1",
        "device_id": "boom-1",
        "frame_id": "f1",
        "fire_at": 10,
        "duration_ms": 40,
        "nozzles": [3, 4],
        "detections": [BOX],
    },
    "insights.species.v1": {
        "device_id": "rec-1",
        "session_id": "s1",
        "window_start": 0,
        "window_end": 60000,
        "species": [{"id": "grtowl1", "detections": 3, "max_score": 0.9}],
    },
    "models.events.v1": {
        "event": "promoted",
        "model_name": "vision-detector",
        "version": "3",
        "at": 5,
        "alias": "champion",
    },
}


def test_every_derived_topic_has_a_valid_schema_and_an_example():
    derived = set(ALL_TOPICS) - {FRAMES_RAW, AUDIO_RAW, DEADLETTER}
    assert set(schema_topics()) == derived
    assert set(EXAMPLES) == derived
    for topic in derived:
        validator_for(topic)  # raises when the schema itself is malformed


@pytest.mark.parametrize("topic", sorted(EXAMPLES))
def test_round_trip(topic):
    assert decode_message(topic, encode_message(topic, EXAMPLES[topic])) == EXAMPLES[topic]


def test_bad_json_is_named_with_position():
    with pytest.raises(InvalidJSONError, match=r"labels.v1 message is not JSON: .* line 1 column 2"):
        decode_message("labels.v1", b"{oops")


def test_not_utf8():
    with pytest.raises(InvalidJSONError, match="not UTF-8"):
        decode_message("labels.v1", b'{"a": "\xff"}')


def test_empty_message():
    with pytest.raises(EmptyPayloadError):
        decode_message("labels.v1", b"")


def test_json_that_is_not_an_object():
    with pytest.raises(SchemaValidationError, match="must be a JSON object, got list"):
        decode_message("labels.v1", b"[1, 2]")


@pytest.mark.parametrize(
    ("topic", "mutate", "where"),
    [
        ("detections.vision.v1", lambda m: m.pop("model"), r"\(root\): 'model' is a required property"),
        ("detections.vision.v1", lambda m: m["boxes"][0].update(score=1.7), "boxes/0/score: 1.7 is greater"),
        ("detections.vision.v1", lambda m: m["boxes"][0].update(xyxy=[0, 0, 1]), "boxes/0/xyxy"),
        ("labels.v1", lambda m: m.update(source="guess"), "source: 'guess' is not one of"),
        ("labels.v1", lambda m: m.pop("boxes"), "'boxes' is a required property"),
        ("features.frames.v1", lambda m: m["features"].update(x="high"), "features/x: 'high' is not of type"),
        ("actions.spray.v1", lambda m: m.update(nozzles=[]), "nozzles"),
        ("models.events.v1", lambda m: m.update(captured_at="now", at=-1), "at: -1 is less than the minimum"),
    ],
)
def test_schema_violations_name_the_field(topic, mutate, where):
    import copy
    import json

    message = copy.deepcopy(EXAMPLES[topic])
    mutate(message)
    with pytest.raises(SchemaValidationError, match=where):
        decode_message(topic, json.dumps(message).encode())
    with pytest.raises(SchemaValidationError):
        encode_message(topic, message)
