"""Test helper: read messages from a consumer until a condition holds or time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer, Message


def consume_until(
    consumer: Consumer, done: Callable[[list[Message]], bool], timeout_s: float = 120.0
) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done(got):
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            raise RuntimeError(f"consumer error: {msg.error()}")
        got.append(msg)
    return got
