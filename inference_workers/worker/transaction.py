"""The input offsets covered by the worker's open Kafka transaction.

A transaction spans one or more micro-batches (``WorkerConfig.commit_interval_ms``): committing it
commits the next offset of every partition it read (with the detections and dead letters it
produced); aborting it means seeking every partition back to the first offset it read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import Message, TopicPartition


@dataclass
class OpenTransaction:
    started: float = field(default_factory=time.monotonic)  # monotonic seconds
    records: int = 0
    first: dict[tuple[str, int], int] = field(default_factory=dict)  # partition -> first offset read
    next: dict[tuple[str, int], int] = field(default_factory=dict)  # partition -> offset to commit

    def add(self, msgs: Iterable[Message]) -> None:
        for m in msgs:
            key, offset = _position(m)
            self.first[key] = min(self.first.get(key, offset), offset)
            self.next[key] = max(self.next.get(key, 0), offset + 1)
            self.records += 1

    def age_ms(self, now: float | None = None) -> float:
        return ((time.monotonic() if now is None else now) - self.started) * 1000

    def commit_offsets(self) -> list[TopicPartition]:
        """What ``send_offsets_to_transaction`` commits: the next offset to read, per partition."""
        return [TopicPartition(t, p, o) for (t, p), o in sorted(self.next.items())]

    def rewind_offsets(self, read_ahead: Iterable[Message] = ()) -> list[TopicPartition]:
        """Where to seek after an abort, so every record of the transaction, and those read after
        it (``read_ahead``), are read again."""
        return first_offsets(read_ahead, self.first)


def first_offsets(
    msgs: Iterable[Message], start: Mapping[tuple[str, int], int] | None = None
) -> list[TopicPartition]:
    """The first offset of ``msgs`` per partition (or the one in ``start`` where that is earlier)."""
    first = dict(start or {})
    for m in msgs:
        key, offset = _position(m)
        first[key] = min(first.get(key, offset), offset)
    return [TopicPartition(t, p, o) for (t, p), o in sorted(first.items())]


def _position(m: Message) -> tuple[tuple[str, int], int]:
    return (m.topic() or "", m.partition() or 0), m.offset() or 0
