"""Unit tests of MediaPublisher (producers/publisher.py) with a fake confluent-kafka producer:
delivery counting, failures, the bounded queue's back-pressure path, and the publishing loop."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException
from fake_kafka import FakeMessage

from fieldstream.contracts import KafkaRecord
from fieldstream.settings import load_settings
from fieldstream.topics import FRAMES_RAW, LABELS
from producers.errors import PublishInterruptedError
from producers.publish_loop import Outgoing, publish_all, take
from producers.publisher import MediaPublisher
from producers.shutdown import StopSignal
from producers.summary import SkippedInput


class FakeProducer:
    """A producer whose queue holds ``capacity`` records. ``poll(0)`` delivers nothing (the broker is
    slow), ``poll(t > 0)`` delivers the oldest record: values starting with b"bad" fail, b"huge" is
    refused by ``produce`` like librdkafka refuses an oversized record."""

    def __init__(self, config: dict, capacity: int = 3) -> None:
        self.config = config
        self.capacity = capacity
        self.queue: list[tuple[str, bytes, object]] = []
        self.buffer_errors = 0
        self.max_queued = 0

    def produce(self, topic, value=None, key=None, headers=None, on_delivery=None) -> None:
        if value.startswith(b"huge"):
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        if len(self.queue) >= self.capacity:
            self.buffer_errors += 1
            raise BufferError("Local: Queue full")
        self.queue.append((topic, value, on_delivery))
        self.max_queued = max(self.max_queued, len(self.queue))

    def _deliver_one(self) -> None:
        topic, value, callback = self.queue.pop(0)
        err = KafkaError(KafkaError._MSG_TIMED_OUT) if value.startswith(b"bad") else None
        callback(err, FakeMessage(topic, value))

    def poll(self, timeout: float = 0.0) -> int:
        if timeout > 0 and self.queue:
            self._deliver_one()
            return 1
        return 0

    def flush(self, timeout: float = 0.0) -> int:
        while self.queue:
            self._deliver_one()
        return 0

    def __len__(self) -> int:
        return len(self.queue)


def _publisher(capacity: int = 3) -> MediaPublisher:
    return MediaPublisher(
        load_settings({}, kafka_bootstrap="127.0.0.1:1"),
        queue_messages=capacity,
        producer_factory=lambda config: FakeProducer(config, capacity),
    )


def _record(value: bytes, device: str = "boom-0") -> KafkaRecord:
    return KafkaRecord(device.encode(), value, [("device_id", device.encode())])


def test_config_is_idempotent_bounded_and_no_client_is_made_in_the_constructor():
    made = []
    publisher = MediaPublisher(
        load_settings({}, kafka_bootstrap="127.0.0.1:1"),
        queue_messages=500,
        queue_kbytes=20_480,
        producer_factory=lambda config: made.append(config) or FakeProducer(config),
    )
    assert made == []
    config = publisher.config
    assert config["enable.idempotence"] is True and config["acks"] == "all"
    assert config["partitioner"] == "murmur2_random"
    assert config["queue.buffering.max.messages"] == 500
    assert config["queue.buffering.max.kbytes"] == 20_480
    publisher.publish(FRAMES_RAW, _record(b"ok"))
    assert len(made) == 1
    with pytest.raises(ValueError, match="largest record"):
        MediaPublisher(load_settings({}), queue_kbytes=4096)  # an 8 MB frame would never fit


def test_counts_sent_failed_and_bytes_through_backpressure():
    publisher = _publisher(capacity=3)
    values = [(b"bad-%d" if i % 5 == 0 else b"good-%d") % i for i in range(40)]
    for value in values:
        publisher.publish(FRAMES_RAW, _record(value))
    assert publisher.flush(1.0) == 0
    fake = publisher.producer
    good = [v for v in values if v.startswith(b"good")]
    stats = publisher.stats
    assert stats.sent == len(good) == 32
    assert stats.failed == 8
    assert stats.bytes == sum(len(v) for v in good)
    assert stats.topics[FRAMES_RAW].sent == 32
    # the queue filled up: produce raised BufferError, the publisher polled and retried
    assert fake.buffer_errors > 0 and stats.backpressure_waits == fake.buffer_errors
    assert fake.max_queued <= 3
    assert len(stats.errors) == 8 and all("Local: Message timed out" in e for e in stats.errors)


def test_a_record_refused_by_the_client_counts_as_failed_and_the_run_goes_on():
    publisher = _publisher()
    publisher.publish(FRAMES_RAW, _record(b"huge-payload"))
    publisher.publish(FRAMES_RAW, _record(b"good"))
    publisher.flush(1.0)
    assert (publisher.stats.sent, publisher.stats.failed) == (1, 1)
    assert "too large" in publisher.stats.errors[0].lower()


def test_a_stop_while_the_queue_is_full_interrupts_the_wait():
    publisher = _publisher(capacity=1)
    publisher.publish(FRAMES_RAW, _record(b"good-1"))
    with pytest.raises(PublishInterruptedError):
        publisher.publish(FRAMES_RAW, _record(b"good-2"), should_stop=lambda: True)


def _items(n: int, device: str = "boom-0"):
    for i in range(n):
        label = KafkaRecord(device.encode(), b'{"label":%d}' % i, [])
        yield Outgoing(FRAMES_RAW, _record(b"good-%d" % i, device), label)
        if i == 2:
            yield SkippedInput("images/broken.jpg", "corrupt image/jpeg")


def test_publish_all_sends_media_and_labels_and_reports_skipped_inputs():
    publisher = _publisher(capacity=4)
    summary = publish_all("frames", _items(10), publisher)
    assert summary.stats.topics[FRAMES_RAW].sent == 10
    assert summary.stats.topics[LABELS].sent == 10
    assert summary.sent == 20 and summary.failed == 0 and summary.ok
    assert [s.path for s in summary.skipped] == ["images/broken.jpg"]
    out = summary.to_dict()
    assert out["skipped"] == 1 and out["skipped_files"][0]["reason"] == "corrupt image/jpeg"
    assert out["sent"] == 20 and out["topics"][LABELS]["sent"] == 10
    assert {"seconds", "records_per_s", "mb_per_s", "bytes", "failed"} <= set(out)
    assert "sent 20" in summary.line() and "skipped 1 file" in summary.line()


def test_publish_all_stops_on_the_stop_signal_and_still_flushes():
    publisher = _publisher(capacity=2)
    stop = StopSignal()

    def source():
        for i, item in enumerate(_items(100)):
            if i == 5:
                stop.set()
            yield item

    summary = publish_all("frames", source(), publisher, stop=stop)
    assert summary.stopped_by == "requested"
    # items: r0 r1 r2 skip r3 | r4 ...: the stop came while r4 was made, r4 is not published
    assert summary.stats.topics[FRAMES_RAW].sent == 4
    assert len(publisher.producer) == 0 and summary.undelivered == 0


def test_take_counts_records_not_skipped_inputs():
    items = list(take(_items(10), 4))
    assert sum(isinstance(i, Outgoing) for i in items) == 4
    assert sum(isinstance(i, SkippedInput) for i in items) == 1
    assert list(take(_items(10), 0)) == []
