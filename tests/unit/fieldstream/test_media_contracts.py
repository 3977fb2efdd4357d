"""Raw media records: round trips and one specific error per kind of bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fieldstream.contracts import (
    AudioRecord,
    ContentMismatchError,
    EmptyPayloadError,
    FrameRecord,
    InvalidHeaderError,
    MissingHeaderError,
    PayloadTooLargeError,
    UnsupportedContentTypeError,
    decode_audio,
    decode_frame,
    encode_audio,
    encode_frame,
)
from fieldstream.contracts import headers as h

MB = 1024 * 1024


def _jpeg(width: int = 32, height: int = 24) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 90, np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def _wav() -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.zeros(3200, np.float32), 32000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


FRAME = FrameRecord(
    device_id="boom-1",
    frame_id="boom-1-00000001",
    captured_at=1_790_000_000_123,
    content_type="image/jpeg",
    image=_jpeg(),
    lat=52.1,
    lon=5.2,
    speed_mps=6.0,
    boom_offset_m=0.75,
)
CHUNK = AudioRecord(
    device_id="rec-1",
    chunk_id="rec-1-s001-c0001",
    session_id="rec-1-s001",
    captured_at=1_790_000_000_000,
    sample_rate=32000,
    audio=_wav(),
)


def _replace(
    headers: list[tuple[str, bytes]], name: str, value: bytes | None
) -> list[tuple[str, bytes | None]]:
    out: list[tuple[str, bytes | None]] = [(k, v) for k, v in headers if k != name]
    if value is not None:
        out.append((name, value))
    return out


def test_frame_round_trip_keeps_every_field_and_the_bytes():
    rec = encode_frame(FRAME)
    assert rec.key == b"boom-1"
    assert rec.value == FRAME.image
    assert dict(rec.headers)[h.CAPTURED_AT] == b"1790000000123"
    assert decode_frame(rec.value, rec.headers) == FRAME


def test_frame_optional_headers_absent_decode_to_none():
    bare = FrameRecord("boom-2", "f-1", 5, "image/jpeg", _jpeg())
    rec = encode_frame(bare)
    assert {k for k, _ in rec.headers} == {h.SCHEMA, h.DEVICE_ID, h.FRAME_ID, h.CAPTURED_AT, h.CONTENT_TYPE}
    assert decode_frame(rec.value, rec.headers) == bare


def test_audio_round_trip():
    rec = encode_audio(CHUNK)
    assert rec.key == b"rec-1"
    assert decode_audio(rec.value, rec.headers) == CHUNK


def test_audio_content_type_is_sniffed_when_the_header_is_absent():
    rec = encode_audio(CHUNK)
    headers = _replace(rec.headers, h.CONTENT_TYPE, None)
    assert decode_audio(rec.value, headers).content_type == "audio/wav"


@pytest.mark.parametrize("name", [h.CAPTURED_AT, h.DEVICE_ID, h.FRAME_ID, h.CONTENT_TYPE, h.SCHEMA])
def test_missing_frame_header_is_named(name):
    rec = encode_frame(FRAME)
    with pytest.raises(MissingHeaderError, match=f"^header {name} missing$"):
        decode_frame(rec.value, _replace(rec.headers, name, None))


def test_no_headers_at_all():
    with pytest.raises(MissingHeaderError, match="header schema missing"):
        decode_frame(FRAME.image, None)


def test_garbled_header_bytes():
    rec = encode_frame(FRAME)
    with pytest.raises(InvalidHeaderError, match="header device_id is not UTF-8 text"):
        decode_frame(rec.value, _replace(rec.headers, h.DEVICE_ID, b"\xff\xfe\x00"))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (h.CAPTURED_AT, b"yesterday", "header captured_at is not an integer: 'yesterday'"),
        (h.CAPTURED_AT, b"12.5", "header captured_at is not an integer: '12.5'"),
        (h.LAT, b"north", "header lat is not a number: 'north'"),
        (h.SCHEMA, b"audio.v1", "header schema is not 'frame.v1': 'audio.v1'"),
    ],
)
def test_wrong_header_type(name, value, message):
    rec = encode_frame(FRAME)
    with pytest.raises(InvalidHeaderError) as info:
        decode_frame(rec.value, _replace(rec.headers, name, value))
    assert str(info.value) == message


def test_audio_sample_rate_must_be_a_positive_integer():
    rec = encode_audio(CHUNK)
    with pytest.raises(InvalidHeaderError, match="header sample_rate is not an integer: '32k'"):
        decode_audio(rec.value, _replace(rec.headers, h.SAMPLE_RATE, b"32k"))
    with pytest.raises(InvalidHeaderError, match="header sample_rate is not a positive integer"):
        decode_audio(rec.value, _replace(rec.headers, h.SAMPLE_RATE, b"0"))


def test_unsupported_content_type():
    rec = encode_frame(FRAME)
    with pytest.raises(UnsupportedContentTypeError) as info:
        decode_frame(rec.value, _replace(rec.headers, h.CONTENT_TYPE, b"image/tiff"))
    assert str(info.value) == "content_type image/tiff not supported"


def test_bytes_that_are_not_what_the_content_type_says():
    rec = encode_frame(FRAME)
    with pytest.raises(ContentMismatchError, match="payload is not image/jpeg: starts with 89504e47"):
        decode_frame(b"\x89PNG\r\n\x1a\n" + b"\0" * 20, rec.headers)


def test_oversize_payload_message_gives_sizes_in_megabytes():
    rec = encode_frame(FRAME)
    big = b"\xff\xd8\xff" + b"\0" * (31 * MB - 3)
    with pytest.raises(PayloadTooLargeError) as info:
        decode_frame(big, rec.headers)
    assert str(info.value) == "payload 31 MB exceeds limit 8 MB"


def test_oversize_is_refused_at_encode_time_too():
    with pytest.raises(PayloadTooLargeError, match="payload 2 MB exceeds limit 1 MB"):
        encode_frame(
            FrameRecord("d", "f", 1, "image/jpeg", b"\xff\xd8\xff" + b"\0" * (2 * MB - 3)), max_payload=MB
        )


def test_empty_payload():
    rec = encode_frame(FRAME)
    with pytest.raises(EmptyPayloadError, match="payload is empty"):
        decode_frame(b"", rec.headers)
    with pytest.raises(EmptyPayloadError):
        decode_frame(None, rec.headers)
