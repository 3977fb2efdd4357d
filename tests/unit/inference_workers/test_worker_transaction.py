"""The worker's open transaction (offsets to commit, where to rewind) and its commit-interval setting."""

from __future__ import annotations

import pytest

from inference_workers.runtime.loading import load_runtime
from inference_workers.runtime.model import ModelLoadError
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.transaction import OpenTransaction, first_offsets


class FakeMessage:
    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self._tp = (topic, partition, offset)

    def topic(self) -> str:
        return self._tp[0]

    def partition(self) -> int:
        return self._tp[1]

    def offset(self) -> int:
        return self._tp[2]


def _offsets(tps) -> list[tuple[str, int, int]]:
    return [(tp.topic, tp.partition, tp.offset) for tp in tps]


def test_a_transaction_over_several_batches_commits_the_next_offsets_and_rewinds_to_the_first():
    txn = OpenTransaction(started=100.0)
    txn.add([FakeMessage("frames", 0, 10), FakeMessage("frames", 1, 4), FakeMessage("frames", 0, 11)])
    txn.add([FakeMessage("frames", 1, 5), FakeMessage("frames", 2, 0)])
    assert txn.records == 5
    assert _offsets(txn.commit_offsets()) == [("frames", 0, 12), ("frames", 1, 6), ("frames", 2, 1)]
    assert _offsets(txn.rewind_offsets()) == [("frames", 0, 10), ("frames", 1, 4), ("frames", 2, 0)]
    assert txn.age_ms(now=100.25) == pytest.approx(250.0)


def test_offsets_out_of_order_within_a_partition_still_commit_past_the_last():
    txn = OpenTransaction()
    txn.add([FakeMessage("t", 0, 7), FakeMessage("t", 0, 3)])
    assert _offsets(txn.commit_offsets()) == [("t", 0, 8)]
    assert _offsets(txn.rewind_offsets()) == [("t", 0, 3)]


def test_after_an_abort_records_read_ahead_are_read_again_too_never_past_the_transactions_first():
    txn = OpenTransaction()
    txn.add([FakeMessage("t", 0, 20), FakeMessage("t", 0, 21)])
    ahead = [FakeMessage("t", 0, 22), FakeMessage("t", 3, 9), FakeMessage("t", 3, 10)]
    assert _offsets(txn.rewind_offsets(ahead)) == [("t", 0, 20), ("t", 3, 9)]
    assert _offsets(first_offsets(ahead)) == [("t", 0, 22), ("t", 3, 9)]
    assert txn.records == 2  # rewinding does not add to the transaction


def test_commit_interval_must_stay_well_inside_the_transaction_timeout():
    assert WorkerConfig("vision").commit_interval_ms == 100
    assert WorkerConfig("vision", commit_interval_ms=0).commit_interval_ms == 0
    with pytest.raises(ValueError, match="half the transaction timeout"):
        WorkerConfig("vision", commit_interval_ms=6000, transaction_timeout_ms=10_000)
    with pytest.raises(ValueError, match="commit_interval_ms"):
        WorkerConfig("vision", commit_interval_ms=-1)


def test_an_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ModelLoadError, match="auto"):
        load_runtime("models:/vision-detector@champion", "http://127.0.0.1:1", precision="int4")
