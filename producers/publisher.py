"""The media publisher: a thin, typed wrapper around confluent-kafka's ``Producer``.

:class:`MediaPublisher` sends :class:`~fieldstream.contracts.KafkaRecord` s (key = device id) with
FieldStream's producer defaults (idempotent, ``acks=all``, murmur2 partitioner), counts every
delivery report per topic in :class:`DeliveryStats` (sent / failed / bytes), and keeps the local
queue **bounded**: ``queue.buffering.max.messages`` and ``queue.buffering.max.kbytes`` are set, and
when ``produce`` raises ``BufferError`` (queue full) the publisher serves delivery reports with
``poll`` and retries — the caller blocks instead of memory growing. No network call happens in the
constructor: the client is created on the first ``publish``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Producer

from fieldstream.contracts import KafkaRecord
from fieldstream.kafka.config import MAX_MESSAGE_BYTES, producer_config
from fieldstream.settings import Settings
from producers.config import DEFAULT_MESSAGE_TIMEOUT_MS, DEFAULT_QUEUE_KBYTES, DEFAULT_QUEUE_MESSAGES
from producers.errors import PublishInterruptedError

log = logging.getLogger("producers.publisher")

BACKPRESSURE_POLL_S = 0.05
MAX_KEPT_ERRORS = 10


class ProducerLike(Protocol):
    """The part of ``confluent_kafka.Producer`` the publisher uses (fakes implement it in tests)."""

    def produce(
        self,
        topic: str,
        value: bytes | None = ...,
        key: bytes | None = ...,
        headers: Sequence[tuple[str, bytes]] | None = ...,
        on_delivery: Callable[[KafkaError | None, Any], None] | None = ...,
    ) -> None: ...

    def poll(self, timeout: float = ...) -> int: ...

    def flush(self, timeout: float = ...) -> int: ...

    def __len__(self) -> int: ...


@dataclass
class TopicStats:
    """Delivery reports of one topic: records acknowledged, records failed, payload bytes acknowledged."""

    sent: int = 0
    failed: int = 0
    bytes: int = 0


@dataclass
class DeliveryStats:
    """Counts of the delivery reports seen so far, per topic, plus back-pressure waits and first errors."""

    topics: dict[str, TopicStats] = field(default_factory=dict)
    backpressure_waits: int = 0
    errors: list[str] = field(default_factory=list)

    def topic(self, name: str) -> TopicStats:
        return self.topics.setdefault(name, TopicStats())

    @property
    def sent(self) -> int:
        return sum(t.sent for t in self.topics.values())

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.topics.values())

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.topics.values())

    def fail(self, topic: str, reason: str) -> None:
        self.topic(topic).failed += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(f"{topic}: {reason}")
            log.warning("record not delivered", extra={"topic": topic, "reason": reason})


def _never() -> bool:
    return False


class MediaPublisher:
    """Publishes records with bounded memory and counted delivery reports.

    ``producer_factory`` builds the client from its config dict (default ``confluent_kafka.Producer``;
    tests pass a fake). ``overrides`` go into the client config last.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        queue_messages: int = DEFAULT_QUEUE_MESSAGES,
        queue_kbytes: int = DEFAULT_QUEUE_KBYTES,
        message_timeout_ms: int = DEFAULT_MESSAGE_TIMEOUT_MS,
        producer_factory: Callable[[dict[str, Any]], ProducerLike] = Producer,
        **overrides: Any,
    ) -> None:
        if queue_messages < 1 or queue_kbytes * 1024 < MAX_MESSAGE_BYTES:
            # a record larger than the whole queue would wait for room forever
            raise ValueError(
                f"the local queue must hold at least one message and {MAX_MESSAGE_BYTES // 1024} KiB"
                " (the largest record)"
            )
        self.config = producer_config(
            settings,
            **{
                "queue.buffering.max.messages": queue_messages,
                "queue.buffering.max.kbytes": queue_kbytes,
                "message.timeout.ms": message_timeout_ms,
                **overrides,
            },
        )
        self.stats = DeliveryStats()
        self._factory = producer_factory
        self._producer: ProducerLike | None = None

    @property
    def producer(self) -> ProducerLike:
        if self._producer is None:
            self._producer = self._factory(self.config)
        return self._producer

    def publish(self, topic: str, record: KafkaRecord, should_stop: Callable[[], bool] = _never) -> None:
        """Hand one record to the client; blocks (polling) while the local queue is full.

        Raises :class:`~producers.errors.PublishInterruptedError` when ``should_stop()`` turns true while
        waiting for room. A record the client refuses outright (too large, unknown topic) is counted
        as failed and reported, and the call returns.
        """
        producer = self.producer
        while True:
            try:
                producer.produce(
                    topic,
                    value=record.value,
                    key=record.key,
                    headers=record.headers,
                    on_delivery=self._on_delivery,
                )
                break
            except BufferError:
                self.stats.backpressure_waits += 1
                if should_stop():
                    raise PublishInterruptedError(
                        f"stopped while the local queue was full ({topic})"
                    ) from None
                producer.poll(BACKPRESSURE_POLL_S)
            except KafkaException as exc:
                self.stats.fail(topic, str(exc.args[0] if exc.args else exc))
                break
        producer.poll(0)

    def _on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        topic = msg.topic() if msg is not None else "?"
        if err is not None:
            self.stats.fail(topic, err.str() if hasattr(err, "str") else str(err))
            return
        stats = self.stats.topic(topic)
        stats.sent += 1
        stats.bytes += len(msg.value() or b"")

    def poll(self, timeout_s: float = 0.0) -> None:
        """Serve pending delivery reports."""
        if self._producer is not None:
            self._producer.poll(timeout_s)

    def flush(self, timeout_s: float = 30.0) -> int:
        """Wait up to ``timeout_s`` for every queued record's delivery report; return how many remain."""
        if self._producer is None:
            return 0
        return int(self._producer.flush(timeout_s))
