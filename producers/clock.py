"""The wall clock that sources stamp ``captured_at`` with when no start time is given."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Now, as UTC epoch milliseconds."""
    return int(time.time() * 1000)
