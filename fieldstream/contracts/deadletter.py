"""The dead-letter helper: republish a rejected record unchanged, with the reason in its headers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fieldstream.contracts import headers as h
from fieldstream.topics import DEADLETTER


class _Producer(Protocol):
    def produce(
        self, topic: str, value: bytes | None = ..., key: bytes | None = ..., **kwargs: object
    ) -> None: ...


def deadletter_headers(
    headers: Sequence[tuple[str, bytes | None]] | None,
    *,
    error: BaseException | str,
    source_topic: str,
    partition: int | None = None,
    offset: int | None = None,
) -> list[tuple[str, bytes]]:
    """The original headers (kept as they came) followed by ``error``, ``error_type``, ``source_*``."""
    out = [(k, v if v is not None else b"") for k, v in headers or ()]
    out.append((h.ERROR, str(error).encode()))
    out.append(
        (h.ERROR_TYPE, (type(error).__name__ if isinstance(error, BaseException) else "Error").encode())
    )
    out.append((h.SOURCE_TOPIC, source_topic.encode()))
    if partition is not None:
        out.append((h.SOURCE_PARTITION, str(partition).encode()))
    if offset is not None:
        out.append((h.SOURCE_OFFSET, str(offset).encode()))
    return out


def send_to_deadletter(
    producer: _Producer,
    *,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    error: BaseException | str,
    source_topic: str,
    partition: int | None = None,
    offset: int | None = None,
    topic: str = DEADLETTER,
) -> None:
    """Produce the record as it came (same key and value) to ``deadletter.v1`` with the reason."""
    producer.produce(
        topic,
        value=value,
        key=key,
        headers=deadletter_headers(
            headers, error=error, source_topic=source_topic, partition=partition, offset=offset
        ),
    )
