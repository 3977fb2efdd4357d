"""Clean stop on Ctrl-C / SIGTERM: :class:`StopSignal`.

While :meth:`StopSignal.installed` is active, SIGINT and SIGTERM only set a flag: the publishing
loop sees it, stops producing, flushes what is queued and prints its summary. A second Ctrl-C
raises ``KeyboardInterrupt`` as usual (to abandon a flush that takes too long). Handlers can only
be installed from the main thread; elsewhere (e.g. a test calling the CLI in a thread) the flag can
still be set by hand.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopSignal:
    """A stop flag set by SIGINT/SIGTERM or :meth:`set`; remembers which signal set it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None

    def set(self, signum: int | None = None) -> None:
        if self.signum is None:
            self.signum = signum
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to ``timeout`` s; True as soon as the flag is set (signals interrupt the sleep)."""
        return self._event.wait(timeout)

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C (the shell convention), else 0 (a SIGTERM stop is a clean stop)."""
        return 130 if self.signum == signal.SIGINT else 0

    @property
    def reason(self) -> str | None:
        if not self.is_set():
            return None
        return signal.Signals(self.signum).name if self.signum is not None else "requested"

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.set(signum)
        if signum == signal.SIGINT:  # a second Ctrl-C interrupts the flush
            signal.signal(signal.SIGINT, signal.default_int_handler)

    @contextmanager
    def installed(self) -> Iterator[StopSignal]:
        """Route SIGINT and SIGTERM to this flag for the duration of the block (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
