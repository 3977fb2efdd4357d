"""An in-memory Kafka for the worker's unit tests: a partitioned log behind a consumer (that can
rebalance), a transactional producer that can fail commits, and a stand-in model."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from fieldstream.contracts import FrameRecord, encode_frame
from fieldstream.topics import FRAMES_RAW
from inference_workers.runtime.model import Prediction

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
    partition further each call (so a batch mixes partitions, as librdkafka's do), seeks anywhere.

    ``rebalances`` (consume call number -> "revoke" | "lost"): at that call every partition is revoked
    (or lost) and assigned again, as a group rebalance does, reading on from ``committed()``."""

    def __init__(
        self,
        partitions: dict[int, list[Record]],
        rebalances: dict[int, str] | None = None,
        committed: Callable[[], dict[int, int]] = dict,
    ) -> None:
        self.partitions = partitions
        self.next = dict.fromkeys(partitions, 0)
        self.turn = 0
        self.calls = 0
        self.rebalances = rebalances or {}
        self.committed = committed
        self.callbacks: dict[str, Callable[[Any, list[TopicPartition]], None]] = {}
        self.subscribed: list[str] = []
        self.closed = False

    def subscribe(self, topics: list[str], **callbacks: Callable[[Any, list[TopicPartition]], None]) -> None:
        self.subscribed = topics
        self.callbacks = callbacks

    def consume(self, num_messages: int, timeout: float) -> list[Record]:
        self.calls += 1
        if self.calls in self.rebalances:
            self._rebalance(self.rebalances[self.calls])
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

    def _rebalance(self, how: str) -> None:
        tps = [TopicPartition(FRAMES_RAW, p) for p in sorted(self.partitions)]
        self.callbacks["on_revoke" if how == "revoke" else "on_lost"](self, tps)
        committed = self.committed()
        self.next = {p: committed.get(p, 0) for p in self.partitions}  # a new assignment: from the commit
        self.callbacks["on_assign"](self, tps)

    def seek(self, tp: TopicPartition) -> None:
        self.next[tp.partition] = tp.offset

    def consumer_group_metadata(self) -> str:
        return "group"

    def assignment(self) -> list:
        return []

    def position(self, partitions: list) -> list:
        return partitions

    def close(self) -> None:
        self.closed = True


class TransactionalProducer:
    """Keeps what committed transactions produced; commit attempts in ``fail`` raise an abortable
    error (``fatal``: a fatal one). Each commit takes ``commit_s``, like a round trip to a broker;
    their spans are kept."""

    def __init__(self, fail: set[int], commit_s: float = 0.03, fatal: bool = False) -> None:
        self.fail, self.commit_s, self.fatal = fail, commit_s, fatal
        self.open: dict[str, Any] | None = None
        self.committed: list[tuple[str, bytes]] = []
        self.offsets: dict[int, int] = {}
        self.attempts = 0
        self.aborts = 0
        self.initialised = False
        self.commit_spans: list[tuple[float, float]] = []

    def init_transactions(self, _timeout: float) -> None:
        self.initialised = True

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
            abortable = not self.fatal
            raise KafkaException(KafkaError(KafkaError._FAIL, "injected", txn_requires_abort=abortable))
        self.committed += self.open["records"]
        self.offsets.update({tp.partition: tp.offset for tp in self.open["offsets"]})
        self.open = None

    def abort_transaction(self, _timeout: float) -> None:
        assert self.open is not None
        self.aborts += 1
        self.open = None

    def flush(self, _timeout: float) -> int:
        return 0


class StandInModel:
    """What a loaded model version offers the loop, with no model: no detections; each batch takes
    ``infer_s`` and its span is kept."""

    name, provider, precision = "vision-detector", "CPUExecutionProvider", "fp32"

    def __init__(self, infer_s: float = 0.01, version: str = "7") -> None:
        self.infer_s = infer_s
        self.version = version
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
