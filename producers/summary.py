"""The end-of-run summary of a ``fieldstream produce`` command: one human line, or a JSON object.

Counts come from delivery reports (``sent`` = acknowledged by the broker, ``failed`` = reported
failed or refused by the client, ``undelivered`` = still queued when the final flush timed out).
``bytes`` is the acknowledged payload (record values); MB = 2**20 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fieldstream.settings import MB
from producers.publisher import DeliveryStats
from producers.records import SkippedInput


@dataclass(frozen=True)
class RunSummary:
    command: str
    stats: DeliveryStats
    seconds: float
    skipped: tuple[SkippedInput, ...] = ()
    undelivered: int = 0
    stopped_by: str | None = None
    max_lag_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return self.stats.sent

    @property
    def failed(self) -> int:
        return self.stats.failed

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.undelivered == 0

    def _rate(self, value: float) -> float:
        return value / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "sent": self.sent,
            "failed": self.failed,
            "undelivered": self.undelivered,
            "bytes": self.stats.bytes,
            "seconds": round(self.seconds, 3),
            "records_per_s": round(self._rate(self.sent), 1),
            "mb_per_s": round(self._rate(self.stats.bytes) / MB, 2),
            "topics": {
                name: {"sent": t.sent, "failed": t.failed, "bytes": t.bytes}
                for name, t in sorted(self.stats.topics.items())
            },
            "skipped": len(self.skipped),
            "skipped_files": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "backpressure_waits": self.stats.backpressure_waits,
            "max_lag_s": round(self.max_lag_s, 3),
            "stopped_by": self.stopped_by,
            "errors": list(self.stats.errors),
            **self.extra,
        }

    def line(self) -> str:
        per_topic = ", ".join(f"{t.sent} {name}" for name, t in sorted(self.stats.topics.items()))
        text = (
            f"{self.command}: sent {self.sent}{f' ({per_topic})' if per_topic else ''}, failed {self.failed}"
            f", {self.stats.bytes / MB:.1f} MB in {self.seconds:.1f} s"
            f" ({self._rate(self.sent):.1f} records/s, {self._rate(self.stats.bytes) / MB:.2f} MB/s)"
            f", skipped {len(self.skipped)} file{'' if len(self.skipped) == 1 else 's'}"
        )
        if self.undelivered:
            text += f", {self.undelivered} still undelivered at exit"
        if self.stopped_by:
            text += f"; stopped early by {self.stopped_by}"
        return text
