"""confluent-kafka client configurations with FieldStream's defaults.

No network call happens here: these are plain dicts a client constructor takes.
"""

from __future__ import annotations

import logging
from typing import Any

from fieldstream.settings import Settings

log = logging.getLogger("fieldstream.kafka")
#: librdkafka's own log lines go through Python logging (structured) instead of raw stderr.
librdkafka_log = logging.getLogger("fieldstream.librdkafka")
#: Room for an 8 MB payload plus headers (matches max.message.bytes of the raw topics).
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def _error_cb(error: Any) -> None:
    log.warning("kafka client error", extra={"kafka_error": str(error)})


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Idempotent producer, murmur2 partitioner (JVM clients such as Flink hash keys the same way)."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "murmur2_random",
        "message.max.bytes": MAX_MESSAGE_BYTES,
        "linger.ms": 5,
        "compression.type": "none",
        "error_cb": _error_cb,
        "logger": librdkafka_log,
        **overrides,
    }


def consumer_config(settings: Settings, group_id: str, **overrides: Any) -> dict[str, Any]:
    """Manual commits, read-committed (transactional producers upstream), quick group joins."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": 6000,
        "fetch.max.bytes": 4 * MAX_MESSAGE_BYTES,
        "max.partition.fetch.bytes": MAX_MESSAGE_BYTES,
        "error_cb": _error_cb,
        "logger": librdkafka_log,
        **overrides,
    }


def admin_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    return {"bootstrap.servers": settings.kafka_bootstrap, "error_cb": _error_cb, **overrides}
