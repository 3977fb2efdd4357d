"""The input side of the loop alone: batches decoded with the version given between batches (a
broken record kept with its contract error), the batch read ahead, and rewinds that seek every
partition back to the first record that must be read again."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from worker_fakes import Log, StandInModel, frames

from fieldstream.contracts import ContractError
from inference_workers.worker.batches import BatchDecoder
from inference_workers.worker.reader import BatchReader
from inference_workers.worker.work import WORK


def reader(log: Log, versions: list[StandInModel]) -> BatchReader:
    decoder = BatchDecoder(WORK["vision"], 1 << 20, threads=2)
    return BatchReader(log, decoder, max_batch=4, between_batches=lambda: versions[0])


def test_a_batch_decodes_with_the_version_of_its_read_and_keeps_broken_records_apart():
    log = Log(frames(1, 6, malformed={(0, 1)}))
    versions = [StandInModel(version="1")]
    batches = reader(log, versions)
    first = batches.read(0.0)
    versions[0] = StandInModel(version="2")  # swapped in between batches
    second = batches.read(0.0)
    assert first.runtime.version == "1" and second.runtime.version == "2"
    good, rejected = first.results()
    assert [m.offset() for m, _ in good] == [0, 2, 3]
    assert [m.offset() for m, _ in rejected] == [1] and isinstance(rejected[0][1], ContractError)
    assert good[0][1].ids == {"frame_id": "f-0-0"}
    assert [m.offset() for m in second.msgs] == [4, 5]
    batches.close()
    assert log.closed


def test_the_batch_read_ahead_comes_next_and_a_rewind_reads_it_again_with_the_rest():
    log = Log(frames(2, 10, malformed=set()))  # 4 records a read: 4 of partition 0, then of 1
    batches = reader(log, [StandInModel()])
    in_hand = batches.next(0.0)
    batches.read_ahead()
    assert [(m.partition(), m.offset()) for m in in_hand.msgs] == [(0, 0), (0, 1), (0, 2), (0, 3)]
    # a transaction that began at partition 0 offset 0 and partition 1 offset 5 aborted
    batches.rewind(in_hand.msgs, {("frames.raw.v1", 1): 5})
    assert log.next == {0: 0, 1: 0}  # the read-ahead (partition 1 from offset 0) comes again too
    assert batches.drop_ahead() == []  # rewound: dropped
    again = batches.next(0.0)
    assert [(m.partition(), m.offset()) for m in again.msgs] == [(0, 0), (0, 1), (0, 2), (0, 3)]
    batches.read_ahead()
    ahead = batches.next(0.0)  # the batch read ahead, not a new read
    assert [(m.partition(), m.offset()) for m in ahead.msgs] == [(1, 0), (1, 1), (1, 2), (1, 3)]
    batches.close()


def test_a_partition_that_is_no_longer_ours_is_not_sought():
    class Revoked(Log):
        def seek(self, tp: TopicPartition) -> None:
            if tp.partition == 1:
                raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION, "not assigned"))
            super().seek(tp)

    log = Revoked(frames(2, 3, malformed=set()))
    batches = reader(log, [StandInModel()])
    batches.next(0.0)
    batches.rewind([], {("frames.raw.v1", 0): 1, ("frames.raw.v1", 1): 0})
    assert log.next[0] == 1
    batches.close()
