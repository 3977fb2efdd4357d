"""Kafka admin helpers: watermarks read while a fresh broker is still electing partition leaders."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from fieldstream.kafka.admin import _watermarks


class FlakyConsumer:
    def __init__(self, errors: list[int]) -> None:
        self.errors = list(errors)
        self.calls = 0

    def get_watermark_offsets(self, _where: TopicPartition, timeout: float) -> tuple[int, int]:
        self.calls += 1
        if self.errors:
            raise KafkaException(KafkaError(self.errors.pop(0)))
        return 3, 17


def test_watermarks_wait_out_a_leader_election():
    consumer = FlakyConsumer([KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE])
    assert _watermarks(consumer, TopicPartition("t", 0), timeout_s=5) == (3, 17)
    assert consumer.calls == 3


def test_other_errors_are_raised_at_once():
    consumer = FlakyConsumer([KafkaError.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(KafkaException):
        _watermarks(consumer, TopicPartition("t", 0), timeout_s=5)
    assert consumer.calls == 1
