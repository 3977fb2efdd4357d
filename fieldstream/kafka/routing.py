"""Decode a consumed record with its contract, or send it to the dead-letter topic and go on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from fieldstream.contracts import ContractError, send_to_deadletter
from fieldstream.contracts.messages import decode_message
from fieldstream.contracts.raw_media import decode_audio, decode_frame
from fieldstream.topics import AUDIO_RAW, FRAMES_RAW

log = logging.getLogger("fieldstream.kafka.routing")
T = TypeVar("T")


class Message(Protocol):
    """The part of ``confluent_kafka.Message`` used here."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...
    def headers(self) -> list[tuple[str, bytes]] | None: ...


def decoder_for(topic: str, max_payload: int) -> Callable[[bytes | None, Any], Any]:
    """The contract's decoder for a topic: media records for raw topics, JSON Schema for the rest."""
    if topic == FRAMES_RAW:
        return lambda value, headers: decode_frame(value, headers, max_payload)
    if topic == AUDIO_RAW:
        return lambda value, headers: decode_audio(value, headers, max_payload)
    return lambda value, _headers: decode_message(topic, value)


def decode_or_deadletter(
    message: Message, decode: Callable[[bytes | None, Any], T], producer: Any
) -> T | None:
    """``decode(value, headers)``; on a contract error, republish the record to ``deadletter.v1``
    unchanged with the reason, log it with topic/partition/offset, and return None."""
    try:
        return decode(message.value(), message.headers())
    except ContractError as exc:
        reject_to_deadletter(message, exc, producer)
        return None


def reject_to_deadletter(message: Message, error: ContractError, producer: Any) -> None:
    """Republish ``message`` unchanged to ``deadletter.v1`` with ``error`` as the reason, and log it."""
    topic = message.topic() or "?"
    log.warning(
        "record rejected to dead-letter",
        extra={
            "topic": topic,
            "partition": message.partition(),
            "offset": message.offset(),
            "error": str(error),
        },
    )
    send_to_deadletter(
        producer,
        key=message.key(),
        value=message.value(),
        headers=message.headers(),
        error=error,
        source_topic=topic,
        partition=message.partition(),
        offset=message.offset(),
    )
