"""Attach the device's latest online features (from Redis) to a detection: the few that explain it.

Best effort by design: no features yet, or Redis down, means a detection without ``features``,
never a failed batch. After a Redis error the reader backs off for a while instead of adding a
timeout to every batch.
"""

from __future__ import annotations

import logging
import time

from feature_store.online.redis_store import RedisOnlineStore

log = logging.getLogger("fieldstream.worker.features")


class OnlineFeatureReader:
    def __init__(
        self, redis_url: str | None, view: str, names: tuple[str, ...], backoff_s: float = 10.0
    ) -> None:
        self.view = view
        self.names = names
        self.backoff_s = backoff_s
        self._store = RedisOnlineStore.from_url(redis_url) if redis_url else None
        self._down_until = 0.0

    def latest(self, device_ids: set[str]) -> dict[str, dict[str, float]]:
        """device id -> {feature: value} for the devices that have features now."""
        if self._store is None or time.monotonic() < self._down_until:
            return {}
        out: dict[str, dict[str, float]] = {}
        try:
            for device in device_ids:
                row = self._store.read_latest(self.view, "device", device)
                if row is not None:
                    out[device] = {n: float(row.features[n]) for n in self.names if n in row.features}
        except Exception as exc:  # redis down, timeouts: skip, say so once per backoff
            self._down_until = time.monotonic() + self.backoff_s
            log.warning(
                "online features unavailable; detections go out without them", extra={"error": str(exc)}
            )
            return {}
        return out
