"""Raw media records: frames (``frames.raw.v1``) and soundscape chunks (``audio.raw.v1``).

The Kafka value is the media exactly as the device captured it; the metadata travel in headers
(UTF-8 strings), the key is the device id. :func:`encode_frame` / :func:`encode_audio` build what a
producer sends; :func:`decode_frame` / :func:`decode_audio` check and parse what a consumer receives
and raise a specific :class:`~fieldstream.contracts.errors.ContractError` when the record is wrong.
Decoding here does not decode pixels or samples: that is :mod:`fieldstream.media_decoding`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from fieldstream.contracts import headers as h
from fieldstream.contracts.errors import (
    ContentMismatchError,
    EmptyPayloadError,
    InvalidHeaderError,
    MissingHeaderError,
    PayloadTooLargeError,
    UnsupportedContentTypeError,
)

Headers = list[tuple[str, bytes]]
DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024

#: content type -> the magic bytes every such payload starts with.
IMAGE_TYPES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
AUDIO_TYPES: dict[str, tuple[bytes, ...]] = {
    "audio/wav": (b"RIFF",),
    "audio/flac": (b"fLaC",),
    "audio/ogg": (b"OggS",),
}


@dataclass(frozen=True)
class KafkaRecord:
    """What a producer hands to Kafka: key, value and headers."""

    key: bytes
    value: bytes
    headers: Headers


@dataclass(frozen=True)
class FrameRecord:
    device_id: str
    frame_id: str
    captured_at: int  # UTC epoch ms
    content_type: str
    image: bytes
    lat: float | None = None
    lon: float | None = None
    speed_mps: float | None = None
    boom_offset_m: float | None = None


@dataclass(frozen=True)
class AudioRecord:
    device_id: str
    chunk_id: str
    session_id: str
    captured_at: int  # UTC epoch ms
    sample_rate: int
    audio: bytes
    content_type: str = "audio/wav"
    lat: float | None = None
    lon: float | None = None


def encode_frame(record: FrameRecord, max_payload: int = DEFAULT_MAX_PAYLOAD) -> KafkaRecord:
    _check_payload(record.image, record.content_type, IMAGE_TYPES, max_payload)
    pairs: list[tuple[str, object]] = [
        (h.SCHEMA, h.FRAME_SCHEMA),
        (h.DEVICE_ID, record.device_id),
        (h.FRAME_ID, record.frame_id),
        (h.CAPTURED_AT, int(record.captured_at)),
        (h.CONTENT_TYPE, record.content_type),
        (h.LAT, record.lat),
        (h.LON, record.lon),
        (h.SPEED_MPS, record.speed_mps),
        (h.BOOM_OFFSET_M, record.boom_offset_m),
    ]
    return KafkaRecord(record.device_id.encode(), record.image, _to_headers(pairs))


def encode_audio(record: AudioRecord, max_payload: int = DEFAULT_MAX_PAYLOAD) -> KafkaRecord:
    _check_payload(record.audio, record.content_type, AUDIO_TYPES, max_payload)
    pairs: list[tuple[str, object]] = [
        (h.SCHEMA, h.AUDIO_SCHEMA),
        (h.DEVICE_ID, record.device_id),
        (h.CHUNK_ID, record.chunk_id),
        (h.SESSION_ID, record.session_id),
        (h.CAPTURED_AT, int(record.captured_at)),
        (h.SAMPLE_RATE, int(record.sample_rate)),
        (h.CONTENT_TYPE, record.content_type),
        (h.LAT, record.lat),
        (h.LON, record.lon),
    ]
    return KafkaRecord(record.device_id.encode(), record.audio, _to_headers(pairs))


def decode_frame(
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> FrameRecord:
    meta = _HeaderReader(headers)
    meta.expect_schema(h.FRAME_SCHEMA)
    content_type = meta.text(h.CONTENT_TYPE)
    _check_payload(value, content_type, IMAGE_TYPES, max_payload)
    assert value is not None
    return FrameRecord(
        device_id=meta.text(h.DEVICE_ID),
        frame_id=meta.text(h.FRAME_ID),
        captured_at=meta.integer(h.CAPTURED_AT),
        content_type=content_type,
        image=value,
        lat=meta.optional(h.LAT, float, "a number"),
        lon=meta.optional(h.LON, float, "a number"),
        speed_mps=meta.optional(h.SPEED_MPS, float, "a number"),
        boom_offset_m=meta.optional(h.BOOM_OFFSET_M, float, "a number"),
    )


def decode_audio(
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> AudioRecord:
    meta = _HeaderReader(headers)
    meta.expect_schema(h.AUDIO_SCHEMA)
    content_type = meta.optional(h.CONTENT_TYPE, str, "text") or _sniff(value, AUDIO_TYPES) or "audio/wav"
    _check_payload(value, content_type, AUDIO_TYPES, max_payload)
    assert value is not None
    sample_rate = meta.integer(h.SAMPLE_RATE)
    if sample_rate <= 0:
        raise InvalidHeaderError(h.SAMPLE_RATE, str(sample_rate), "a positive integer")
    return AudioRecord(
        device_id=meta.text(h.DEVICE_ID),
        chunk_id=meta.text(h.CHUNK_ID),
        session_id=meta.text(h.SESSION_ID),
        captured_at=meta.integer(h.CAPTURED_AT),
        sample_rate=sample_rate,
        audio=value,
        content_type=content_type,
        lat=meta.optional(h.LAT, float, "a number"),
        lon=meta.optional(h.LON, float, "a number"),
    )


def header_value(headers: Iterable[tuple[str, bytes | None]] | None, name: str) -> str | None:
    """The last value of header ``name`` as text, or None; never raises (used on bad records too)."""
    found = None
    for key, raw in headers or ():
        if key == name and raw is not None:
            found = raw.decode("utf-8", errors="replace")
    return found


def _to_headers(pairs: Iterable[tuple[str, object]]) -> Headers:
    return [(name, str(value).encode()) for name, value in pairs if value is not None]


def _sniff(value: bytes | None, types: dict[str, tuple[bytes, ...]]) -> str | None:
    for content_type, magics in types.items():
        if value and value.startswith(magics):
            return content_type
    return None


def _check_payload(
    value: bytes | None, content_type: str, types: dict[str, tuple[bytes, ...]], max_payload: int
) -> None:
    if content_type not in types:
        raise UnsupportedContentTypeError(content_type)
    if not value:
        raise EmptyPayloadError()
    if len(value) > max_payload:
        raise PayloadTooLargeError(len(value), max_payload)
    if not value.startswith(types[content_type]):
        raise ContentMismatchError(
            f"payload is not {content_type}: starts with {value[:8].hex()}"
            f" (expected {' or '.join(m.hex() for m in types[content_type])})"
        )


T = TypeVar("T")


class _HeaderReader:
    """Typed access to Kafka headers with the contract's error messages."""

    def __init__(self, headers: Sequence[tuple[str, bytes | None]] | None) -> None:
        self._values: dict[str, bytes | None] = dict(headers or ())

    def _raw(self, name: str) -> bytes | None:
        raw = self._values.get(name)
        return raw if raw else None

    def text(self, name: str) -> str:
        raw = self._raw(name)
        if raw is None:
            raise MissingHeaderError(name)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidHeaderError(name, raw, "UTF-8 text") from exc

    def integer(self, name: str) -> int:
        text = self.text(name)
        try:
            return int(text)
        except ValueError as exc:
            raise InvalidHeaderError(name, text, "an integer") from exc

    def optional(self, name: str, kind: Callable[[str], T], expected: str) -> T | None:
        if self._raw(name) is None:
            return None
        text = self.text(name)
        try:
            return kind(text)
        except ValueError as exc:
            raise InvalidHeaderError(name, text, expected) from exc

    def expect_schema(self, schema: str) -> None:
        found = self.text(h.SCHEMA)
        if found != schema:
            raise InvalidHeaderError(h.SCHEMA, found, f"{schema!r}")
