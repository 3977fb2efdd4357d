"""The JSON messages on ``features.frames.v1`` / ``features.audio.v1`` and the jsonb in PostgreSQL.

Built from one :class:`~stream_jobs.features.kinds.Scored` record and validated against the topic's
JSON Schema (``kafka/schemas/features.*.v1.json``) before they leave the job. Floats are written
with Python's shortest round-trip representation, so a reader gets the exact doubles back.
"""

from __future__ import annotations

import json
from typing import Any

from fieldstream.contracts import encode_message
from fieldstream.contracts import headers as h
from stream_jobs.features.kinds import KINDS, Scored


def feature_message(kind: str, scored: Scored, feature_set: str, computed_at: int) -> dict[str, Any]:
    """The message dict for one accepted record of the feature stream ``kind`` (``frames`` | ``audio``)."""
    if not scored.ok or scored.features is None:
        raise ValueError("only accepted records with features have a feature message")
    media = KINDS[kind]
    message: dict[str, Any] = {"device_id": scored.device_id, media.modality.id_header: scored.item_id}
    if media.sessions:
        message[h.SESSION_ID] = scored.session_id
    message.update(
        captured_at=int(scored.captured_at or 0),
        computed_at=int(computed_at),
        feature_set=feature_set,
        features=dict(scored.features),
    )
    return message


def encode_feature_message(kind: str, scored: Scored, feature_set: str, computed_at: int) -> bytes:
    """Validated, compact UTF-8 JSON for the features topic."""
    topic = KINDS[kind].modality.features_topic  # its JSON Schema validates the message
    return encode_message(topic, feature_message(kind, scored, feature_set, computed_at))


def features_json(features: dict[str, float]) -> str:
    """The ``features`` jsonb column: ``{name: value}`` (same numbers as the Kafka message)."""
    return json.dumps(features, separators=(",", ":"))
