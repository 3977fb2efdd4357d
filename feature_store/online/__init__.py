"""The online feature store: the latest features per device and per session, read by workers and agents.

:class:`OnlineStore` is the small interface (write the latest rows, read one entity back);
:class:`RedisOnlineStore` is the Redis implementation. The key layout and value encoding are a
written, versioned spec: ``REDIS_LAYOUT.md`` next to this file, implemented in :mod:`.layout`.
"""

from feature_store.online.layout import LAYOUT_VERSION, FeatureRow, entity_keys, key_for
from feature_store.online.redis_store import RedisOnlineStore
from feature_store.online.store import OnlineStore, OnlineStoreError

__all__ = [
    "LAYOUT_VERSION",
    "FeatureRow",
    "OnlineStore",
    "OnlineStoreError",
    "RedisOnlineStore",
    "entity_keys",
    "key_for",
]
