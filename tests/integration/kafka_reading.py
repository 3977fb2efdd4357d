"""Test helper: read messages from a consumer until a condition holds or time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer, Message

BATCH = 500


def consume_until(
    consumer: Consumer, done: Callable[[list[Message]], bool], timeout_s: float = 120.0
) -> list[Message]:
    """Everything read until ``done(all messages so far)`` holds (checked after each batch of up to
    500, so a topic holding every earlier test's records is not scanned once per message)."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done(got):
        for msg in consumer.consume(BATCH, 0.5):
            if msg.error():
                raise RuntimeError(f"consumer error: {msg.error()}")
            got.append(msg)
    return got
