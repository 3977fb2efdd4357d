"""``Rebalances``: the consumer group's rebalance callbacks, and which partitions the worker owns.

The callbacks run inside ``consume()``, between batches. On a revocation the worker commits what it
processed while the partitions are still its own (their next owner starts exactly after it); when
partitions are lost (the group already gave them to another worker) it aborts instead, since its
transaction may no longer commit offsets for them. Either way the records read but not processed
are dropped: every partition restarts from its committed offset, and the loop sees :attr:`count`
change and drops the batch it read before the rebalance.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import TopicPartition

log = logging.getLogger("fieldstream.worker")


class Rebalances:
    def __init__(self, on_revoke: Callable[[], None], on_lost: Callable[[], None]) -> None:
        self.count = 0  # rebalances that took partitions away, so far
        self._on_revoke = on_revoke
        self._on_lost = on_lost
        self._owned: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def subscribe(self, consumer: Any, topic: str) -> None:
        consumer.subscribe([topic], on_assign=self.assigned, on_revoke=self.revoked, on_lost=self.lost)

    def owned(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs owned now (safe from any thread: kept from the callbacks;
        calling into the consumer while another thread is inside ``consume`` can block)."""
        with self._lock:
            return sorted(self._owned)

    def assigned(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        with self._lock:
            self._owned |= {(tp.topic, tp.partition) for tp in partitions}
        log.info("partitions assigned", extra={"partitions": [tp.partition for tp in partitions]})

    def revoked(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.count += 1
        self._on_revoke()
        self._forget(partitions, "partitions revoked")

    def lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.count += 1
        self._on_lost()
        self._forget(partitions, "partitions lost")

    def _forget(self, partitions: list[TopicPartition], event: str) -> None:
        with self._lock:
            self._owned -= {(tp.topic, tp.partition) for tp in partitions}
        log.info(event, extra={"partitions": [tp.partition for tp in partitions]})
