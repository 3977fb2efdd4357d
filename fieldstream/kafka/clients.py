"""The one place FieldStream builds Kafka clients: a consumer or a producer from the settings, with
the defaults of :mod:`fieldstream.kafka.config` (read-committed, manual commits, idempotence, murmur2).

Constructing a client makes no network call (librdkafka connects in the background).
"""

from __future__ import annotations

import uuid
from typing import Any

from confluent_kafka import Consumer, Producer

from fieldstream.kafka.config import consumer_config, producer_config
from fieldstream.settings import Settings


def new_consumer(settings: Settings, group_id: str, **overrides: Any) -> Consumer:
    """A consumer in ``group_id`` (see :func:`private_group` for a reader of its own)."""
    return Consumer(consumer_config(settings, group_id, **overrides))


def new_producer(settings: Settings, **overrides: Any) -> Producer:
    """An idempotent producer (pass ``transactional.id`` for a transactional one)."""
    return Producer(producer_config(settings, **overrides))


def private_group(purpose: str) -> str:
    """A group id no other process shares, for a reader that commits nothing (e.g. ``model-watch``)."""
    return f"fieldstream-{purpose}-{uuid.uuid4().hex[:12]}"
