"""What a source hands to the publishing loop: :class:`Outgoing` records and :class:`SkippedInput`
notes (no Kafka client imported here, so that render worker processes and the dataset readers stay
light)."""

from __future__ import annotations

from dataclasses import dataclass

from fieldstream.contracts import KafkaRecord


@dataclass(frozen=True)
class Outgoing:
    """One media record for ``topic`` and, when ground truth is known, its ``labels.v1`` record."""

    topic: str
    record: KafkaRecord
    label: KafkaRecord | None = None

    @property
    def device_id(self) -> str:
        return self.record.key.decode()


@dataclass(frozen=True)
class SkippedInput:
    """An input file the replayer could not publish, and why."""

    path: str
    reason: str


#: what a source yields
SourceItem = Outgoing | SkippedInput
