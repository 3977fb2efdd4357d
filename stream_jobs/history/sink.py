"""The history sink's consumer loop: consume a batch, decode or dead-letter, upsert, commit offsets.

Order per batch: rows upserted in one transaction -> dead letters flushed -> offsets committed. A
crash anywhere before the commit replays the batch, and the upserts make the replay harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from fieldstream.contracts import ContractError
from fieldstream.contracts.messages import decode_message
from fieldstream.kafka.clients import new_consumer, new_producer
from fieldstream.kafka.routing import decode_or_deadletter
from fieldstream.settings import Settings
from stream_jobs.history.metrics import SinkMetrics
from stream_jobs.history.rows import MAPPINGS, Row, TableMapping
from stream_jobs.history.writer import PostgresWriter

log = logging.getLogger("fieldstream.history.sink")


@dataclass(frozen=True)
class HistorySinkConfig:
    group_id: str = "fieldstream-history"
    #: contract topic -> the topic actually read (the same name unless overridden, e.g. in tests)
    topics: Mapping[str, str] = field(default_factory=lambda: {t: t for t in MAPPINGS})
    batch_size: int = 500
    poll_s: float = 0.2


class HistorySink:
    """Run with :meth:`run` until :meth:`stop`; ``stats`` counts what it did."""

    def __init__(self, settings: Settings, config: HistorySinkConfig, metrics: SinkMetrics) -> None:
        unknown = set(config.topics) - set(MAPPINGS)
        if unknown:
            raise ValueError(f"no table mapping for {sorted(unknown)}; known: {sorted(MAPPINGS)}")
        self.settings = settings
        self.config = config
        self.metrics = metrics
        self._by_topic: dict[str, TableMapping] = {
            name: MAPPINGS[kind] for kind, name in config.topics.items()
        }
        self._stop = threading.Event()
        self.assigned = False
        self.last_loop = time.monotonic()
        self.stats = {"messages": 0, "rows": 0, "deadletter": 0}

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        consumer = new_consumer(self.settings, self.config.group_id)
        producer = new_producer(self.settings)
        writer = PostgresWriter(self.settings.postgres_dsn)

        def on_assign(_consumer: Any, partitions: list[Any]) -> None:
            self.assigned = True
            log.info("partitions assigned", extra={"partitions": len(partitions)})

        consumer.subscribe(list(self._by_topic), on_assign=on_assign)
        log.info(
            "history sink consuming", extra={"topics": list(self._by_topic), "group": self.config.group_id}
        )
        try:
            while not self._stop.is_set():
                self.last_loop = time.monotonic()
                messages = consumer.consume(self.config.batch_size, self.config.poll_s)
                if messages:
                    self._handle(messages, consumer, producer, writer)
        finally:
            producer.flush(10)
            consumer.close()
            writer.close()
            log.info("history sink stopped", extra=self.stats)

    def _handle(
        self, messages: list[Any], consumer: Consumer, producer: Producer, writer: PostgresWriter
    ) -> None:
        started = time.perf_counter()
        batches: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], Row]] = {}
        for msg in messages:
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(msg.error())
            topic = msg.topic()
            mapping = self._by_topic[topic]
            self.metrics.consumed.labels(topic).inc()
            self.stats["messages"] += 1
            row = decode_or_deadletter(msg, lambda v, _h, m=mapping: _to_row(m, v), producer)
            if row is None:
                self._rejected(topic)
                continue
            # last one wins inside a batch (one INSERT cannot update the same row twice)
            batches.setdefault((mapping.table, mapping.key), {})[mapping.key_of(row)] = row
        rows = {key: list(by_key.values()) for key, by_key in batches.items()}
        writer.write(rows)
        producer.flush(30)
        consumer.commit(asynchronous=False)
        counts = {table: len(r) for (table, _), r in rows.items()}
        self.stats["rows"] += sum(counts.values())
        self.metrics.track_batch(time.perf_counter() - started, counts)

    def _rejected(self, topic: str) -> None:
        self.metrics.rejected.labels(topic).inc()
        self.stats["deadletter"] += 1


def _to_row(mapping: Any, value: bytes | None) -> Row:
    """A message as its table row; JSON the table cannot hold is a contract error (-> dead letter)."""
    message = decode_message(mapping.schema_topic, value)
    try:
        return mapping.row(message)
    except (KeyError, TypeError, ValueError) as exc:
        raise ContractError(f"cannot map to {mapping.table}: {exc!r}") from exc
