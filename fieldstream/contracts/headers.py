"""Kafka header names carried by raw media records (media bytes are the value, metadata the headers)."""

from __future__ import annotations

SCHEMA = "schema"
DEVICE_ID = "device_id"
FRAME_ID = "frame_id"
CHUNK_ID = "chunk_id"
SESSION_ID = "session_id"
CAPTURED_AT = "captured_at"  # UTC epoch milliseconds
CONTENT_TYPE = "content_type"
SAMPLE_RATE = "sample_rate"
LAT = "lat"
LON = "lon"
SPEED_MPS = "speed_mps"
BOOM_OFFSET_M = "boom_offset_m"

# Added by the dead-letter helper to the record it republishes.
ERROR = "error"
ERROR_TYPE = "error_type"
SOURCE_TOPIC = "source_topic"
SOURCE_PARTITION = "source_partition"
SOURCE_OFFSET = "source_offset"

#: Value of the ``schema`` header for each raw contract.
FRAME_SCHEMA = "frame.v1"
AUDIO_SCHEMA = "audio.v1"
