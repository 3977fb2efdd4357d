"""Create the declared topics; where partitions end; move a consumer group to the end of its topics."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from fieldstream.kafka.clients import new_consumer, private_group
from fieldstream.settings import Settings
from fieldstream.topics import TopicSpec

log = logging.getLogger("fieldstream.kafka.admin")


def ensure_topics(admin: AdminClient, specs: Iterable[TopicSpec], timeout_s: float = 30.0) -> list[str]:
    """Create each declared topic that does not exist yet; return the names created.

    Existing topics are left as they are (a restart keeps their data and settings).
    """
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    wanted = [s for s in specs if s.name not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [
            NewTopic(
                s.name, num_partitions=s.partitions, replication_factor=s.replication_factor, config=s.config
            )
            for s in wanted
        ],
        request_timeout=timeout_s,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args and exc.args[0].name() == "TOPIC_ALREADY_EXISTS":
                continue
            raise
    log.info("topics created", extra={"topics": created})
    return created


def commit_group_at_end(
    settings: Settings, group: str, topics: Iterable[str], timeout_s: float = 10.0
) -> int:
    """Commit ``group``'s offsets at the current end of every partition of ``topics``, so its next
    consumers read only what is produced from now on (``kafka-consumer-groups --reset-offsets
    --to-latest``). Meant for a group with no live members (a new one); returns the records skipped."""
    consumer = new_consumer(settings, group)
    try:
        marks = partition_watermarks(consumer, topics, timeout_s)
        ends = [TopicPartition(tp.topic, tp.partition, high) for tp, _low, high in marks]
        skipped = sum(high - low for _tp, low, high in marks)
        consumer.commit(offsets=ends, asynchronous=False)
    finally:
        consumer.close()
    log.info("group moved to the end", extra={"group": group, "partitions": len(ends), "skip": skipped})
    return skipped


def end_offsets(settings: Settings, topics: Iterable[str], timeout_s: float = 10.0) -> list[TopicPartition]:
    """Where every partition of ``topics`` ends now (for a read-committed reader: its last
    committed record), in partition order."""
    consumer = new_consumer(settings, private_group("offsets"))
    try:
        return [
            TopicPartition(tp.topic, tp.partition, high)
            for tp, _low, high in partition_watermarks(consumer, topics, timeout_s)
        ]
    finally:
        consumer.close()


def partition_watermarks(
    consumer: Consumer, topics: Iterable[str], timeout_s: float = 10.0
) -> list[tuple[TopicPartition, int, int]]:
    """(partition, low, high) for every partition of ``topics``, in partition order."""
    marks = []
    for topic in topics:
        for partition in sorted(consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions):
            where = TopicPartition(topic, partition)
            marks.append((where, *_watermarks(consumer, where, timeout_s)))
    return marks


def _watermarks(consumer: Consumer, where: TopicPartition, timeout_s: float) -> tuple[int, int]:
    """(low, high) offsets of a partition, retrying the errors of a broker still electing leaders
    (just after topics are created, a broker can answer NOT_LEADER_FOR_PARTITION for a moment)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return consumer.get_watermark_offsets(where, timeout=timeout_s)
        except KafkaException as exc:
            err = exc.args[0]
            electing = err.code() in (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE)
            if not (electing or err.retriable()) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
