from fieldstream.contracts import MissingHeaderError, send_to_deadletter


class RecordingProducer:
    def __init__(self):
        self.sent = []

    def produce(self, topic, value=None, key=None, **kwargs):
        self.sent.append((topic, key, value, kwargs["headers"]))


def test_deadletter_republishes_unchanged_with_reason():
    producer = RecordingProducer()
    original = [("device_id", b"boom-1"), ("weird", None)]
    send_to_deadletter(
        producer,
        key=b"boom-1",
        value=b"\x00raw",
        headers=original,
        error=MissingHeaderError("captured_at"),
        source_topic="frames.raw.v1",
        partition=3,
        offset=42,
    )
    [(topic, key, value, headers)] = producer.sent
    assert (topic, key, value) == ("deadletter.v1", b"boom-1", b"\x00raw")
    assert headers[:2] == [("device_id", b"boom-1"), ("weird", b"")]
    extra = dict(headers[2:])
    assert extra == {
        "error": b"header captured_at missing",
        "error_type": b"MissingHeaderError",
        "source_topic": b"frames.raw.v1",
        "source_partition": b"3",
        "source_offset": b"42",
    }
