"""Redis key layout and value encoding of the online store, version ``v1`` (spec: REDIS_LAYOUT.md).

Pure functions, no Redis: what key a row lives under and how it is turned into hash fields and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LAYOUT_VERSION = "v1"
KEY_PREFIX = "fieldstream"
#: feature view -> the entities it is stored under
VIEW_ENTITIES: dict[str, tuple[str, ...]] = {"frames": ("device",), "audio": ("device", "session")}
FEATURE_FIELD_PREFIX = "f:"
# Metadata fields start with "_" so they never clash with feature fields ("f:<name>").
CAPTURED_AT = "_captured_at"
COMPUTED_AT = "_computed_at"
ITEM_ID = "_item_id"
DEVICE_ID = "_device_id"
SESSION_ID = "_session_id"
FEATURE_SET = "_feature_set"


@dataclass(frozen=True)
class FeatureRow:
    """One item's features (a frame or a chunk) as the online store holds them."""

    view: str  # "frames" | "audio"
    item_id: str  # frame_id | chunk_id
    device_id: str
    captured_at: int  # UTC epoch ms: the ordering key ("only if newer")
    feature_set: str
    features: Mapping[str, float] = field(default_factory=dict)
    computed_at: int = 0
    session_id: str | None = None

    def __post_init__(self) -> None:
        if self.view not in VIEW_ENTITIES:
            raise ValueError(f"unknown feature view {self.view!r}; expected one of {sorted(VIEW_ENTITIES)}")
        if self.view == "audio" and not self.session_id:
            raise ValueError("an audio row needs a session_id")


def key_for(view: str, entity: str, entity_id: str, prefix: str = KEY_PREFIX) -> str:
    """``fieldstream:v1:<view>:<entity>:<entity_id>``, e.g. ``fieldstream:v1:frames:device:boom-7``."""
    if entity not in VIEW_ENTITIES.get(view, ()):
        raise ValueError(f"view {view!r} is not stored per {entity!r}")
    if not entity_id:
        raise ValueError("entity id must not be empty")
    return f"{prefix}:{LAYOUT_VERSION}:{view}:{entity}:{entity_id}"


def entity_keys(row: FeatureRow, prefix: str = KEY_PREFIX) -> list[str]:
    """Every key a row is written under: its device, and its session for audio."""
    ids = {"device": row.device_id, "session": row.session_id}
    return [key_for(row.view, entity, ids[entity] or "", prefix) for entity in VIEW_ENTITIES[row.view]]


def encode_fields(row: FeatureRow) -> dict[str, str]:
    """Hash fields of a row: ``f:<name>`` -> ``repr(float)`` (shortest exact round trip), metadata in
    ``_``-fields, integers in decimal."""
    out = {
        CAPTURED_AT: str(int(row.captured_at)),
        COMPUTED_AT: str(int(row.computed_at)),
        ITEM_ID: row.item_id,
        DEVICE_ID: row.device_id,
        FEATURE_SET: row.feature_set,
    }
    if row.session_id is not None:
        out[SESSION_ID] = row.session_id
    for name, value in row.features.items():
        out[FEATURE_FIELD_PREFIX + name] = repr(float(value))
    return out


def decode_fields(view: str, fields: Mapping[bytes | str, bytes | str]) -> FeatureRow:
    """The inverse of :func:`encode_fields` (accepts the bytes a Redis client returns)."""
    text = {_text(k): _text(v) for k, v in fields.items()}
    features = {
        k[len(FEATURE_FIELD_PREFIX) :]: float(v)
        for k, v in text.items()
        if k.startswith(FEATURE_FIELD_PREFIX)
    }
    return FeatureRow(
        view=view,
        item_id=text[ITEM_ID],
        device_id=text[DEVICE_ID],
        captured_at=int(text[CAPTURED_AT]),
        computed_at=int(text.get(COMPUTED_AT, "0")),
        feature_set=text[FEATURE_SET],
        features=features,
        session_id=text.get(SESSION_ID),
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
