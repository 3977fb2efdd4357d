"""Message contracts every FieldStream component speaks: headers, raw media records, JSON messages,
their errors, and the dead-letter helper."""

from fieldstream.contracts.deadletter import deadletter_headers, send_to_deadletter
from fieldstream.contracts.errors import (
    ContentMismatchError,
    ContractError,
    EmptyPayloadError,
    InvalidHeaderError,
    InvalidJSONError,
    MissingHeaderError,
    PayloadTooLargeError,
    SchemaValidationError,
    UnsupportedContentTypeError,
)
from fieldstream.contracts.messages import decode_message, encode_message, schema_topics, validate_message
from fieldstream.contracts.raw_media import (
    AUDIO_TYPES,
    IMAGE_TYPES,
    AudioRecord,
    FrameRecord,
    KafkaRecord,
    decode_audio,
    decode_frame,
    encode_audio,
    encode_frame,
    header_value,
)

__all__ = [
    "AUDIO_TYPES",
    "IMAGE_TYPES",
    "AudioRecord",
    "ContentMismatchError",
    "ContractError",
    "EmptyPayloadError",
    "FrameRecord",
    "InvalidHeaderError",
    "InvalidJSONError",
    "KafkaRecord",
    "MissingHeaderError",
    "PayloadTooLargeError",
    "SchemaValidationError",
    "UnsupportedContentTypeError",
    "deadletter_headers",
    "decode_audio",
    "decode_frame",
    "decode_message",
    "encode_audio",
    "encode_frame",
    "encode_message",
    "header_value",
    "schema_topics",
    "send_to_deadletter",
    "validate_message",
]
