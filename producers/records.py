"""What a source hands to the publishing loop: :class:`Outgoing` (no Kafka client imported here, so
that render worker processes stay light)."""

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
