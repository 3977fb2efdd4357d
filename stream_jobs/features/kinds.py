"""Decoding and features per media kind, on a batch of raw records (no Flink, no I/O: unit-testable).

:func:`score_batch` takes the Kafka values and header lists of one batch and returns one :class:`Scored`
per record, in order: either the record's metadata and features, or the reason it was rejected.
Media decoding is :mod:`fieldstream.media` (PIL frames, RGB; soundfile chunks, float32 mono): the
decoders the workers, the server and training use too. Features are computed per batch with
``feature_store.features``: records of the same shape (frame size; chunk length and sample rate) go
to the batch function together, in the blocks that function would cut the batch into anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feature_store.features import (
    AUDIO_FEATURE_NAMES,
    FRAME_FEATURE_NAMES,
    audio_features_batch,
    frame_features_batch,
)
from fieldstream.contracts import ContractError, decode_audio, decode_frame
from fieldstream.contracts import headers as h
from fieldstream.media import MediaDecodeError, decode_image
from fieldstream.media import decode_audio as decode_media_audio
from stream_jobs.features.errors import FeatureComputationError, FutureTimestampError

Headers = list[tuple[str, bytes | None]]


@dataclass
class Scored:
    """One record after decoding: ``ok`` with metadata and features, or rejected with the reason."""

    ok: bool
    error: str | None = None
    error_type: str | None = None
    device_id: str | None = None
    item_id: str | None = None
    session_id: str | None = None
    captured_at: int | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    sample_rate: int | None = None
    lat: float | None = None
    lon: float | None = None
    speed_mps: float | None = None
    boom_offset_m: float | None = None
    payload: bytes | None = field(default=None, repr=False)
    features: dict[str, float] | None = None

    @classmethod
    def rejected(cls, exc: BaseException) -> Scored:
        return cls(ok=False, error=str(exc), error_type=type(exc).__name__)


def headers_from_columns(names: Sequence[str], columns: Sequence[Sequence[Any]]) -> list[Headers]:
    """Per-record header lists from one column per header name (None = the record lacks it).

    The UDF receives headers as separate BYTES columns: Flink's Arrow bridge fails on MAP columns
    ("Map array child array should have no nulls"), and decoding needs only the contract's headers.
    """
    rows = len(columns[0]) if columns else 0
    return [
        [(name, bytes(col[i])) for name, col in zip(names, columns, strict=True) if col[i] is not None]
        for i in range(rows)
    ]


def decode_waveform(data: bytes, expected_rate: int) -> np.ndarray:
    """WAV/FLAC/OGG bytes -> float32 mono in [-1, 1]; the file's rate must match the header's."""
    mono, rate = decode_media_audio(data)
    if rate != expected_rate:
        raise MediaDecodeError(f"audio is {rate} Hz but header sample_rate says {expected_rate}")
    if mono.size == 0:
        raise MediaDecodeError("audio holds no samples")
    return mono


def _frame(value: bytes | None, headers: Headers, max_payload: int) -> tuple[Scored, np.ndarray]:
    rec = decode_frame(value, headers, max_payload)
    scored = Scored(
        ok=True,
        device_id=rec.device_id,
        item_id=rec.frame_id,
        captured_at=rec.captured_at,
        content_type=rec.content_type,
        size_bytes=len(rec.image),
        lat=rec.lat,
        lon=rec.lon,
        speed_mps=rec.speed_mps,
        boom_offset_m=rec.boom_offset_m,
        payload=rec.image,
    )
    return scored, decode_image(rec.image)


def _chunk(value: bytes | None, headers: Headers, max_payload: int) -> tuple[Scored, np.ndarray]:
    rec = decode_audio(value, headers, max_payload)
    scored = Scored(
        ok=True,
        device_id=rec.device_id,
        item_id=rec.chunk_id,
        session_id=rec.session_id,
        captured_at=rec.captured_at,
        content_type=rec.content_type,
        size_bytes=len(rec.audio),
        sample_rate=rec.sample_rate,
        lat=rec.lat,
        lon=rec.lon,
        payload=rec.audio,
    )
    return scored, decode_waveform(rec.audio, rec.sample_rate)


@dataclass(frozen=True)
class MediaKind:
    """What differs between frames and chunks."""

    name: str  # "frames" | "audio"
    feature_names: tuple[str, ...]
    header_names: tuple[str, ...]  # the contract's headers, handed to the UDF one column each
    decode: Callable[[bytes | None, Headers, int], tuple[Scored, np.ndarray]]
    group_key: Callable[[Scored, np.ndarray], tuple[Any, ...]]
    compute: Callable[[np.ndarray, Scored], dict[str, np.ndarray]]
    #: records per call of the batch function, by media shape: the block size the feature function cuts
    #: a batch into itself, so a group is never stacked into one big array (a 100-frame stack is a
    #: 92 MB copy that cost ~7% of the UDF) and each call sees exactly the blocks it would have made
    block: Callable[[tuple[int, ...]], int]


FRAMES = MediaKind(
    "frames",
    FRAME_FEATURE_NAMES,
    (
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
    _frame,
    lambda _s, image: image.shape,
    lambda images, _first: frame_features_batch(images),
    lambda shape: max(1, (1 << 19) // max(1, shape[0] * shape[1])),  # frames.py: blocks of ~2**19 pixels
)
AUDIO = MediaKind(
    "audio",
    AUDIO_FEATURE_NAMES,
    (
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
    _chunk,
    lambda s, wave: (wave.shape[0], s.sample_rate),
    lambda waves, first: audio_features_batch(waves, int(first.sample_rate or 0)),
    lambda _shape: 4,  # audio.py: blocks of 4 chunks
)
KINDS: dict[str, MediaKind] = {k.name: k for k in (FRAMES, AUDIO)}


def score_batch(
    kind: MediaKind,
    values: Sequence[bytes | None],
    headers: Sequence[Headers],
    *,
    max_payload: int,
    now_ms: int,
    max_future_s: float,
) -> list[Scored]:
    """Decode every record, compute features per same-shape group, keep the input order."""
    out: list[Scored] = []
    groups: dict[tuple[Any, ...], list[tuple[int, np.ndarray]]] = {}
    for index, (value, raw_headers) in enumerate(zip(values, headers, strict=True)):
        try:
            scored, media = kind.decode(
                None if value is None else bytes(value), list(raw_headers), max_payload
            )
            if scored.captured_at is not None and scored.captured_at > now_ms + max_future_s * 1000:
                raise FutureTimestampError(scored.captured_at, now_ms, max_future_s)
        except ContractError as exc:
            out.append(Scored.rejected(exc))
            continue
        out.append(scored)
        groups.setdefault(kind.group_key(scored, media), []).append((index, media))
    for members in groups.values():
        size = kind.block(members[0][1].shape)
        for start in range(0, len(members), size):
            block = members[start : start + size]
            try:
                _compute(kind, out, block)
            except Exception:  # a poison record must not stop the job: retry one by one, reject it
                for member in block:
                    try:
                        _compute(kind, out, [member])
                    except Exception as exc:
                        out[member[0]] = Scored.rejected(FeatureComputationError(f"features failed: {exc}"))
    return out


def _compute(kind: MediaKind, out: list[Scored], members: list[tuple[int, np.ndarray]]) -> None:
    first = out[members[0][0]]
    batch = members[0][1][np.newaxis] if len(members) == 1 else np.stack([media for _, media in members])
    values_by_name = kind.compute(batch, first)
    for row, (index, _) in enumerate(members):
        out[index].features = {name: float(values_by_name[name][row]) for name in kind.feature_names}
