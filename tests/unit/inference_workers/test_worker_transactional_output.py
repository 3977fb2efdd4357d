"""The worker's transactional output alone (a stand-in transactional producer): records and dead
letters join the open transaction, the commit runs on its own thread, a failed commit or produce
aborts and rewinds everything it covered, a fatal error is re-raised."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, KafkaException
from worker_fakes import Log, Record, TransactionalProducer, frames

from fieldstream.contracts import ContractError
from fieldstream.topics import DEADLETTER, DETECTIONS_VISION
from inference_workers.metrics import WorkerMetrics
from inference_workers.worker.transactional_output import TransactionalOutput

RECORDS = frames(2, 4, malformed=set())


class Rewinds(list):
    """The rewinds asked for: (offsets of the records in hand, the transaction's first offsets)."""

    def __call__(self, in_hand, since) -> None:
        self.append(([(m.partition(), m.offset()) for m in in_hand], dict(since)))


def output(producer: TransactionalProducer) -> tuple[TransactionalOutput, Rewinds, WorkerMetrics]:
    rewinds, metrics = Rewinds(), WorkerMetrics("vision")
    out = TransactionalOutput(producer, Log(RECORDS), DETECTIONS_VISION, rewinds, metrics, lambda: "7")
    out.init()
    return out, rewinds, metrics


def detections(msgs: list[Record]) -> Iterator[tuple[bytes | None, bytes]]:
    return ((m.key(), f"detection of {m.partition()}-{m.offset()}".encode()) for m in msgs)


def sample(metrics: WorkerMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"kind": "vision", **labels})


def test_batches_and_their_dead_letters_commit_with_their_offsets_in_one_transaction():
    producer = TransactionalProducer(set(), commit_s=0.0)
    out, rewinds, metrics = output(producer)
    assert producer.initialised and out.pending == 0 and not out.due(0)
    first, second = RECORDS[0][:3], [*RECORDS[1][:3], RECORDS[0][3]]
    assert out.write(first, [], detections(first))
    bad, good = RECORDS[1][2], [m for m in second if m is not RECORDS[1][2]]
    assert out.write(second, [(bad, ContractError("no headers"))], detections(good))
    assert out.pending == 7 and out.due(0)
    assert out.commit()
    topics = [t for t, _ in producer.committed]
    assert topics == [DETECTIONS_VISION] * 3 + [DEADLETTER] + [DETECTIONS_VISION] * 3
    assert producer.offsets == {0: 4, 1: 3}  # the next offset to read, per partition
    assert out.committed == 7 and out.pending == 0 and not out.due(0)
    assert rewinds == []
    assert sample(metrics, "fieldstream_worker_errors_total", reason="deadletter") == 1
    assert sample(metrics, "fieldstream_worker_stage_ms_count", stage="commit", model_version="7") == 1


def test_the_commit_runs_on_its_own_thread_and_finish_commit_waits_for_it():
    producer = TransactionalProducer(set(), commit_s=0.2)
    out, _, _ = output(producer)
    out.write(RECORDS[0], [], detections(RECORDS[0]))
    t0 = time.monotonic()
    out.start_commit()
    assert time.monotonic() - t0 < 0.1  # handed over: the loop goes on with the next batch
    assert out.pending == 4 and out.committed == 0
    assert out.finish_commit()
    assert out.committed == 4 and time.monotonic() - t0 >= 0.2
    assert out.write(RECORDS[1], [], detections(RECORDS[1]))  # a new transaction, after it
    assert out.commit() and out.committed == 8


def test_a_failed_commit_aborts_and_rewinds_its_records_and_the_batch_in_hand():
    producer = TransactionalProducer({1}, commit_s=0.0)
    out, rewinds, metrics = output(producer)
    out.write(RECORDS[0][1:3], [], detections(RECORDS[0][1:3]))
    out.start_commit()
    in_hand = RECORDS[1][:2]
    assert not out.finish_commit(in_hand)
    assert producer.aborts == 1 and producer.committed == [] and out.committed == 0
    assert rewinds == [([(1, 0), (1, 1)], {(RECORDS[0][0].topic(), 0): 1})]
    assert sample(metrics, "fieldstream_worker_errors_total", reason="aborted_batch") == 1
    assert out.pending == 0 and out.commit()  # nothing left open: nothing to commit


def test_a_fatal_commit_error_is_raised_not_rewound():
    producer = TransactionalProducer({1}, commit_s=0.0, fatal=True)
    out, rewinds, _ = output(producer)
    out.write(RECORDS[0], [], detections(RECORDS[0]))
    with pytest.raises(KafkaException, match="injected"):
        out.commit()
    assert rewinds == [] and producer.aborts == 0


class FailingProducer(TransactionalProducer):
    def produce(self, topic, key=None, value=None, headers=None) -> None:
        if self.open is not None and len(self.open["records"]) == 1:
            raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT, "queue full", txn_requires_abort=True))
        super().produce(topic, key, value, headers)


def test_a_failed_produce_aborts_the_transaction_with_every_batch_it_held():
    producer = FailingProducer(set(), commit_s=0.0)
    out, rewinds, _ = output(producer)
    assert out.write(RECORDS[0][:1], [], detections(RECORDS[0][:1]))
    assert not out.write(RECORDS[1][2:], [], detections(RECORDS[1][2:]))
    assert producer.aborts == 1 and out.pending == 0
    assert rewinds == [([], {(RECORDS[0][0].topic(), 0): 0, (RECORDS[0][0].topic(), 1): 2})]


def test_an_error_building_the_records_aborts_and_is_raised():
    producer = TransactionalProducer(set(), commit_s=0.0)
    out, rewinds, _ = output(producer)

    def broken() -> Iterator[tuple[bytes | None, bytes]]:
        yield b"k", b"v"
        raise ValueError("message does not match its schema")

    with pytest.raises(ValueError, match="schema"):
        out.write(RECORDS[0][:2], [], broken())
    assert producer.aborts == 1 and len(rewinds) == 1 and out.pending == 0


def test_abort_gives_up_the_open_transaction_or_just_rewinds_the_batch_in_hand():
    producer = TransactionalProducer(set(), commit_s=0.0)
    out, rewinds, _ = output(producer)
    out.write(RECORDS[0][:2], [], detections(RECORDS[0][:2]))
    out.abort(RECORDS[1][:1])  # a batch that failed before it was produced
    assert producer.aborts == 1
    assert rewinds[-1] == ([(1, 0)], {(RECORDS[0][0].topic(), 0): 0})
    out.abort(RECORDS[1][1:2])  # nothing open: the batch in hand alone is read again
    assert producer.aborts == 1 and rewinds[-1] == ([(1, 1)], {})
    out.close()
