"""The Redis layout of the online store (REDIS_LAYOUT.md, v1): keys, fields, exact round trip."""

from __future__ import annotations

import math

import pytest

from feature_store.online import LAYOUT_VERSION, FeatureRow, entity_keys, key_for
from feature_store.online.layout import decode_fields, encode_fields
from feature_store.online.redis_store import _WRITE_IF_NEWER, RedisOnlineStore


def _row(**kw) -> FeatureRow:
    base = dict(
        view="audio",
        item_id="rec-2-000017",
        device_id="rec-2",
        session_id="rec-2-s0003",
        captured_at=1_790_000_000_123,
        computed_at=1_790_000_000_500,
        feature_set="v1",
        features={"rms_dbfs": -31.25, "aci": 0.1 + 0.2, "h": 1 / 3},
    )
    return FeatureRow(**{**base, **kw})


def test_keys_follow_the_written_spec():
    assert LAYOUT_VERSION == "v1"
    assert key_for("frames", "device", "boom-7") == "fieldstream:v1:frames:device:boom-7"
    assert key_for("audio", "session", "rec:2:s") == "fieldstream:v1:audio:session:rec:2:s"
    assert entity_keys(_row()) == [
        "fieldstream:v1:audio:device:rec-2",
        "fieldstream:v1:audio:session:rec-2-s0003",
    ]
    frame = _row(view="frames", session_id=None, device_id="boom-7")
    assert entity_keys(frame) == ["fieldstream:v1:frames:device:boom-7"]


@pytest.mark.parametrize(
    ("view", "entity", "entity_id"),
    [("frames", "session", "s1"), ("weather", "device", "d"), ("audio", "device", "")],
)
def test_keys_reject_what_the_layout_does_not_have(view, entity, entity_id):
    with pytest.raises(ValueError):
        key_for(view, entity, entity_id)


def test_rows_need_a_known_view_and_audio_a_session():
    with pytest.raises(ValueError, match="unknown feature view"):
        _row(view="video")
    with pytest.raises(ValueError, match="session_id"):
        _row(session_id=None)


def test_fields_round_trip_exactly_through_redis_bytes():
    row = _row(features={"a": 0.1 + 0.2, "b": 1e-300, "c": -0.0, "d": 123456789.123456789, "e": math.pi})
    fields = encode_fields(row)
    assert fields["f:a"] == "0.30000000000000004"
    assert fields["_captured_at"] == "1790000000123"
    assert fields["_item_id"] == "rec-2-000017" and fields["_session_id"] == "rec-2-s0003"
    as_redis_returns = {k.encode(): v.encode() for k, v in fields.items()}
    back = decode_fields("audio", as_redis_returns)
    assert back == row
    assert all(back.features[k] == row.features[k] for k in row.features)  # bit-exact doubles


def test_metadata_fields_cannot_clash_with_feature_names():
    fields = encode_fields(_row(features={"captured_at": 1.0, "item_id": 2.0}))
    assert fields["f:captured_at"] == "1.0" and fields["_captured_at"] == "1790000000123"


def test_the_write_script_is_only_if_newer_with_a_ttl():
    # the ordering rule of REDIS_LAYOUT.md, as the Lua script states it
    assert "new < old or (new == old and ARGV[2] < cur[2])" in _WRITE_IF_NEWER
    assert "PEXPIRE" in _WRITE_IF_NEWER and "DEL" in _WRITE_IF_NEWER


def test_the_store_makes_no_connection_until_used():
    store = RedisOnlineStore.from_url("redis://127.0.0.1:1/0", ttl_s=60)  # nothing listens on port 1
    assert store.write_latest([]) == 0
    with pytest.raises(ValueError):
        RedisOnlineStore.from_url("redis://127.0.0.1:1/0", ttl_s=0)
