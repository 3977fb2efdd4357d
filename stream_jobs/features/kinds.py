"""Decoding and features per feature stream, on a batch of raw records (no Flink, no I/O: unit-testable).

The feature job's two streams, ``frames`` and ``audio``, are the feature views of the kernel's
modalities (:mod:`fieldstream.modality`): a :class:`MediaKind` takes its raw contract (headers, record
decoder, ids) from its :class:`~fieldstream.modality.Modality` and adds only what the feature job does
differently per stream (media decoding, feature function, batching). :data:`KINDS` is keyed by the
feature view, the value of the job's ``--kinds``.

:func:`score_batch` takes the Kafka values and header lists of one batch and returns one :class:`Scored`
per record, in order: either the record's metadata and features, or the reason it was rejected.
Media decoding is :mod:`fieldstream.media_decoding` (PIL frames, RGB; soundfile chunks, float32 mono): the
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
from fieldstream.contracts import AudioRecord, ContractError, FrameRecord
from fieldstream.contracts import headers as h
from fieldstream.media_decoding import MediaDecodeError, decode_image
from fieldstream.media_decoding import decode_audio as decode_media_audio
from fieldstream.modality import AUDIO as AUDIO_MODALITY
from fieldstream.modality import VISION, Modality
from stream_jobs.features.errors import FeatureComputationError, FutureTimestampError

Headers = list[tuple[str, bytes | None]]
RawRecord = FrameRecord | AudioRecord


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

    @classmethod
    def accepted(cls, record: RawRecord, ids: dict[str, str], id_header: str, payload: bytes) -> Scored:
        """A decoded raw record's metadata (``ids`` as :meth:`Modality.ids` gives them); features come
        later. Fields a record of this modality does not have stay None."""
        return cls(
            ok=True,
            device_id=record.device_id,
            item_id=ids[id_header],
            session_id=ids.get(h.SESSION_ID),
            captured_at=record.captured_at,
            content_type=record.content_type,
            size_bytes=len(payload),
            sample_rate=getattr(record, "sample_rate", None),
            lat=record.lat,
            lon=record.lon,
            speed_mps=getattr(record, "speed_mps", None),
            boom_offset_m=getattr(record, "boom_offset_m", None),
            payload=payload,
        )


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


@dataclass(frozen=True)
class MediaKind:
    """One feature stream: its modality (raw contract, feature view) and what the job does per stream."""

    modality: Modality
    feature_names: tuple[str, ...]
    payload: Callable[[Any], bytes]  # the media bytes of a decoded raw record
    decode_media: Callable[[bytes, Scored], np.ndarray]  # media bytes -> the feature function's input
    group_key: Callable[[Scored, np.ndarray], tuple[Any, ...]]
    compute: Callable[[np.ndarray, Scored], dict[str, np.ndarray]]
    #: records per call of the batch function, by media shape: the block size the feature function cuts
    #: a batch into itself, so a group is never stacked into one big array (a 100-frame stack is a
    #: 92 MB copy that cost ~7% of the UDF) and each call sees exactly the blocks it would have made
    block: Callable[[tuple[int, ...]], int]

    @property
    def name(self) -> str:
        """The feature view (``frames`` | ``audio``): the ``--kinds`` value, the Flink table prefix."""
        return self.modality.view

    @property
    def header_names(self) -> tuple[str, ...]:
        """The raw contract's headers, handed to the UDF one column each."""
        return self.modality.header_names

    @property
    def sessions(self) -> bool:
        """Whether its records belong to a session (audio chunks), kept beside the record id."""
        return h.SESSION_ID in self.modality.header_names

    def decode(self, value: bytes | None, headers: Headers, max_payload: int) -> tuple[Scored, np.ndarray]:
        """Contract check, metadata and decoded media of one raw record (raises ContractError)."""
        record = self.modality.decode_record(value, headers, max_payload)
        payload = self.payload(record)
        scored = Scored.accepted(record, self.modality.ids(record), self.modality.id_header, payload)
        return scored, self.decode_media(payload, scored)


FRAMES = MediaKind(
    VISION,
    FRAME_FEATURE_NAMES,
    lambda record: record.image,
    lambda data, _s: decode_image(data),
    lambda _s, image: image.shape,
    lambda images, _first: frame_features_batch(images),
    lambda shape: max(1, (1 << 19) // max(1, shape[0] * shape[1])),  # frames.py: blocks of ~2**19 pixels
)
AUDIO = MediaKind(
    AUDIO_MODALITY,
    AUDIO_FEATURE_NAMES,
    lambda record: record.audio,
    lambda data, s: decode_waveform(data, int(s.sample_rate or 0)),
    lambda s, wave: (wave.shape[0], s.sample_rate),
    lambda waves, first: audio_features_batch(waves, int(first.sample_rate or 0)),
    lambda _shape: 4,  # audio.py: blocks of 4 chunks
)
#: The feature streams by feature view (``frames``, ``audio``).
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
