"""Lag reporting alone: records behind the high watermark over the owned partitions, at most every
few seconds, a Kafka error skipping a report."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from inference_workers.worker.lag import LagReporter


class Consumer:
    def __init__(self, positions: dict[int, int], highs: dict[int, int]) -> None:
        self.positions, self.highs, self.fail = positions, highs, False

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition("t", p) for p in self.positions]

    def position(self, tps: list[TopicPartition]) -> list[TopicPartition]:
        if self.fail:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker down"))
        return [TopicPartition("t", tp.partition, self.positions[tp.partition]) for tp in tps]

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float, cached: bool) -> tuple[int, int]:
        assert cached  # no round trip per partition
        return 0, self.highs[tp.partition]


class Gauge:
    def __init__(self) -> None:
        self.values: list[float] = []

    def set(self, value: float) -> None:
        self.values.append(value)


def test_lag_is_summed_over_partitions_and_reported_at_most_every_few_seconds():
    consumer, gauge = Consumer({0: 10, 1: -1001, 2: 7}, {0: 15, 1: 4, 2: 7}), Gauge()
    reporter = LagReporter(consumer, gauge, every_s=60.0)
    reporter.maybe_report()  # the first call reports at once
    assert gauge.values == [5]  # partition 1 has no position yet (-1001): not counted
    consumer.positions[0] = 0
    reporter.maybe_report()
    assert gauge.values == [5]  # too soon
    reporter.every_s = 0.0
    reporter.maybe_report()
    assert gauge.values == [5, 15]


def test_a_kafka_error_skips_the_report():
    consumer, gauge = Consumer({0: 1}, {0: 3}), Gauge()
    consumer.fail = True
    LagReporter(consumer, gauge, every_s=0.0).maybe_report()
    assert gauge.values == []
