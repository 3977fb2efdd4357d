"""Rate control: :class:`Pacer`, a fixed per-device publishing schedule.

The ``n``-th record of a device is due ``n * interval_s`` after the pacer's first record (the clock
starts at the first :meth:`Pacer.wait`, so set-up time is not counted). With devices interleaved
round-robin, record ``n`` of every device is due at the same moment, so each device sees exactly
``1 / interval_s`` records a second. The schedule is fixed: a late record is sent at once (the lag
is recorded in ``max_lag_s``) and the records after it keep their original due times, so timestamps
computed from the same schedule (``captured_at``) stay true. ``interval_s=None`` = as fast as possible.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Stopper(Protocol):
    """What the pacer sleeps on: ``wait`` returns True as soon as a stop is requested."""

    def wait(self, timeout: float | None = None) -> bool: ...

    def is_set(self) -> bool: ...


class Pacer:
    """Per-key fixed schedule: ``due(key, n) = start + n * interval_s``."""

    def __init__(self, interval_s: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        if interval_s is not None and not interval_s > 0:
            raise ValueError("interval_s must be positive (or None for no pacing)")
        self.interval_s = interval_s
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._start: float | None = None
        self.max_lag_s = 0.0

    @classmethod
    def per_second(cls, rate: float | None) -> Pacer:
        """``rate`` records a second per key (None or 0: unpaced)."""
        if rate is not None and rate < 0:
            raise ValueError("rate must be >= 0")
        return cls(1.0 / rate if rate else None)

    @property
    def paced(self) -> bool:
        return self.interval_s is not None

    def offset_s(self, key: str) -> float:
        """When the next record of ``key`` is due, in seconds after the schedule's start."""
        return self._counts.get(key, 0) * (self.interval_s or 0.0)

    def wait(self, key: str, stop: Stopper) -> bool:
        """Sleep until the next record of ``key`` is due; False when a stop was requested instead."""
        if self.interval_s is None:
            return not stop.is_set()
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self.offset_s(key)
        self._counts[key] = self._counts.get(key, 0) + 1
        delay = due - now
        if delay > 0:
            return not stop.wait(delay)
        self.max_lag_s = max(self.max_lag_s, -delay)
        return not stop.is_set()
