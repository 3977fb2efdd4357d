"""Redis implementation of the online store: one hash per entity, replaced only by a newer row.

The "only if newer" rule runs inside Redis as one Lua script per key (atomic, no read-modify-write
race between writers); a batch of rows goes out as one pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from feature_store.online.layout import (
    CAPTURED_AT,
    ITEM_ID,
    KEY_PREFIX,
    FeatureRow,
    decode_fields,
    encode_fields,
    entity_keys,
    key_for,
)
from feature_store.online.store import OnlineStore, OnlineStoreError

DEFAULT_TTL_S = 24 * 3600

# KEYS[1] = entity key; ARGV = captured_at, item_id, ttl_ms, field1, value1, field2, value2, ...
# Newer wins; on equal captured_at the larger item id wins (deterministic whatever the arrival order);
# the same row again rewrites the same values (idempotent). The hash is replaced as a whole.
_WRITE_IF_NEWER = f"""
local cur = redis.call('HMGET', KEYS[1], '{CAPTURED_AT}', '{ITEM_ID}')
if cur[1] then
  local old, new = tonumber(cur[1]), tonumber(ARGV[1])
  if new < old or (new == old and ARGV[2] < cur[2]) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""


class RedisOnlineStore(OnlineStore):
    """Latest features in Redis hashes with a TTL (see REDIS_LAYOUT.md). No connection is made until
    the first call."""

    def __init__(self, client: redis.Redis, ttl_s: float = DEFAULT_TTL_S, prefix: str = KEY_PREFIX) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._client = client
        self._ttl_ms = int(ttl_s * 1000)
        self._prefix = prefix
        self._script = client.register_script(_WRITE_IF_NEWER)

    @classmethod
    def from_url(cls, url: str, ttl_s: float = DEFAULT_TTL_S, prefix: str = KEY_PREFIX) -> RedisOnlineStore:
        return cls(redis.Redis.from_url(url, socket_timeout=10, health_check_interval=30), ttl_s, prefix)

    def write_latest(self, rows: Sequence[FeatureRow]) -> int:
        if not rows:
            return 0
        try:
            pipe = self._client.pipeline(transaction=False)
            for row in rows:
                fields = encode_fields(row)
                args: list[str | int] = [int(row.captured_at), row.item_id, self._ttl_ms]
                for name, value in fields.items():
                    args += [name, value]
                for key in entity_keys(row, self._prefix):
                    self._script(keys=[key], args=args, client=pipe)
            return sum(int(r) for r in pipe.execute())
        except redis.RedisError as exc:
            raise OnlineStoreError(f"writing {len(rows)} rows to Redis failed: {exc}") from exc

    def read_latest(self, view: str, entity: str, entity_id: str) -> FeatureRow | None:
        key = key_for(view, entity, entity_id, self._prefix)
        try:
            fields = self._client.hgetall(key)
        except redis.RedisError as exc:
            raise OnlineStoreError(f"reading {key} from Redis failed: {exc}") from exc
        return decode_fields(view, fields) if fields else None

    def ttl_seconds(self, view: str, entity: str, entity_id: str) -> float | None:
        """Time left before the entity's key expires (None when it does not exist)."""
        ms = self._client.pttl(key_for(view, entity, entity_id, self._prefix))
        return ms / 1000 if ms >= 0 else None

    def close(self) -> None:
        self._client.close()
