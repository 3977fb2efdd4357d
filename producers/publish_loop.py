"""The publishing loop shared by every ``fieldstream produce`` command.

A *source* is any iterable of :class:`~producers.records.Outgoing` (a media record and, optionally,
its label record for ``labels.v1``; importable from here too) and
:class:`~producers.summary.SkippedInput` (a file a replayer could not use). :func:`publish_all`
paces the records per device, hands them to the :class:`MediaPublisher`, reports skipped inputs on
stderr, stops early on a :class:`StopSignal`, flushes, and returns the :class:`RunSummary`. Sources
do the rendering/decoding lazily, so memory stays bounded. A source with a ``close()`` (a
generator) is closed before the final flush, so whatever it runs (e.g. a pool of render workers) is
shut down on an early stop too.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from tqdm import tqdm

from fieldstream.topics import LABELS
from producers.config import DEFAULT_FLUSH_TIMEOUT_S
from producers.errors import PublishInterruptedError
from producers.pacing import Pacer
from producers.publisher import MediaPublisher
from producers.records import Outgoing, SkippedInput, SourceItem
from producers.shutdown import StopSignal
from producers.summary import RunSummary


class Progress:
    """A tqdm bar on stderr (off when ``enabled`` is False); notes are printed above the bar."""

    def __init__(self, total: int | None, enabled: bool, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._bar = tqdm(
            total=total, unit="rec", file=self._stream, disable=not enabled, dynamic_ncols=True, leave=False
        )

    def update(self, stats_text: str | None = None) -> None:
        self._bar.update(1)
        if stats_text is not None and not self._bar.disable:
            self._bar.set_postfix_str(stats_text, refresh=False)

    def note(self, text: str) -> None:
        if self._bar.disable:
            print(text, file=self._stream, flush=True)
        else:
            self._bar.write(text, file=self._stream)

    def close(self) -> None:
        self._bar.close()


@contextmanager
def progress_bar(total: int | None, enabled: bool) -> Iterator[Progress]:
    """``enabled`` and stderr is a terminal -> a live bar; otherwise notes only."""
    progress = Progress(total, enabled and sys.stderr.isatty())
    try:
        yield progress
    finally:
        progress.close()


def publish_all(
    command: str,
    source: Iterable[SourceItem],
    publisher: MediaPublisher,
    *,
    pacer: Pacer | None = None,
    stop: StopSignal | None = None,
    progress: Progress | None = None,
    flush_timeout_s: float = DEFAULT_FLUSH_TIMEOUT_S,
    extra: dict[str, Any] | None = None,
) -> RunSummary:
    """Publish everything ``source`` yields (until it ends or ``stop`` is set), flush, summarise."""
    pacer = pacer or Pacer(None)
    stop = stop or StopSignal()
    skipped: list[SkippedInput] = []
    started = time.monotonic()
    count = 0
    try:
        for item in source:
            if isinstance(item, SkippedInput):
                skipped.append(item)
                if progress is not None:
                    progress.note(f"skipped {item.path}: {item.reason}")
                continue
            if not pacer.wait(item.device_id, stop):
                break
            publisher.publish(item.topic, item.record, should_stop=stop.is_set)
            if item.label is not None:
                publisher.publish(LABELS, item.label, should_stop=stop.is_set)
            count += 1
            if progress is not None:
                stats = publisher.stats
                progress.update(f"acked={stats.sent} failed={stats.failed}" if count % 25 == 0 else None)
            if stop.is_set():
                break
    except PublishInterruptedError:
        pass
    finally:
        try:
            _close(source)
        finally:
            undelivered = publisher.flush(flush_timeout_s)
    return RunSummary(
        command=command,
        stats=publisher.stats,
        seconds=time.monotonic() - started,
        skipped=tuple(skipped),
        undelivered=undelivered,
        stopped_by=stop.reason,
        max_lag_s=pacer.max_lag_s,
        extra=extra or {},
    )


def _close(source: Iterable[SourceItem]) -> None:
    close = getattr(source, "close", None)
    if callable(close):
        close()


def take(source: Iterable[SourceItem], limit: int) -> Iterator[SourceItem]:
    """``source`` until ``limit`` records were yielded (skipped inputs pass through, uncounted)."""
    if limit <= 0:
        return
    count = 0
    for item in source:
        yield item
        if isinstance(item, Outgoing):
            count += 1
            if count >= limit:
                return
