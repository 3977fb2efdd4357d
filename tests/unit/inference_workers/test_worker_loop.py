"""The worker loop against an in-memory Kafka (a partitioned log, a transactional producer that can
fail a commit) and a stand-in model: exactly one committed detection per record when commits fail,
and each commit running while the next batch is inferred. The real-broker runs are in
tests/integration/test_workers.py."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from fieldstream.contracts import FrameRecord, encode_frame
from fieldstream.settings import load_settings
from fieldstream.topics import DEADLETTER, DETECTIONS_VISION, FRAMES_RAW
from inference_workers.runtime.model import Prediction
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.loop import InferenceWorker

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64  # the contract checks the magic; the stand-in model decodes


class Record:
    def __init__(self, partition: int, offset: int, key: bytes, value: bytes, headers: list) -> None:
        self._where = (partition, offset)
        self._key, self._value, self._headers = key, value, headers

    def topic(self) -> str:
        return FRAMES_RAW

    def partition(self) -> int:
        return self._where[0]

    def offset(self) -> int:
        return self._where[1]

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes:
        return self._value

    def headers(self) -> list:
        return self._headers

    def error(self) -> None:
        return None


class Log:
    """A consumer on a partitioned topic: reads up to 5 records a partition per call, starting one
    partition further each call (so a batch mixes partitions, as librdkafka's do), seeks anywhere."""

    def __init__(self, partitions: dict[int, list[Record]]) -> None:
        self.partitions = partitions
        self.next = dict.fromkeys(partitions, 0)
        self.turn = 0

    def consume(self, num_messages: int, timeout: float) -> list[Record]:
        out: list[Record] = []
        order = sorted(self.partitions)
        for k in range(len(order)):
            p = order[(self.turn + k) % len(order)]
            take = min(5, num_messages - len(out), len(self.partitions[p]) - self.next[p])
            out += self.partitions[p][self.next[p] : self.next[p] + take]
            self.next[p] += take
        self.turn += 1
        if not out:
            time.sleep(min(timeout, 0.01))
        return out

    def seek(self, tp: TopicPartition) -> None:
        self.next[tp.partition] = tp.offset

    def consumer_group_metadata(self) -> str:
        return "group"

    def assignment(self) -> list:
        return []

    def position(self, partitions: list) -> list:
        return partitions

    def close(self) -> None:
        pass


class TransactionalProducer:
    """Keeps what committed transactions produced; commit attempts in ``fail`` raise an abortable
    error. Each commit takes ``commit_s``, like a round trip to a broker; their spans are kept."""

    def __init__(self, fail: set[int], commit_s: float = 0.03) -> None:
        self.fail, self.commit_s = fail, commit_s
        self.open: dict[str, Any] | None = None
        self.committed: list[tuple[str, bytes]] = []
        self.offsets: dict[int, int] = {}
        self.attempts = 0
        self.commit_spans: list[tuple[float, float]] = []

    def begin_transaction(self) -> None:
        assert self.open is None, "a transaction began before the previous one was through"
        self.open = {"records": [], "offsets": []}

    def produce(self, topic: str, key: Any = None, value: Any = None, headers: Any = None) -> None:
        assert self.open is not None, "produced outside a transaction"
        self.open["records"].append((topic, value))

    def send_offsets_to_transaction(self, offsets: list, _group: Any, _timeout: float) -> None:
        assert self.open is not None
        self.open["offsets"] = offsets

    def commit_transaction(self, _timeout: float) -> None:
        assert self.open is not None
        self.attempts += 1
        start = time.monotonic()
        time.sleep(self.commit_s)
        self.commit_spans.append((start, time.monotonic()))
        if self.attempts in self.fail:
            raise KafkaException(KafkaError(KafkaError._FAIL, "injected", txn_requires_abort=True))
        self.committed += self.open["records"]
        self.offsets.update({tp.partition: tp.offset for tp in self.open["offsets"]})
        self.open = None

    def abort_transaction(self, _timeout: float) -> None:
        assert self.open is not None
        self.open = None

    def flush(self, _timeout: float) -> int:
        return 0


class StandInModel:
    """What a loaded model version offers the loop, with no model: no detections; each batch takes
    ``infer_s`` and its span is kept."""

    name, version, provider, precision = "vision-detector", "7", "CPUExecutionProvider", "fp32"

    def __init__(self, infer_s: float = 0.01) -> None:
        self.infer_s = infer_s
        self.spans: list[tuple[float, float]] = []

    def decode(self, data: bytes) -> bytes:
        return data

    def predict(self, inputs: list) -> Prediction:
        start = time.monotonic()
        time.sleep(self.infer_s)
        self.spans.append((start, time.monotonic()))
        return Prediction([[] for _ in inputs], {"preprocess": 0.1, "infer": 1.0, "postprocess": 0.1})


def frames(partitions: int, per_partition: int, malformed: set[tuple[int, int]]) -> dict[int, list[Record]]:
    out: dict[int, list[Record]] = {}
    for p in range(partitions):
        out[p] = []
        for o in range(per_partition):
            rec = encode_frame(FrameRecord(f"dev-{p}", f"f-{p}-{o}", 1_700_000_000_000, "image/jpeg", JPEG))
            headers = [] if (p, o) in malformed else rec.headers  # no headers: a contract error
            out[p].append(Record(p, o, rec.key, rec.value, headers))
    return out


def run_worker(tmp_path, partitions: dict[int, list[Record]], fail: set[int], **config: Any):
    model = StandInModel()
    settings = load_settings({}, data_dir=tmp_path)
    worker = InferenceWorker(
        settings,
        WorkerConfig("vision", watch_models=False, attach_features=False, decode_threads=2, **config),
        runtime=model,  # type: ignore[arg-type]
    )
    log, producer = Log(partitions), TransactionalProducer(fail)
    worker._consumer, worker._producer = log, producer  # type: ignore[assignment]
    worker.run(idle_exit_s=0.3)
    worker.close()
    return worker, producer, model


def test_every_record_is_committed_once_when_commits_fail(tmp_path):
    partitions = frames(3, 40, malformed={(1, 5), (2, 33)})
    worker, producer, _ = run_worker(
        tmp_path, partitions, fail={2, 3, 6, 9, 13}, max_batch=8, commit_interval_ms=0
    )
    detections = Counter(json.loads(v)["frame_id"] for t, v in producer.committed if t == DETECTIONS_VISION)
    dead = [v for t, v in producer.committed if t == DEADLETTER]
    expected = {f"f-{p}-{o}" for p in range(3) for o in range(40)} - {"f-1-5", "f-2-33"}
    assert producer.attempts > 13  # the failed commits happened, and were retried
    assert detections == Counter(expected)  # none lost, none doubled
    assert len(dead) == 2
    assert producer.offsets == {0: 40, 1: 40, 2: 40}
    assert worker.processed == 120


def test_a_commit_runs_while_the_next_batch_is_inferred(tmp_path):
    partitions = frames(2, 64, malformed=set())
    _, producer, model = run_worker(tmp_path, partitions, fail=set(), max_batch=8, commit_interval_ms=0)
    assert len(producer.committed) == 128
    # a commit waits for the broker; the model does not wait for it: every commit but the last
    # (no batch after it) overlaps the next batch's inference
    overlapped = [any(i0 < c1 and i1 > c0 for i0, i1 in model.spans) for c0, c1 in producer.commit_spans]
    assert len(overlapped) >= 8 and all(overlapped[:-1]), overlapped
