"""``LagReporter``: how many records the worker's partitions are behind their end, every few seconds.

Read from the consumer's positions and its cached high watermarks (no extra round trip), into the
``fieldstream_worker_consumer_lag`` gauge. A Kafka error skips the report: it is retried next time.
"""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import KafkaException


class LagReporter:
    def __init__(self, consumer: Any, gauge: Any, every_s: float = 5.0) -> None:
        self._consumer = consumer
        self._gauge = gauge  # a prometheus Gauge (labelled)
        self.every_s = every_s
        self._last = 0.0  # monotonic seconds of the last report: the first call reports

    def maybe_report(self) -> None:
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        lag = 0
        try:
            for tp in self._consumer.position(self._consumer.assignment()):
                _low, high = self._consumer.get_watermark_offsets(tp, timeout=2, cached=True)
                if tp.offset >= 0:
                    lag += max(0, high - tp.offset)
        except KafkaException:
            return
        self._gauge.set(lag)
